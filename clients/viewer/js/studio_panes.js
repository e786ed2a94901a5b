// The studio's panes: status bar, products, the flash sale, the orders feed, stream health.
// Each pane draws from what it is given; none talks to the server (studio.js does).

import { countdown, el, money } from './format.js';
import { TEXT } from './texts.js';

const ORDERS_KEEP = 200;
const HEALTH_KEEP = 8;
const LIKES_WINDOW_MS = 60_000;

const $ = (id) => document.getElementById(id);

export class StatusBar {
  constructor() {
    this.likes = []; // [time, count]
    this.publisher = 'offline'; // this studio's stream: connecting, live, reconnecting, offline
    this.roomLive = false; // the room is live, from this studio or another source (OBS …)
  }

  state(state) {
    this.publisher = state;
    this.drawBadge();
  }

  room(live) {
    this.roomLive = live;
    this.drawBadge();
  }

  // The studio's own stream state first; when it is not streaming, the room's.
  drawBadge() {
    const badge = $('live-badge');
    const own = this.publisher !== 'offline';
    const state = own ? this.publisher : this.roomLive ? 'elsewhere' : 'offline';
    badge.dataset.state = state;
    badge.textContent = TEXT.studioBadge[state] || TEXT.studioBadge.offline;
    badge.title = state === 'elsewhere' ? TEXT.liveElsewhere : '';
  }

  viewers(count) {
    $('st-viewers').textContent = String(count);
  }

  addLikes(count) {
    if (count > 0) this.likes.push([Date.now(), count]);
    this.drawLikes();
  }

  drawLikes() {
    const since = Date.now() - LIKES_WINDOW_MS;
    while (this.likes.length && this.likes[0][0] < since) this.likes.shift();
    $('st-likes').textContent = String(this.likes.reduce((sum, [, n]) => sum + n, 0));
  }

  stats(stats) {
    $('st-orders').textContent = String(stats.orders || 0);
    $('st-paid').textContent = String(stats.paid_orders || 0);
    const gmv = Object.entries(stats.gmv_cents || {}).map(([currency, cents]) => money(cents, currency));
    $('st-gmv').textContent = gmv.join(', ') || '0';
  }

  rates(kbps, fps) {
    $('st-kbps').textContent = String(Math.round(kbps));
    $('st-fps').textContent = String(Math.round(fps));
  }
}

export class ProductsPane {
  // actions: {pin(id), sale(product), auction(product), image(id)}
  constructor(actions) {
    this.actions = actions;
    this.products = new Map();
    this.pinned = null;
  }

  set(products) {
    for (const product of products) this.products.set(product.id, product);
    this.draw();
  }

  pin(product) {
    this.products.set(product.id, product);
    this.pinned = product.id;
    this.draw();
  }

  title(id) {
    return this.products.get(id)?.title || id;
  }

  draw() {
    const list = $('products');
    list.replaceChildren();
    for (const product of [...this.products.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const item = el('li');
      item.dataset.id = product.id;
      if (product.id === this.pinned) item.dataset.pinned = '1';
      let thumb;
      if (product.image_url) {
        thumb = el('img');
        thumb.src = product.image_url;
        thumb.alt = '';
      } else {
        thumb = el('span', 'thumb');
      }
      const name = el('span', 'name', TEXT.pair(product.title, money(product.price_cents, product.currency)));
      item.append(thumb, name);
      for (const [label, run] of [
        ['Pin', () => this.actions.pin(product.id)],
        ['Sale', () => this.actions.sale(product)],
        ['Auction', () => this.actions.auction(product)],
        ['Image', () => this.actions.image(product.id)],
      ]) {
        const button = el('button', `product-${label.toLowerCase()}`, label);
        button.type = 'button';
        button.addEventListener('click', run);
        item.append(button);
      }
      list.append(item);
    }
  }
}

export class SalePane {
  constructor(titleOf) {
    this.titleOf = titleOf;
    this.sales = new Map();
    setInterval(() => this.draw(), 1000);
  }

  set(sales) {
    for (const sale of sales) this.sales.set(sale.id, { ...sale });
    this.draw();
  }

  update(id, change) {
    const sale = this.sales.get(id);
    if (!sale) return null;
    const before = sale.left;
    Object.assign(sale, change);
    this.draw();
    return before;
  }

  get(id) {
    return this.sales.get(id);
  }

  current() {
    const sales = [...this.sales.values()];
    const running = sales.filter((s) => s.status === 'open' || s.status === 'scheduled');
    const pool = running.length ? running : sales;
    return pool.sort((a, b) => b.ends_at - a.ends_at)[0] || null;
  }

  draw() {
    const sale = this.current();
    const stop = $('sale-stop');
    if (!sale) {
      stop.disabled = true;
      return;
    }
    const running = sale.status === 'open' || sale.status === 'scheduled';
    $('sale-title').textContent =
      `${this.titleOf(sale.product_id)} at ${money(sale.price_cents, sale.currency)} · ${sale.status}`;
    const bar = $('sale-stock');
    bar.max = Math.max(sale.quantity, 1);
    bar.value = sale.left;
    const ends = running ? TEXT.endsIn(sale.ends_at - Date.now()) : 'ended';
    $('sale-numbers').textContent = `${sale.left}/${sale.quantity} left · ${ends}`;
    stop.disabled = !running;
    stop.dataset.sale = sale.id;
  }
}

export class OrdersFeed {
  add(text) {
    const list = $('orders');
    const time = new Date().toLocaleTimeString(undefined, { hour12: false });
    list.prepend(el('li', '', `${time} ${text}`));
    while (list.children.length > ORDERS_KEEP) list.lastElementChild.remove();
  }
}

export class HealthPane {
  add(text, kind = 'info') {
    const list = $('health');
    const item = el('li', '', `${new Date().toLocaleTimeString(undefined, { hour12: false })} ${text}`);
    item.dataset.kind = kind;
    list.prepend(item);
    while (list.children.length > HEALTH_KEEP) list.lastElementChild.remove();
  }
}
