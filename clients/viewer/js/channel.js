// The room channel over WebSocket (JSON frames): reconnects with backoff and resumes from the
// last chat message seen; frames sent while disconnected wait in a small queue.

import { CLOSE_CODES } from './errors.js';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15_000;
const MAX_QUEUED = 20;
// After a node's drain (shutting_down) the load balancer has another node: come back at
// once, spread over this many ms so a node's clients do not all arrive in one instant.
const DRAIN_SPREAD_MS = 300;
// Close codes after which reconnecting cannot help (see docs/channel.md).
const FINAL = new Map([
  [CLOSE_CODES.banned, 'banned'],
  [CLOSE_CODES.room_not_found, 'no_room'],
  [CLOSE_CODES.room_ended, 'room_ended'],
]);

export class Channel {
  // onFrame(frame); onState(state, code): 'connecting' | 'open' | 'closed' | a FINAL value
  constructor(roomId, getToken, onFrame, onState) {
    this.roomId = roomId;
    this.getToken = getToken;
    this.onFrame = onFrame;
    this.onState = onState;
    this.ws = null;
    this.ready = false;
    this.lastId = null;
    this.queue = [];
    this.retryMs = FIRST_RETRY_MS;
    this.timer = null;
    this.stopped = false;
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const params = new URLSearchParams({ format: 'json' });
    const token = this.getToken();
    if (token) params.set('token', token);
    if (this.lastId) params.set('resume', this.lastId);
    return `${scheme}//${location.host}/ws/rooms/${encodeURIComponent(this.roomId)}?${params}`;
  }

  connect() {
    clearTimeout(this.timer);
    this.ready = false;
    this.onState('connecting');
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener('message', (event) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(frame);
    });
    ws.addEventListener('close', (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.ready = false;
      const final = FINAL.get(event.code);
      if (final || this.stopped) {
        this.stopped = true;
        this.onState(final || 'closed', event.code);
        return;
      }
      this.onState('closed', event.code);
      if (event.code === CLOSE_CODES.shutting_down) this.retryMs = FIRST_RETRY_MS;
      const delay =
        event.code === CLOSE_CODES.shutting_down
          ? DRAIN_SPREAD_MS * Math.random()
          : this.retryMs * (1 + 0.2 * Math.random());
      if (event.code !== CLOSE_CODES.shutting_down) {
        this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      }
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  receive(frame) {
    if (frame.type === 'welcome') {
      const messages = frame.messages || [];
      if (messages.length) this.lastId = messages[messages.length - 1].id;
      this.ready = true;
      this.retryMs = FIRST_RETRY_MS;
      this.onState('open');
      this.onFrame(frame);
      const queued = this.queue.splice(0);
      for (const item of queued) this.send(item);
      return;
    }
    if (frame.type === 'chat' && frame.id) this.lastId = frame.id;
    if (frame.type === 'resync') {
      this.reconnect();
      return;
    }
    this.onFrame(frame);
  }

  // True when the frame went out now; otherwise it is sent after the next welcome.
  send(frame) {
    if (this.ready && this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    if (this.queue.length < MAX_QUEUED) this.queue.push(frame);
    return false;
  }

  // Connect again now, e.g. with a new token; resumes from the last message.
  reconnect() {
    if (this.stopped) return;
    const old = this.ws;
    this.ws = null;
    if (old) old.close(1000);
    this.retryMs = FIRST_RETRY_MS;
    this.connect();
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }
}
