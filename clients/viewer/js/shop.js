// The shop: the pinned product, flash sales with countdown and stock, buying, order status.

import { newKey } from './api.js';
import { clock, countdown, el, money } from './format.js';
import { TEXT } from './texts.js';

const REASONS = {
  sold_out: 'Sold out: every unit has been taken.',
  not_enough_stock: 'Not enough stock left for that quantity.',
  limit_reached: 'You have reached the limit per buyer for this sale.',
  sale_ended: 'This sale has ended.',
  sale_not_started: 'This sale has not started yet.',
  sale_not_found: 'This sale no longer exists.',
  banned: TEXT.banned,
};
const ORDER_STATUS = {
  reserved: 'reserved: pay before',
  paid: 'paid. Thank you!',
  cancelled: 'cancelled.',
  expired: 'expired: it was not paid in time.',
};
const BUTTON = { open: 'Buy now', sold_out: 'Sold out', ended: 'Sale ended', scheduled: 'Soon' };
// A buy with no answer by then is sent again with the same key (same answer guaranteed).
const BUY_RESEND_MS = 5000;
// A product card tapped again within this time is not reported as another view.
const VIEW_AGAIN_MS = 10_000;

export class ShopView {
  // actions: {send(frame) -> bool, signedIn() -> bool, needSignIn(retry), buyExtras()?}
  constructor(elements, actions) {
    this.pinnedEl = elements.pinned;
    this.salesEl = elements.sales;
    this.orderEl = elements.order;
    this.noteEl = elements.note;
    this.actions = actions;
    this.products = new Map();
    this.sales = new Map();
    this.pending = new Map(); // key -> {sale, qty, sentAt}
    this.order = null;
    this.viewedAt = new Map(); // product id -> when its view was last reported
    this.pinnedEl.addEventListener('click', () => this.viewed(this.pinnedId));
    setInterval(() => this.tick(), 1000);
  }

  // A product card was opened or tapped: a product view in the seller's funnel.
  viewed(productId) {
    if (!productId) return;
    const last = this.viewedAt.get(productId);
    if (last !== undefined && Date.now() - last < VIEW_AGAIN_MS) return;
    this.viewedAt.set(productId, Date.now());
    this.actions.send({ type: 'view_product', product: productId });
  }

  setProducts(products) {
    for (const product of products) this.products.set(product.id, product);
    this.renderSales();
  }

  setPinned(product) {
    if (product) this.products.set(product.id, product);
    this.pinnedEl.hidden = !product;
    this.pinnedId = product ? product.id : null;
    if (!product) return;
    const body = el('div', 'pinned-text');
    body.append(
      el('span', 'label', 'Pinned'),
      el('h2', 'product-title', product.title),
      el('p', 'price', money(product.price_cents, product.currency)),
    );
    const parts = [];
    if (product.image_url) {
      const img = el('img', 'product-image');
      img.src = product.image_url;
      img.alt = '';
      parts.push(img);
    }
    this.pinnedEl.replaceChildren(...parts, body);
  }

  setSales(sales) {
    this.sales = new Map(sales.map((sale) => [sale.id, sale]));
    this.renderSales();
  }

  upsertSale(sale) {
    this.sales.set(sale.id, { ...this.sales.get(sale.id), ...sale });
    this.renderSales();
  }

  stock(saleId, left) {
    const sale = this.sales.get(saleId);
    if (!sale) return;
    sale.left = left;
    if (left <= 0 && sale.status === 'open') sale.status = 'sold_out';
    this.renderSales();
  }

  soldOut(saleId) {
    this.stock(saleId, 0);
  }

  ended(sale) {
    this.upsertSale({ ...sale, status: 'ended' });
  }

  status(sale) {
    const now = Date.now();
    if (sale.status === 'ended' || now >= sale.ends_at) return 'ended';
    if (now < sale.starts_at) return 'scheduled';
    return sale.left <= 0 ? 'sold_out' : 'open';
  }

  renderSales() {
    const cards = [];
    for (const sale of this.sales.values()) cards.push(this.card(sale));
    this.salesEl.replaceChildren(...cards);
  }

  card(sale) {
    const product = this.products.get(sale.product_id);
    const state = this.status(sale);
    const card = el('article', `sale sale-${state}`);
    card.dataset.sale = sale.id;
    const head = el('div', 'sale-head');
    head.append(el('span', 'label flash', 'Flash sale'), el('span', 'countdown'));
    const title = el('h3', 'product-title', product ? product.title : 'Flash sale item');
    const price = el('p', 'price');
    price.append(el('strong', '', money(sale.price_cents, sale.currency)));
    if (product && product.price_cents > sale.price_cents) {
      price.append(' ', el('s', 'was', money(product.price_cents, product.currency)));
    }
    const bar = el('div', 'stock-bar');
    const fill = el('div', 'stock-fill');
    fill.style.width = `${Math.max(0, Math.min(100, (100 * sale.left) / sale.quantity))}%`;
    bar.append(fill);
    const stock = el('p', 'stock', `${Math.max(0, sale.left)} of ${sale.quantity} left`);
    const buy = el('button', 'buy');
    buy.type = 'button';
    const busy = [...this.pending.values()].some((p) => p.sale === sale.id);
    buy.textContent = busy ? 'Reserving…' : BUTTON[state];
    // Sold out stays pressable: expired or cancelled reservations can return stock.
    buy.disabled = busy || state === 'ended' || state === 'scheduled';
    buy.addEventListener('click', () => this.buy(sale.id));
    // Capture: the view is reported before a tap on the card's buy button buys.
    card.addEventListener('click', () => this.viewed(sale.product_id), true);
    card.append(head, title, price, bar, stock, buy);
    this.updateCountdown(card, sale, state);
    return card;
  }

  updateCountdown(card, sale, state) {
    const target = card.querySelector('.countdown');
    const now = Date.now();
    if (state === 'scheduled') target.textContent = `starts in ${countdown(sale.starts_at - now)}`;
    else if (state === 'ended') target.textContent = 'ended';
    else target.textContent = TEXT.endsIn(sale.ends_at - now);
  }

  tick() {
    let changed = false;
    for (const card of this.salesEl.querySelectorAll('.sale')) {
      const sale = this.sales.get(card.dataset.sale);
      if (!sale) continue;
      const state = this.status(sale);
      if (!card.classList.contains(`sale-${state}`)) changed = true;
      else this.updateCountdown(card, sale, state);
    }
    if (changed) this.renderSales();
    const now = Date.now();
    for (const [key, pending] of this.pending) {
      if (now - pending.sentAt > BUY_RESEND_MS) this.sendBuy(key, pending);
    }
  }

  buy(saleId, qty = 1) {
    if (!this.actions.signedIn()) {
      this.actions.needSignIn(() => this.buy(saleId, qty));
      return;
    }
    const key = newKey();
    this.pending.set(key, { sale: saleId, qty, sentAt: 0 });
    this.say('');
    this.sendBuy(key, this.pending.get(key));
    this.renderSales();
  }

  sendBuy(key, pending) {
    pending.sentAt = Date.now();
    const extras = this.actions.buyExtras ? this.actions.buyExtras() : {};
    this.actions.send({ type: 'buy', sale: pending.sale, qty: pending.qty, key, ...extras });
  }

  // After a reconnect: buys without an answer go again with their keys.
  resendPending() {
    for (const [key, pending] of this.pending) this.sendBuy(key, pending);
  }

  // A refused frame while buying (e.g. sign_in_required) ends the pending buys.
  failPending(message) {
    if (!this.pending.size) return false;
    this.pending.clear();
    this.say(message);
    this.renderSales();
    return true;
  }

  buyResult(frame) {
    const pending = this.pending.get(frame.key);
    if (!pending) return;
    this.pending.delete(frame.key);
    if (frame.ok) {
      const sale = this.sales.get(pending.sale);
      const product = sale && this.products.get(sale.product_id);
      this.say(`Reserved${product ? ': ' + product.title : ''}. Pay before ${clock(frame.expires_at)}.`, 'ok');
      this.showOrder({ id: frame.order, status: 'reserved', expires_at: frame.expires_at });
    } else {
      let text = REASONS[frame.reason] || `The purchase was refused (${frame.reason}).`;
      const sale = this.sales.get(pending.sale);
      if (frame.reason === 'limit_reached' && sale) {
        text = `You have reached this sale's limit of ${sale.per_user_limit} per buyer.`;
      }
      if (frame.reason === 'sold_out') this.soldOut(pending.sale);
      this.say(text, 'bad');
    }
    this.renderSales();
  }

  orderStatus(frame) {
    if (this.order && this.order.id !== frame.id) return;
    this.showOrder({ ...(this.order || {}), id: frame.id, status: frame.status });
  }

  showOrder(order) {
    this.order = order;
    const words = ORDER_STATUS[order.status] || order.status;
    const when = order.status === 'reserved' && order.expires_at ? ` ${clock(order.expires_at)}` : '';
    this.orderEl.hidden = false;
    this.orderEl.dataset.status = order.status;
    this.orderEl.textContent = `Order ${order.id}: ${words}${when}`;
  }

  say(text, kind = '') {
    this.noteEl.textContent = text;
    this.noteEl.dataset.kind = kind;
  }
}
