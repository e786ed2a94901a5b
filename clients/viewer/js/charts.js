// Inline SVG charts for the studio dashboard (no library, no CDN): a timeline of viewers
// with order bars and pin/sale markers, and an area chart.

const NS = 'http://www.w3.org/2000/svg';
const W = 600;
const H = 180;
const PAD = { left: 30, right: 8, top: 10, bottom: 20 };

function node(tag, attrs = {}, className = '') {
  const item = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) item.setAttribute(name, String(value));
  if (className) item.setAttribute('class', className);
  return item;
}

function frame(span, top) {
  const svg = node('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img' });
  const x = (t) => PAD.left + ((W - PAD.left - PAD.right) * t) / span;
  const y = (v) => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * v) / top;
  svg.append(
    node('line', { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom }, 'axis'),
    node('line', { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom }, 'axis'),
  );
  const label = node('text', { x: 2, y: PAD.top + 8 }, 'tick');
  label.textContent = String(top);
  svg.append(label);
  for (let n = 0; n <= 4; n += 1) {
    const t = Math.round((span * n) / 4);
    const tick = node('text', { x: Math.min(x(t), W - 40), y: H - 4 }, 'tick');
    tick.textContent = mmss(t);
    svg.append(tick);
  }
  return { svg, x, y };
}

export function mmss(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function spanOf(rows) {
  return Math.max(60, rows.length ? rows[rows.length - 1].t + 10 : 0);
}

// A step line: each 10 s slot's value held across the slot.
function line(rows, key, x, y) {
  return rows
    .map((row, n) => {
      const level = y(row[key]).toFixed(1);
      return `${n ? 'L' : 'M'}${x(row.t).toFixed(1)},${level} L${x(row.t + 10).toFixed(1)},${level}`;
    })
    .join(' ');
}

// viewers (line), reserved and paid orders (bars) per 10 s; pins, sales, voucher drops,
// auctions and giveaways (dashed lines).
export function drawTimeline(container, report) {
  const viewers = report.retention;
  const orders = report.orders;
  const span = spanOf(viewers);
  const top = Math.max(1, ...viewers.map((r) => r.viewers), ...orders.map((r) => r.reserved));
  const { svg, x, y } = frame(span, top);
  const width = Math.max(1, x(10) - x(0) - 2) / 2;
  for (const row of orders) {
    if (row.reserved) svg.append(node('rect', bar(x(row.t) + 1, y(row.reserved), width, y), 'orders'));
    if (row.paid) svg.append(node('rect', bar(x(row.t) + 1 + width, y(row.paid), width, y), 'paid'));
  }
  if (viewers.length) svg.append(node('path', { d: line(viewers, 'viewers', x, y) }, 'viewers'));
  for (const mark of report.markers) {
    const at = x(Math.max(0, mark.t));
    const kind = `marker-${mark.type.split('_')[0]}`; // pin, sale, voucher, auction, giveaway
    const rule = node('line', { x1: at, x2: at, y1: PAD.top, y2: H - PAD.bottom }, kind);
    const title = node('title');
    title.textContent = `${mark.type.replace('_', ' ')} ${mark.product || mark.voucher || ''} at ${mmss(mark.t)}`;
    rule.append(title);
    rule.dataset.type = mark.type;
    svg.append(rule);
  }
  container.replaceChildren(svg);
}

function bar(left, top, width, y) {
  return { x: left.toFixed(1), y: top.toFixed(1), width: width.toFixed(1), height: (y(0) - top).toFixed(1) };
}

// One series as a filled area (retention).
export function drawArea(container, rows, key) {
  const span = spanOf(rows);
  const top = Math.max(1, ...rows.map((r) => r[key]));
  const { svg, x, y } = frame(span, top);
  if (rows.length) {
    const path = line(rows, key, x, y);
    const last = rows[rows.length - 1];
    const d = `${path} L${x(last.t + 10).toFixed(1)},${y(0)} L${x(rows[0].t).toFixed(1)},${y(0)} Z`;
    svg.append(node('path', { d }, 'area'));
  }
  container.replaceChildren(svg);
}
