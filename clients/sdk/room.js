// LiveRoom: a room's channel (GET /ws/rooms/{room}, JSON frames) with reconnect and resume,
// typed events, and chat, like, buy, claim, bid, enter, viewProduct and report. Buys, claims,
// bids and entries carry idempotency keys: one without an answer is sent again with the same
// key (after a reconnect, or every BUY_RESEND_MS), and the server answers the same key with
// the same result, on any node.

import { newKey, serverBase, segment } from './rest.js';

export const FIRST_RETRY_MS = 500;
export const MAX_RETRY_MS = 15_000;
export const MAX_QUEUED = 20;
export const BUY_RESEND_MS = 5000;
// Close codes after which reconnecting cannot help (docs/channel.md, Close codes), named as
// the viewer page's channel names them.
export const FINAL_CLOSE = Object.freeze({ 4403: 'banned', 4404: 'no_room', 4410: 'room_ended' });
export const TOKEN_EXPIRED_CLOSE = 4401;
// A draining node (shutting_down): the load balancer has another one, so come back at once,
// spread over DRAIN_SPREAD_MS so that a node's clients do not all arrive in one instant.
export const DRAIN_CLOSE = 4503;
export const DRAIN_SPREAD_MS = 300;
// Error codes that leave a keyed frame pending: it is sent again with its key.
const RETRIED_ERRORS = new Set(['store_unavailable', 'internal_error', 'rate_limited']);
// The frames answered by a result carrying their key.
export const RESULT_OF = Object.freeze({
  buy: 'buy_result',
  claim: 'claim_result',
  bid: 'bid_result',
  enter: 'enter_result',
});
const RESULTS = new Set(Object.values(RESULT_OF));

// The channel's URL on `server` ('' = this page's origin).
export function channelUrl(
  server,
  room,
  { token, resume, format = 'json' } = {},
  here = globalThis.location,
) {
  const base = serverBase(server) || `${here.protocol}//${here.host}`;
  const url = new URL(`/ws/rooms/${segment(room)}`, base);
  url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
  url.searchParams.set('format', format);
  if (token) url.searchParams.set('token', token);
  if (resume) url.searchParams.set('resume', resume);
  return url.href;
}

// The wait before the next reconnect, and the one after it: doubling up to MAX_RETRY_MS,
// with up to 20% jitter so a node's clients do not all come back at once.
export function nextDelay(retryMs, random = Math.random) {
  return { delay: retryMs * (1 + 0.2 * random()), next: Math.min(retryMs * 2, MAX_RETRY_MS) };
}

// The refusal of a keyed frame (buy, claim, bid, enter): `code` is the error frame's.
export class BuyError extends Error {
  constructor(code, message, frame) {
    super(message);
    this.name = 'BuyError';
    this.code = code;
    this.frame = frame;
  }
}

export class LiveRoom {
  // options: {server, room, token (string or () => string|null), WebSocketImpl, now}
  constructor({ server = '', room, token = null, WebSocketImpl, now } = {}) {
    if (!room) throw new TypeError('LiveRoom needs a room id');
    this.server = serverBase(server);
    this.room = room;
    this.token = token;
    this.WebSocketImpl = WebSocketImpl || globalThis.WebSocket;
    this.now = now || Date.now;
    this.ws = null;
    this.ready = false;
    this.lastId = null;
    this.queue = [];
    this.retryMs = FIRST_RETRY_MS;
    this.timer = null;
    this.resendTimer = null;
    this.stopped = false;
    this.state = 'idle';
    this.pending = new Map(); // key -> {frame, resolve, reject, sentAt}
    this.listeners = new Map();
  }

  // Call fn(value) for frames of `type` (a server frame type), 'frame' (every frame) or
  // 'state' ({state, code}). Returns a function that removes the listener.
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, value) {
    for (const fn of this.listeners.get(type) || []) {
      try {
        fn(value);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  currentToken() {
    return typeof this.token === 'function' ? this.token() : this.token;
  }

  setState(state, code) {
    this.state = state;
    this.emit('state', { state, code });
  }

  url() {
    return channelUrl(this.server, this.room, { token: this.currentToken(), resume: this.lastId });
  }

  connect() {
    clearTimeout(this.timer);
    this.stopped = false;
    this.ready = false;
    this.setState('connecting');
    const ws = new this.WebSocketImpl(this.url());
    this.ws = ws;
    ws.addEventListener('message', (event) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === 'string') this.receive(frame);
    });
    ws.addEventListener('close', (event) => this.closed(ws, event.code));
    if (!this.resendTimer) this.resendTimer = setInterval(() => this.resendDue(), 1000);
    return this;
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.ready = false;
    const final = FINAL_CLOSE[code];
    if (final || this.stopped) {
      this.stop();
      if (final) this.rejectPending(final, `The room's channel closed for good (${final}).`);
      this.setState(final || 'closed', code);
      return;
    }
    this.setState('closed', code);
    if (code === DRAIN_CLOSE) {
      this.retryMs = FIRST_RETRY_MS;
      this.timer = setTimeout(() => this.connect(), DRAIN_SPREAD_MS * Math.random());
      return;
    }
    const { delay, next } = nextDelay(this.retryMs);
    this.retryMs = next;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  receive(frame) {
    if (frame.type === 'welcome') {
      const messages = frame.messages || [];
      if (messages.length) this.lastId = messages[messages.length - 1].id;
      this.ready = true;
      this.retryMs = FIRST_RETRY_MS;
      this.setState('open');
      this.dispatch(frame);
      for (const item of this.queue.splice(0)) this.send(item);
      for (const [key, pending] of this.pending) this.sendBuy(key, pending);
      return;
    }
    if (frame.type === 'chat' && frame.id) this.lastId = frame.id;
    if (frame.type === 'resync') {
      this.reconnect();
      return;
    }
    if (RESULTS.has(frame.type) && frame.key) this.settle(frame);
    if (frame.type === 'error' && frame.key) this.refuse(frame);
    this.dispatch(frame);
  }

  dispatch(frame) {
    this.emit(frame.type, frame);
    this.emit('frame', frame);
  }

  // True when the frame went out now; otherwise it is sent after the next welcome (at most
  // MAX_QUEUED frames wait; more are dropped and false is returned).
  send(frame) {
    if (this.ready && this.ws && this.ws.readyState === 1) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    if (this.queue.length < MAX_QUEUED) this.queue.push(frame);
    return false;
  }

  chat(text) {
    return this.send({ type: 'chat', text });
  }

  like(count = 1) {
    return this.send({ type: 'like', count });
  }

  // Resolves with the buy_result frame ({ok, order, expires_at} or {ok: false, reason});
  // rejects with a BuyError when the server refuses the frame (e.g. sign_in_required).
  // voucherClaim: a claim's id, or 'best' for the buyer's claim worth most on this buy.
  buy(sale, qty = 1, { key = newKey(), voucherClaim } = {}) {
    const frame = { type: 'buy', sale, qty, key };
    if (voucherClaim) frame.voucher_claim = voucherClaim;
    return this.request(frame);
  }

  // Resolves with the claim_result ({ok, claim} or {ok: false, reason}); `claim` goes in a
  // buy's voucher_claim.
  claim(voucher, { key = newKey() } = {}) {
    return this.request({ type: 'claim', voucher, key });
  }

  // Resolves with the bid_result ({ok, leading, amount_cents} or {ok: false, reason}).
  // maxCents: a proxy maximum the server bids up to for you.
  bid(auction, amountCents, { maxCents, key = newKey() } = {}) {
    const frame = { type: 'bid', auction, amount_cents: amountCents, key };
    if (maxCents !== undefined && maxCents !== null) frame.max_cents = maxCents;
    return this.request(frame);
  }

  // Resolves with the enter_result ({ok, entrants} or {ok: false, reason}).
  enter(giveaway, { key = newKey() } = {}) {
    return this.request({ type: 'enter', giveaway, key });
  }

  // Tells the room's analytics that this viewer opened a product's card.
  viewProduct(product) {
    return this.send({ type: 'view_product', product });
  }

  // Reports a chat message to the room's moderators; `report_received` answers.
  report(message, reason) {
    const frame = { type: 'report', message };
    if (reason) frame.reason = reason;
    return this.send(frame);
  }

  // Sends a keyed frame until its result (or a refusal) arrives; see RESULT_OF.
  request(frame) {
    return new Promise((resolve, reject) => {
      const pending = { frame, resolve, reject, sentAt: 0 };
      this.pending.set(frame.key, pending);
      this.sendBuy(frame.key, pending);
    });
  }

  sendBuy(key, pending) {
    pending.sentAt = this.now();
    if (this.ready) this.send(pending.frame);
  }

  resendDue() {
    const now = this.now();
    for (const [key, pending] of this.pending) {
      if (this.ready && now - pending.sentAt >= BUY_RESEND_MS) this.sendBuy(key, pending);
    }
  }

  settle(frame) {
    const pending = this.pending.get(frame.key);
    if (!pending || RESULT_OF[pending.frame.type] !== frame.type) return;
    this.pending.delete(frame.key);
    pending.resolve(frame);
  }

  refuse(frame) {
    const pending = this.pending.get(frame.key);
    if (!pending || RETRIED_ERRORS.has(frame.code)) return;
    this.pending.delete(frame.key);
    pending.reject(new BuyError(frame.code, frame.message, frame));
  }

  // Use another token (or none): reconnects, resuming from the last message seen.
  setToken(token) {
    this.token = token;
    if (this.ws || this.timer) this.reconnect();
  }

  // Connect again now; resumes from the last message.
  reconnect() {
    const old = this.ws;
    this.ws = null;
    if (old) old.close(1000);
    this.retryMs = FIRST_RETRY_MS;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
    clearInterval(this.resendTimer);
    this.resendTimer = null;
  }

  close() {
    this.stop();
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) ws.close(1000);
    this.rejectPending('closed', 'The room was closed before the frame was answered.');
    this.setState('closed', 1000);
  }

  rejectPending(code, message) {
    for (const pending of this.pending.values()) pending.reject(new BuyError(code, message));
    this.pending.clear();
  }
}
