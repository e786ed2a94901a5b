// The studio's vouchers, auctions and giveaways: the three forms that start them, the live
// board (stock, leader, countdown, winners and seed) with Pin and End on each row, and the
// lines they add to the orders feed. Calls go through the `call(method, path, body)` it is
// given: a path from `/api/` as is, anything else below the room.

import { countdown, el, money } from './format.js';

const BOARD_KEEP = 50;
const LIVE = new Set(['ready', 'live', 'open', 'drawing']);
const $ = (id) => document.getElementById(id);

const num = (id) => {
  const text = $(id).value.trim();
  return text === '' ? null : Number(text);
};
const minutes = (id) => {
  const value = num(id);
  return value === null ? null : Math.round(value * 60);
};

export class FormatsPane {
  // call(method, path, body) → answer; titleOf(productId) → title; feed(text); note(text, kind)
  constructor({ call, titleOf, feed, note }) {
    Object.assign(this, { call, titleOf, feed, note });
    this.items = new Map(); // "kind:id" → the format as the API gives it, plus `kind`
    this.pinned = null;
    setInterval(() => this.draw(), 1000);
  }

  welcome(formats) {
    this.items.clear();
    for (const kind of ['voucher', 'auction', 'giveaway']) {
      for (const item of formats?.[`${kind}s`] || []) this.put(kind, item);
    }
    if (formats?.pinned_voucher) {
      this.put('voucher', formats.pinned_voucher);
      this.pinned = formats.pinned_voucher.id;
    }
    this.draw();
  }

  put(kind, item) {
    const key = `${kind}:${item.id}`;
    this.items.set(key, { ...(this.items.get(key) || {}), ...item, kind });
    while (this.items.size > BOARD_KEEP) {
      const ended = [...this.items].find(([, v]) => !LIVE.has(v.status));
      this.items.delete(ended ? ended[0] : this.items.keys().next().value);
    }
  }

  update(kind, id, change) {
    this.put(kind, { id, ...change });
    this.draw();
  }

  // A formats broadcast: the board follows it; the lines worth a place in the orders feed.
  apply(f) {
    switch (f.type) {
      case 'voucher_dropped':
      case 'voucher_pinned':
      case 'voucher_ended':
        if (f.type === 'voucher_pinned') this.pinned = f.voucher.id;
        this.update('voucher', f.voucher.id, f.voucher);
        if (f.type !== 'voucher_pinned') this.feed(`Voucher ${f.type === 'voucher_ended' ? 'ended' : 'dropped'}: ${f.voucher.title}`);
        break;
      case 'voucher_stock':
        this.update('voucher', f.voucher, { left: f.left });
        break;
      case 'auction_started':
        this.update('auction', f.auction.id, f.auction);
        break;
      case 'auction_bid':
        this.update('auction', f.auction, { leader: f.leader, amount_cents: f.amount_cents, ends_at: f.ends_at, bids: f.bids });
        break;
      case 'auction_ended':
        this.update('auction', f.auction, { status: 'ended', winner: f.winner, amount_cents: f.amount_cents, no_sale: f.reason || null });
        this.feed(f.winner ? `Auction won by ${f.winner} at ${this.price(this.items.get(`auction:${f.auction}`), f.amount_cents)}` : `Auction ended unsold (${f.reason})`);
        break;
      case 'giveaway_started':
        this.update('giveaway', f.giveaway.id, f.giveaway);
        break;
      case 'giveaway_ended':
        this.update('giveaway', f.giveaway, { status: 'ended', winners: f.winners, seed: f.seed, entrants: f.entrants_count });
        this.feed(`Giveaway: ${f.winners.join(', ') || 'nobody'} won, of ${f.entrants_count} entrants`);
        break;
      default:
        break;
    }
  }

  price(item, cents) {
    return money(cents || 0, item?.currency || 'EUR');
  }

  text(item) {
    const left = (ends) => (ends && LIVE.has(item.status) ? ` · ${countdown(ends - Date.now())} left` : '');
    if (item.kind === 'voucher') {
      const off = item.percent_off ? `${item.percent_off}% off` : `${((item.discount_cents || 0) / 100).toFixed(2)} off`;
      return `Voucher “${item.title}” ${off} · ${item.status} · ${item.left}/${item.quantity} left${left(item.expires_at)}`;
    }
    if (item.kind === 'auction') {
      const what = `Auction ${item.title || this.titleOf(item.product_id)}`;
      if (item.status === 'ended') {
        return item.winner ? `${what} · won by ${item.winner} at ${this.price(item, item.amount_cents)}` : `${what} · ended unsold (${item.no_sale || 'no_bids'})`;
      }
      const lead = item.leader
        ? `${item.leader} leads at ${this.price(item, item.amount_cents)}`
        : `no bids yet, starts at ${this.price(item, item.start_price_cents)}`;
      return `${what} · ${lead} (${item.bids || 0} bids)${left(item.ends_at)}`;
    }
    if (item.status === 'ended') {
      const of = item.entrants === undefined ? '' : ` of ${item.entrants} entrants`;
      return `Giveaway “${item.title}” · won by ${(item.winners || []).join(', ') || 'nobody'}${of} · seed ${item.seed}`;
    }
    return `Giveaway “${item.title}” · ${item.status} · ${item.winners_wanted} to win${left(item.ends_at)}`;
  }

  draw() {
    const list = $('formats');
    if (!list) return;
    const rows = [...this.items.values()].reverse().sort((a, b) => LIVE.has(b.status) - LIVE.has(a.status));
    list.replaceChildren(
      ...rows.map((item) => {
        const row = el('li');
        Object.assign(row.dataset, { kind: item.kind, id: item.id, status: item.status || '' });
        if (item.kind === 'voucher' && item.id === this.pinned) row.dataset.pinned = '1';
        row.append(el('span', 'name', this.text(item)));
        if (LIVE.has(item.status)) {
          if (item.kind === 'voucher') row.append(this.button('Pin', 'format-pin', () => this.act(item, 'pin')));
          row.append(this.button('End', 'format-end', () => this.act(item, 'end')));
        }
        return row;
      }),
    );
  }

  button(label, className, run) {
    const button = el('button', className, label);
    button.type = 'button';
    button.addEventListener('click', run);
    return button;
  }

  async act(item, action) {
    const path = item.kind === 'giveaway' ? `/api/giveaways/${encodeURIComponent(item.id)}/${action}` : `/${item.kind}s/${encodeURIComponent(item.id)}/${action}`;
    await this.run(item.kind, () => this.call('POST', path));
  }

  async run(kind, send) {
    try {
      const answer = await send();
      this.update(kind, answer.id, answer);
      this.note(`${kind[0].toUpperCase()}${kind.slice(1)} ${answer.id}: ${answer.status}.`, 'ok');
      return answer;
    } catch (error) {
      this.note(error.message, 'bad');
      return null;
    }
  }

  // The forms: each opened by its button (the auction's also from a product's row).
  wire() {
    for (const kind of ['voucher', 'auction', 'giveaway']) {
      $(`${kind}-open`).addEventListener('click', () => this.open(kind));
      $(`${kind}-form`).addEventListener('submit', (event) => {
        event.preventDefault();
        this.submit(kind);
      });
    }
  }

  open(kind, product) {
    for (const other of ['voucher', 'auction', 'giveaway']) $(`${other}-form`).hidden = other !== kind;
    if (product) {
      $('auction-product').value = product.id;
      $('auction-start').value = String(product.price_cents);
    }
    $(`${kind}-form`).querySelector('input:not([type=hidden])').focus();
  }

  async submit(kind) {
    const answer = await this.run(kind, () => this.call('POST', kind === 'giveaway' ? '/giveaways' : `/${kind}s`, this.body(kind)));
    if (answer) $(`${kind}-form`).hidden = true;
  }

  body(kind) {
    const drop = (body) => Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null && v !== ''));
    if (kind === 'voucher') {
      const expires = minutes('voucher-minutes');
      return drop({
        title: $('voucher-title').value.trim(),
        discount_cents: num('voucher-off'),
        percent_off: num('voucher-percent'),
        quantity: num('voucher-quantity'),
        per_user_limit: num('voucher-limit'),
        min_spend_cents: num('voucher-min'),
        watch_s_required: minutes('voucher-watch'),
        expires_at: expires === null ? null : Date.now() + expires * 1000,
      });
    }
    if (kind === 'auction') {
      const sudden = $('auction-sudden').checked;
      return drop({
        product_id: $('auction-product').value.trim(),
        start_price_cents: num('auction-start'),
        duration_s: num('auction-seconds'),
        reserve_price_cents: num('auction-reserve'),
        anti_snipe_s: sudden ? null : num('auction-snipe'),
        sudden_death: sudden || null,
      });
    }
    const eligibility = drop({
      watch_s: minutes('giveaway-watch'),
      buyers_only: $('giveaway-buyers').checked,
      keyword: $('giveaway-keyword').value.trim(),
    });
    return drop({
      title: $('giveaway-title').value.trim(),
      winners: num('giveaway-winners'),
      duration_s: minutes('giveaway-minutes'),
      product_id: $('giveaway-product').value.trim(),
      eligibility,
    });
  }
}

// The staff's orders feed line for a `room_order` frame: who reserved, paid, cancelled.
export function orderLine(f, title) {
  const via = f.source && f.source !== 'sale' ? ` (${f.source})` : '';
  return `${f.user}: ${f.qty} × ${title} ${f.status} · ${money(f.amount_cents, f.currency)}${via}`;
}
