import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';

import './globals.js';
import { BuyError, DRAIN_SPREAD_MS, LiveRoom } from '../room.js';
import { FakeSocket, WELCOME } from './fake_socket.js';

const rooms = [];

function open(options = {}) {
  const room = new LiveRoom({ server: 'http://live.example', room: 'r1', token: 't0', WebSocketImpl: FakeSocket, ...options });
  rooms.push(room);
  room.connect();
  FakeSocket.last().deliver(WELCOME);
  return room;
}

afterEach(() => {
  for (const room of rooms.splice(0)) room.close();
  FakeSocket.made.length = 0;
});

test('claim sends a keyed claim and resolves with its claim_result only', async () => {
  const room = open();
  const answer = room.claim('v1');
  const sent = FakeSocket.last().sent[0];
  assert.equal(sent.type, 'claim');
  assert.equal(sent.voucher, 'v1');
  assert.match(sent.key, /^[0-9a-f-]{32,36}$/);
  // A result of another kind with the same key does not settle it.
  FakeSocket.last().deliver({ type: 'buy_result', key: sent.key, ok: false, reason: 'sold_out' });
  FakeSocket.last().deliver({ type: 'claim_result', key: sent.key, ok: true, claim: 'c9' });
  assert.equal((await answer).claim, 'c9');
});

test('bid sends amount_cents and max_cents (only when given) and resolves by key', async () => {
  const room = open();
  const plain = room.bid('a1', 1200, { key: 'b-plain' });
  const proxy = room.bid('a1', 1300, { maxCents: 5000, key: 'b-proxy' });
  assert.deepEqual(FakeSocket.last().sent, [
    { type: 'bid', auction: 'a1', amount_cents: 1200, key: 'b-plain' },
    { type: 'bid', auction: 'a1', amount_cents: 1300, key: 'b-proxy', max_cents: 5000 },
  ]);
  const socket = FakeSocket.last();
  socket.deliver({ type: 'bid_result', key: 'b-proxy', auction: 'a1', ok: true, leading: true, amount_cents: 1300 });
  socket.deliver({ type: 'bid_result', key: 'b-plain', auction: 'a1', ok: false, leading: false, reason: 'bid_too_low', min_cents: 1400 });
  assert.equal((await proxy).leading, true);
  assert.deepEqual([(await plain).reason, (await plain).min_cents], ['bid_too_low', 1400]);
});

test('enter is keyed, resent after a reconnect with the same key, and refused by its error', async () => {
  const room = open();
  const entered = room.enter('g1', { key: 'e1' });
  const refused = room.enter('g2', { key: 'e2' });
  FakeSocket.last().drop(1006);
  room.reconnect();
  const again = FakeSocket.last();
  again.deliver(WELCOME);
  assert.deepEqual(again.sent, [
    { type: 'enter', giveaway: 'g1', key: 'e1' },
    { type: 'enter', giveaway: 'g2', key: 'e2' },
  ]);
  again.deliver({ type: 'error', code: 'sign_in_required', message: 'Sign in', key: 'e2' });
  again.deliver({ type: 'enter_result', giveaway: 'g1', key: 'e1', ok: true, entrants: 3 });
  assert.equal((await entered).entrants, 3);
  await assert.rejects(refused, (error) => error instanceof BuyError && error.code === 'sign_in_required');
});

test('a rate-limited claim stays pending and goes again with its key', async () => {
  let now = 0;
  const room = open({ now: () => now });
  const socket = FakeSocket.last();
  const answer = room.claim('v1', { key: 'k1' });
  socket.deliver({ type: 'error', code: 'rate_limited', message: 'slow down', key: 'k1' });
  now += 5000;
  room.resendDue();
  assert.deepEqual(socket.sent.map((f) => [f.type, f.key]), [['claim', 'k1'], ['claim', 'k1']]);
  socket.deliver({ type: 'claim_result', key: 'k1', ok: false, reason: 'limit_reached' });
  assert.equal((await answer).reason, 'limit_reached');
});

test('viewProduct and report send their frames; report leaves out an empty reason', () => {
  const room = open();
  assert.equal(room.viewProduct('p1'), true);
  assert.equal(room.report('5-0', 'spam'), true);
  assert.equal(room.report('6-0'), true);
  assert.deepEqual(FakeSocket.last().sent, [
    { type: 'view_product', product: 'p1' },
    { type: 'report', message: '5-0', reason: 'spam' },
    { type: 'report', message: '6-0' },
  ]);
});

test('frames of every area reach their typed listeners', () => {
  const room = open();
  const seen = [];
  for (const type of ['voucher_dropped', 'auction_bid', 'giveaway_ended', 'chat_held', 'report_received']) {
    room.on(type, (frame) => seen.push(frame.type));
  }
  const socket = FakeSocket.last();
  socket.deliver({ type: 'voucher_dropped', voucher: { id: 'v1' } });
  socket.deliver({ type: 'auction_bid', auction: 'a1', leader: 'bob', amount_cents: 100, ends_at: 1, bids: 1, min_next_cents: 200 });
  socket.deliver({ type: 'giveaway_ended', giveaway: 'g1', winners: [], seed: 'ab', commitment: 'cd', entrants_count: 0, entrants: [] });
  socket.deliver({ type: 'chat_held', id: 'h1', text: 'x', ts: 1, rule: 'links' });
  socket.deliver({ type: 'report_received', message: '5-0', duplicate: false });
  assert.deepEqual(seen, ['voucher_dropped', 'auction_bid', 'giveaway_ended', 'chat_held', 'report_received']);
});

test('a draining node (4503) is left at once, within the spread, and the backoff restarts', async () => {
  const room = open();
  room.retryMs = 8000;
  FakeSocket.last().drop(4503);
  assert.equal(room.state, 'closed');
  await new Promise((resolve) => setTimeout(resolve, DRAIN_SPREAD_MS + 100));
  assert.equal(FakeSocket.made.length, 2);
  assert.equal(room.retryMs, 500);
});
