// A stand-in for the browser's WebSocket (Node 20 has none): records what the room sends and
// lets a test deliver frames and closes. The real socket is exercised by tests/browser.

export class FakeSocket {
  static made = [];

  constructor(url) {
    this.url = url;
    this.sent = [];
    this.readyState = 1;
    this.listeners = { message: [], close: [] };
    FakeSocket.made.push(this);
  }

  addEventListener(type, fn) {
    this.listeners[type].push(fn);
  }

  send(data) {
    this.sent.push(JSON.parse(data));
  }

  close(code = 1000) {
    this.readyState = 3;
    this.closedWith = code;
  }

  deliver(frame) {
    for (const fn of this.listeners.message)
      fn({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  drop(code) {
    this.readyState = 3;
    for (const fn of this.listeners.close) fn({ code });
  }

  static last() {
    return FakeSocket.made[FakeSocket.made.length - 1];
  }
}

export const WELCOME = Object.freeze({
  type: 'welcome',
  room: { id: 'r1', title: 'Tea', anchor: 'alice', status: 'live' },
  resumed: false,
  messages: [],
  likes: 0,
  pinned_product: null,
  sales: [],
  viewers: 1,
  room_muted: false,
  room_muted_until: null,
  slow_mode: { interval_s: 0 },
  you: { user: 'bob', role: 'viewer', muted_until: null, can_chat: true },
});
