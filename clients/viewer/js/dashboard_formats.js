// The dashboard's "Selling formats" panel: voucher claims, bids and giveaway entries (unique
// users and totals), the orders, payments and GMV of each order source, and one row per
// voucher, auction and giveaway (report.formats, see docs/analytics.md).

import { el, money } from './format.js';

const STEPS = [
  ['voucher_claims', 'Voucher claims'],
  ['bids', 'Bids'],
  ['giveaway_entries', 'Giveaway entries'],
];
const $ = (id) => document.getElementById(id);

function row(key, cells) {
  const line = el('tr');
  line.dataset.key = key;
  cells.forEach(([className, text], n) => line.append(el(n ? 'td' : 'th', className, String(text))));
  return line;
}

function itemRows(formats, currency) {
  const pay = (cents, cur) => (cur || currency ? money(cents, cur || currency) : String(cents));
  return [
    ...formats.vouchers.map((v) =>
      row(v.voucher, [['', `Voucher · ${v.title}`], ['figure', `${v.claimed} / ${v.quantity} claimed`], ['users', `${v.claimers} users`]])),
    ...formats.auctions.map((a) =>
      row(a.auction, [['', `Auction · ${a.title}`], ['figure', `${a.bids} bids`], ['users', a.winner ? `won at ${pay(a.price_cents, a.currency)}` : '–']])),
    ...formats.giveaways.map((g) =>
      row(g.giveaway, [['', `Giveaway · ${g.title}`], ['figure', `${g.entrants} entrants`], ['users', `${g.winners} winners`]])),
  ];
}

export function renderFormats(report) {
  const formats = report.formats;
  $('formats-panel').hidden = !formats;
  if (!formats) return; // a report frozen before the formats were counted
  $('formats-steps').tBodies[0].replaceChildren(
    ...STEPS.map(([key, label]) =>
      row(key, [['', label], ['users', formats[key].users], ['total', formats[key].total]])),
  );
  const currency = report.currency;
  $('formats-sources').tBodies[0].replaceChildren(
    ...formats.orders.map((source) =>
      row(source.source, [
        ['', source.source],
        ['orders', source.orders],
        ['paid', source.paid],
        ['gmv', currency ? money(source.gmv_cents, currency) : '0'],
      ])),
  );
  $('formats-items').replaceChildren(...itemRows(formats, currency));
}
