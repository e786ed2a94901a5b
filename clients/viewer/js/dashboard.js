// The studio dashboard of one room (/studio/rooms/{room}): the funnel with conversion
// between steps, viewers and orders over time with pin and sale markers, retention and the
// product table, the selling formats; a link back to the studio. It polls GET /api/rooms/{room}/analytics once a second while the room is
// not ended (the anchor's, a moderator's or an admin's token), then shows the frozen report.

import { api } from './api.js';
import { mountSignIn, onChange, takeTokenFromFragment, token } from './auth.js';
import { drawArea, drawTimeline, mmss } from './charts.js';
import { renderFormats } from './dashboard_formats.js';
import { el, money } from './format.js';

const POLL_MS = 1000;
const STEPS = [
  ['impressions', 'Impressions'],
  ['entries', 'Entries'],
  ['product_views', 'Product views'],
  ['buy_attempts', 'Buy attempts'],
  ['reserved', 'Reserved'],
  ['paid', 'Paid'],
];
const $ = (id) => document.getElementById(id);
const room = decodeURIComponent(location.pathname.split('/').filter(Boolean)[2] || '');
let timer = null;

function tile(label, value, key = '') {
  const item = el('div', 'tile');
  if (key) item.dataset.tile = key;
  item.append(el('span', 'value', String(value)), el('span', 'label', label));
  return item;
}

// Click-through is the share of the visitors shown the room's card who entered; entries
// by a direct link are shown apart (report.click_through; a report frozen before it was
// kept has only the steps' users, capped at 100 % then).
function clickThrough(report) {
  const through = report.click_through;
  if (through) return { rate: ratio(through.rate), direct: String(through.direct) };
  const { entries, impressions } = report.funnel;
  const rate = impressions.users ? Math.min(1, entries.users / impressions.users) : null;
  return { rate: rate === null ? '–' : ratio(rate), direct: '–' };
}

function ratio(rate) {
  return `${(100 * rate).toFixed(1)} %`;
}

function renderTiles(report) {
  const funnel = report.funnel;
  const gmv = report.currency ? money(report.gmv_cents, report.currency) : '0';
  const gpm = report.currency ? money(report.gpm_cents, report.currency) : '0';
  const through = clickThrough(report);
  $('tiles').replaceChildren(
    tile('unique viewers', funnel.entries.users),
    tile('peak concurrency', report.peak_viewers),
    tile('avg watch', mmss(report.watch.avg_s)),
    tile('median watch', mmss(report.watch.median_s)),
    tile('GMV', gmv),
    tile('GPM (per 1,000 entries)', gpm),
    tile('click-through', through.rate, 'click-through'),
    tile('direct entries', through.direct, 'direct-entries'),
    tile('click-to-order', percent(funnel.reserved.users, funnel.product_views.users)),
  );
}

function percent(part, whole) {
  return whole ? `${((100 * part) / whole).toFixed(1)} %` : '–';
}

function renderFunnel(report) {
  const top = Math.max(1, ...STEPS.map(([key]) => report.funnel[key].users));
  const rows = STEPS.map(([key, label], n) => {
    const counts = report.funnel[key];
    const row = el('div', 'step');
    row.dataset.step = key;
    const track = el('div', 'track');
    const fill = el('div', 'fill');
    fill.style.width = `${(100 * counts.users) / top}%`;
    const count = el('span', 'count', `${counts.users} users · ${counts.total} total`);
    count.dataset.users = String(counts.users);
    track.append(fill, count);
    row.append(el('span', 'name', label), track);
    if (n > 0) {
      const before = report.funnel[STEPS[n - 1][0]].users;
      const step = (report.conversion || []).find((c) => c.to === key);
      const share = step && before ? ratio(step.rate) : percent(counts.users, before);
      row.append(el('span', 'rate', `${share} of ${STEPS[n - 1][1].toLowerCase()}`));
    }
    return row;
  });
  $('funnel').replaceChildren(...rows);
}

function renderProducts(report) {
  const rows = report.products.map((product) => {
    const row = el('tr');
    row.dataset.product = product.product;
    row.append(el('td', '', product.title || product.product));
    for (const key of ['views', 'attempts', 'reserved', 'paid']) row.append(el('td', key, String(product[key])));
    row.append(el('td', 'gmv', product.currency ? money(product.gmv_cents, product.currency) : '0'));
    return row;
  });
  $('products').tBodies[0].replaceChildren(...rows);
}

function render(report) {
  const status = $('dash-status');
  status.textContent = report.frozen ? `${report.status} · final report` : report.status;
  status.dataset.status = report.status;
  renderTiles(report);
  renderFunnel(report);
  drawTimeline($('timeline'), report);
  drawArea($('retention'), report.retention, 'viewers');
  renderProducts(report);
  renderFormats(report);
  document.body.dataset.updated = String(report.generated_at);
}

async function refresh() {
  const signed = token();
  if (!signed) {
    $('dash-note').textContent = 'Sign in with the room anchor’s token (or a moderator’s) to see its analytics.';
    return;
  }
  try {
    const report = await api('GET', `/api/rooms/${encodeURIComponent(room)}/analytics`, { token: signed });
    $('dash-note').textContent = '';
    render(report);
    if (report.status === 'ended') stop();
  } catch (error) {
    $('dash-note').textContent = `Could not load the analytics: ${error.message}`;
    if (error.status === 403 || error.status === 404) stop();
  }
}

function stop() {
  if (timer !== null) clearInterval(timer);
  timer = null;
}

function start() {
  stop();
  refresh();
  timer = setInterval(refresh, POLL_MS);
}

async function downloadCsv(event) {
  event.preventDefault();
  const response = await fetch(`/api/rooms/${encodeURIComponent(room)}/analytics.csv`, {
    headers: { Authorization: `Bearer ${token()}` },
  });
  if (!response.ok) return;
  const link = el('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = `${room}-analytics.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

$('dash-title').textContent = `Room ${room} · analytics`;
$('studio-link').href = `/studio?room=${encodeURIComponent(room)}`;
api('GET', `/api/rooms/${encodeURIComponent(room)}`)
  .then((about) => {
    $('dash-title').textContent = `${about.title} · analytics`;
  })
  .catch(() => {});
$('dash-csv').addEventListener('click', downloadCsv);
takeTokenFromFragment();
mountSignIn($('signin'));
onChange(start);
start();
