// <livecommerce-room server room token>: a live room (player, chat, pinned product, flash
// sales with a buy button, vouchers to claim, auctions to bid on, giveaways to enter) inside
// any page, in a shadow root. `server` defaults to the origin
// this module was loaded from; `token` (a viewer token from your backend) is needed to chat,
// like and buy, and may be set or changed at any time. The host page's origin must be in the
// server's `server.cors_origins`.
//
// Events (bubbling, composed): `livecommerce-state` {channel, player}, `livecommerce-signin`
// (an action needs a token: set the attribute), `livecommerce-order` {order, expires_at}.
// Parts for ::part() styling: player, video, status, shop, pinned, sales, sale, buy, note,
// order, chat, messages, message, chat-form, chat-input, like, counts, vouchers, voucher,
// claim, auctions, auction, bid, giveaways, giveaway, enter.

import { FORMAT_FRAMES, FormatCards } from './cards.js';
import { buyOutcome, clock, money, saleState } from './format.js';
import { LiveRoom } from './room.js';
import { RestClient } from './rest.js';
import { WhepPlayer, whepUrl } from './player.js';

const STYLE = `
:host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1d1d1f; }
.wrap { display: grid; gap: 8px; grid-template-columns: minmax(0, 2fr) minmax(220px, 1fr); }
@media (max-width: 640px) { .wrap { grid-template-columns: 1fr; } }
.player { position: relative; background: #000; border-radius: 8px; overflow: hidden; }
video { width: 100%; display: block; aspect-ratio: 16 / 9; }
.status { position: absolute; inset: auto 8px 8px 8px; margin: 0; color: #fff; }
.counts { position: absolute; top: 8px; left: 8px; color: #fff; font-size: 12px; }
.unmute { position: absolute; top: 8px; right: 8px; }
.side { display: flex; flex-direction: column; gap: 8px; min-width: 0; }
.pinned, .sale, .auction, .giveaway { border: 1px solid #ddd; border-radius: 8px; padding: 8px; }
.voucher { display: flex; gap: 6px; align-items: center; border: 1px dashed #c9302c;
  border-radius: 16px; padding: 2px 4px 2px 10px; }
.voucher-title { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; }
.countdown { float: right; font-variant-numeric: tabular-nums; }
.auction h3, .giveaway h3 { margin: 0; font-size: 15px; }
.pinned img { max-width: 64px; float: left; margin-right: 8px; }
.sale h3, .pinned h2 { margin: 0; font-size: 15px; }
.messages { list-style: none; margin: 0; padding: 0; max-height: 220px; overflow-y: auto; }
.message b { margin-right: 4px; }
.notice { color: #666; font-style: italic; }
.note[data-kind=bad] { color: #b00020; }
.note[data-kind=ok] { color: #05703a; }
form { display: flex; gap: 4px; }
input { flex: 1; min-width: 0; }
`;

function el(tag, part, text) {
  const element = document.createElement(tag);
  if (part) {
    element.setAttribute('part', part);
    element.className = part;
  }
  if (text !== undefined) element.textContent = text;
  return element;
}

function adoptStyle(root) {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
  } catch {
    root.append(el('style', '', STYLE));
  }
}

const DEFAULT_SERVER = new URL(import.meta.url).origin;
const MAX_LINES = 200;

export class LiveCommerceRoomElement extends HTMLElement {
  static get observedAttributes() {
    return ['server', 'room', 'token'];
  }

  constructor() {
    super();
    this.parts = null;
    this.liveRoom = null;
    this.player = null;
    this.products = new Map();
    this.sales = new Map();
    this.ticker = null;
  }

  get server() {
    return this.getAttribute('server') || DEFAULT_SERVER;
  }

  get token() {
    return this.getAttribute('token') || null;
  }

  connectedCallback() {
    if (!this.parts) this.build();
    this.start();
  }

  disconnectedCallback() {
    this.stop();
  }

  attributeChangedCallback(name, before, after) {
    if (before === after || !this.liveRoom) return;
    if (name === 'token') {
      this.liveRoom.setToken(() => this.token);
      if (this.dataset.player !== 'playing') this.player.restart();
    } else {
      this.stop();
      this.start();
    }
  }

  build() {
    const root = this.attachShadow({ mode: 'open' });
    adoptStyle(root);
    const p = {};
    const names = ['player', 'status', 'counts', 'shop', 'pinned', 'sales', 'note', 'order'];
    for (const name of [...names, 'vouchers', 'auctions', 'giveaways']) {
      p[name] = el(name === 'shop' ? 'section' : 'div', name);
    }
    p.video = el('video', 'video');
    Object.assign(p.video, { autoplay: true, muted: true, playsInline: true });
    p.unmute = el('button', 'unmute', 'Tap to unmute');
    p.unmute.type = 'button';
    p.unmute.addEventListener('click', () => {
      p.video.muted = !p.video.muted;
      if (!p.video.muted) p.video.play().catch(() => {});
      p.unmute.textContent = p.video.muted ? 'Tap to unmute' : 'Mute';
    });
    p.player.append(p.video, p.counts, p.unmute, p.status);
    p.pinned.hidden = true;
    p.order.hidden = true;
    p.shop.append(p.pinned, p.vouchers, p.sales, p.auctions, p.giveaways, p.note, p.order);
    this.cards = new FormatCards({ vouchers: p.vouchers, auctions: p.auctions, giveaways: p.giveaways }, el, this);
    p.chat = el('section', 'chat');
    p.messages = el('ul', 'messages');
    p.form = el('form', 'chat-form');
    p.input = el('input', 'chat-input');
    Object.assign(p.input, { maxLength: 500, placeholder: 'Say something…', autocomplete: 'off' });
    p.input.setAttribute('aria-label', 'Chat message');
    const send = el('button', 'send', 'Send');
    p.like = el('button', 'like', '♥ Like');
    p.like.type = 'button';
    p.form.append(p.input, send, p.like);
    p.chat.append(p.messages, p.form);
    p.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = p.input.value.trim();
      if (text && this.requireToken()) {
        this.liveRoom.chat(text);
        p.input.value = '';
      }
    });
    p.like.addEventListener('click', () => this.requireToken() && this.liveRoom.like(1));
    const side = el('div', 'side');
    side.append(p.shop, p.chat);
    const wrap = el('div', 'wrap');
    wrap.append(p.player, side);
    root.append(wrap);
    this.parts = p;
  }

  start() {
    const room = this.getAttribute('room');
    if (!room || this.liveRoom) return;
    const server = this.server;
    const rest = new RestClient({ server });
    rest.products(room).then(
      (answer) => this.setProducts(answer.products),
      () => {},
    );
    this.liveRoom = new LiveRoom({ server, room, token: () => this.token });
    this.listen(this.liveRoom, rest);
    this.player = new WhepPlayer(
      this.parts.video,
      whepUrl(server, room),
      () => this.token,
      (state, detail) => {
        this.parts.status.hidden = state === 'playing';
        this.parts.status.textContent = state === 'connecting' ? 'Connecting…' : detail || '';
        this.signal('player', state);
      },
    );
    this.liveRoom.connect();
    this.player.start();
    // Sales open and end by the clock: redraw when one changes state, not every second
    // (a redraw under a finger pressing Buy would lose the click).
    this.ticker = setInterval(() => {
      this.redrawChangedSales();
      this.cards.tick();
    }, 1000);
  }

  stop() {
    clearInterval(this.ticker);
    if (this.liveRoom) this.liveRoom.close();
    if (this.player) this.player.stop();
    this.liveRoom = null;
    this.player = null;
  }

  signal(what, state) {
    this.dataset[what] = state;
    const detail = { channel: this.dataset.channel, player: this.dataset.player };
    this.dispatchEvent(new CustomEvent('livecommerce-state', { detail, bubbles: true, composed: true }));
  }

  me() {
    return this.you || null;
  }

  requireToken() {
    if (this.token) return true;
    this.say('Sign in to take part.', 'bad');
    this.dispatchEvent(new CustomEvent('livecommerce-signin', { bubbles: true, composed: true }));
    return false;
  }

  listen(live, rest) {
    const p = this.parts;
    live.on('state', ({ state }) => {
      this.signal('channel', state);
      if (state === 'room_ended') this.ended();
      if (state === 'banned') this.say('You are banned from this room.', 'bad');
      if (state === 'no_room') this.say('There is no such room.', 'bad');
    });
    live.on('welcome', (f) => {
      this.counts(f.viewers, f.likes);
      if (!f.resumed) p.messages.replaceChildren();
      for (const message of f.messages) this.line(message);
      this.setPinned(f.pinned_product);
      this.sales = new Map(f.sales.map((sale) => [sale.id, sale]));
      this.renderSales();
      this.you = f.you.user;
      this.cards.snapshot(f.formats);
    });
    for (const type of FORMAT_FRAMES) live.on(type, (f) => this.cards.handle(f));
    live.on('chat', (f) => this.line(f));
    live.on('chat_deleted', (f) => p.messages.querySelector(`[data-id="${CSS.escape(f.id)}"]`)?.remove());
    live.on('likes', (f) => this.counts(undefined, f.total));
    live.on('viewers', (f) => this.counts(f.count, undefined));
    live.on('live', () => this.player && this.player.wake());
    live.on('product_pinned', (f) => this.setPinned(f.product));
    live.on('sale_started', (f) => {
      rest.products(live.room).then(
        (answer) => this.setProducts(answer.products),
        () => {},
      );
      this.upsertSale(f.sale);
    });
    live.on('sale_stock', (f) => this.upsertSale({ id: f.sale, left: f.left }));
    live.on('sold_out', (f) => this.upsertSale({ id: f.sale, left: 0 }));
    live.on('sale_ended', (f) => this.upsertSale({ ...f.sale, status: 'ended' }));
    live.on('order', (f) => this.showOrder({ ...this.order, id: f.id, status: f.status }));
    live.on('error', (f) => !f.key && this.say(f.message, 'bad'));
  }

  counts(viewers, likes) {
    if (viewers !== undefined) this.viewers = viewers;
    if (likes !== undefined) this.likes = Math.max(likes, this.likes || 0);
    this.parts.counts.textContent = `👁 ${this.viewers ?? 0}  ♥ ${this.likes ?? 0}`;
  }

  line(message) {
    const li = el('li', 'message');
    li.dataset.id = message.id;
    li.append(el('b', '', message.user), document.createTextNode(message.text));
    this.parts.messages.append(li);
    while (this.parts.messages.children.length > MAX_LINES) this.parts.messages.firstChild.remove();
    this.parts.messages.scrollTop = this.parts.messages.scrollHeight;
  }

  setProducts(products) {
    for (const product of products) this.products.set(product.id, product);
    this.renderSales();
  }

  setPinned(product) {
    const pinned = this.parts.pinned;
    pinned.hidden = !product;
    if (!product) return;
    this.products.set(product.id, product);
    const parts = [];
    if (product.image_url) {
      const img = el('img', 'product-image');
      img.src = product.image_url;
      img.alt = '';
      parts.push(img);
    }
    parts.push(
      el('h2', 'product-title', product.title),
      el('p', 'price', money(product.price_cents, product.currency)),
    );
    pinned.replaceChildren(...parts);
  }

  upsertSale(sale) {
    this.sales.set(sale.id, { ...this.sales.get(sale.id), ...sale });
    this.renderSales();
  }

  renderSales() {
    const cards = [...this.sales.values()]
      .filter((sale) => sale.ends_at !== undefined)
      .map((sale) => this.card(sale));
    this.parts.sales.replaceChildren(...cards);
  }

  redrawChangedSales() {
    for (const card of this.parts.sales.children) {
      const sale = this.sales.get(card.dataset.sale);
      if (sale && saleState(sale) !== card.dataset.state) {
        this.renderSales();
        return;
      }
    }
  }

  card(sale) {
    const product = this.products.get(sale.product_id);
    const state = saleState(sale);
    const card = el('article', 'sale');
    card.dataset.sale = sale.id;
    card.dataset.state = state;
    const buy = el(
      'button',
      'buy',
      { open: 'Buy now', sold_out: 'Sold out', ended: 'Sale ended', scheduled: 'Soon' }[state],
    );
    buy.type = 'button';
    buy.disabled = state === 'ended' || state === 'scheduled' || this.buying === sale.id;
    buy.addEventListener('click', () => this.buy(sale));
    card.append(
      el('h3', 'product-title', product ? product.title : 'Flash sale'),
      el('p', 'price', money(sale.price_cents, sale.currency)),
      el('p', 'stock', `${Math.max(0, sale.left)} of ${sale.quantity} left`),
      buy,
    );
    return card;
  }

  async buy(sale) {
    if (!this.requireToken() || !this.liveRoom) return;
    this.buying = sale.id;
    this.say('Reserving…');
    this.renderSales();
    try {
      // A claimed voucher is applied by the server: the claim worth most on this buy.
      const voucherClaim = this.cards.state.claimed.size ? 'best' : undefined;
      const result = await this.liveRoom.buy(sale.id, 1, { voucherClaim });
      const product = this.products.get(sale.product_id);
      this.say(buyOutcome(result, product ? product.title : ''), result.ok ? 'ok' : 'bad');
      if (result.ok) {
        this.showOrder({ id: result.order, status: 'reserved', expires_at: result.expires_at });
        const detail = { order: result.order, expires_at: result.expires_at, sale: sale.id };
        this.dispatchEvent(new CustomEvent('livecommerce-order', { detail, bubbles: true, composed: true }));
      }
    } catch (error) {
      this.say(error.message, 'bad');
    } finally {
      this.buying = null;
      this.renderSales();
    }
  }

  showOrder(order) {
    this.order = order;
    const when =
      order.status === 'reserved' && order.expires_at ? `: pay before ${clock(order.expires_at)}` : '';
    this.parts.order.hidden = false;
    this.parts.order.dataset.status = order.status;
    this.parts.order.textContent = `Order ${order.id} ${order.status}${when}`;
  }

  say(text, kind = '') {
    this.parts.note.textContent = text;
    this.parts.note.dataset.kind = kind;
  }

  ended() {
    if (this.player) this.player.stop();
    this.parts.status.hidden = false;
    this.parts.status.textContent = 'The room has ended.';
    this.parts.input.disabled = true;
  }
}

export function defineElement(name = 'livecommerce-room') {
  if (!customElements.get(name)) customElements.define(name, LiveCommerceRoomElement);
}
