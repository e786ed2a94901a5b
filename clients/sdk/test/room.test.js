import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';

import './globals.js';
import { BuyError, LiveRoom, MAX_RETRY_MS, channelUrl, nextDelay } from '../room.js';
import { FakeSocket, WELCOME } from './fake_socket.js';

const here = { protocol: 'https:', host: 'shop.example' };
const rooms = [];

function open(options = {}) {
  const room = new LiveRoom({
    server: 'http://live.example:8080/',
    room: 'r1',
    token: 't0',
    WebSocketImpl: FakeSocket,
    ...options,
  });
  rooms.push(room);
  room.connect();
  return room;
}

afterEach(() => {
  for (const room of rooms.splice(0)) room.close();
  FakeSocket.made.length = 0;
});

test('channelUrl picks ws or wss from the server and encodes every part', () => {
  assert.equal(
    channelUrl('http://live.example:8080/', 'a/b c', { token: 'x.y+z', resume: '1-0' }, here),
    'ws://live.example:8080/ws/rooms/a%2Fb%20c?format=json&token=x.y%2Bz&resume=1-0',
  );
  assert.equal(
    channelUrl('https://live.example', 'r', {}, here),
    'wss://live.example/ws/rooms/r?format=json',
  );
  assert.equal(channelUrl('', 'r', {}, here), 'wss://shop.example/ws/rooms/r?format=json');
});

test('nextDelay doubles up to the cap with at most 20% jitter', () => {
  assert.deepEqual(
    nextDelay(500, () => 0),
    { delay: 500, next: 1000 },
  );
  const { delay, next } = nextDelay(MAX_RETRY_MS, () => 0.999);
  assert.equal(next, MAX_RETRY_MS);
  assert.ok(delay < MAX_RETRY_MS * 1.2 && delay > MAX_RETRY_MS);
});

test('frames sent before the welcome wait for it, then go out in order', () => {
  const room = open();
  const states = [];
  room.on('state', (s) => states.push(s.state));
  assert.equal(room.chat('first'), false);
  assert.equal(room.like(2), false);
  FakeSocket.last().deliver(WELCOME);
  assert.deepEqual(FakeSocket.last().sent, [
    { type: 'chat', text: 'first' },
    { type: 'like', count: 2 },
  ]);
  assert.equal(room.chat('now'), true);
  assert.deepEqual(states, ['open']);
});

test('typed events reach their listeners, and an unsubscribed listener hears nothing', () => {
  const room = open();
  const seen = [];
  const off = room.on('chat', (f) => seen.push(f.text));
  room.on('frame', (f) => seen.push(`frame:${f.type}`));
  const socket = FakeSocket.last();
  socket.deliver(WELCOME);
  socket.deliver({ type: 'chat', id: '5-0', user: 'a', role: 'viewer', text: 'hi', ts: 1 });
  off();
  socket.deliver({ type: 'chat', id: '6-0', user: 'a', role: 'viewer', text: 'again', ts: 2 });
  socket.deliver('not json');
  socket.deliver({ no: 'type' });
  assert.deepEqual(seen, ['frame:welcome', 'hi', 'frame:chat', 'frame:chat']);
});

test('a dropped connection reconnects and resumes from the last message seen', async () => {
  const room = open();
  const first = FakeSocket.last();
  first.deliver({
    ...WELCOME,
    messages: [{ type: 'chat', id: '3-0', user: 'a', role: 'viewer', text: 'x', ts: 1 }],
  });
  first.deliver({ type: 'chat', id: '4-1', user: 'a', role: 'viewer', text: 'y', ts: 2 });
  first.drop(1006);
  assert.equal(room.state, 'closed');
  await new Promise((resolve) => setTimeout(resolve, 700));
  const second = FakeSocket.last();
  assert.notEqual(second, first);
  assert.equal(new URL(second.url).searchParams.get('resume'), '4-1');
  assert.equal(new URL(second.url).searchParams.get('token'), 't0');
});

test('a resync frame reconnects at once with resume', () => {
  const room = open();
  const first = FakeSocket.last();
  first.deliver({
    ...WELCOME,
    messages: [{ type: 'chat', id: '9-0', user: 'a', role: 'viewer', text: 'x', ts: 1 }],
  });
  first.deliver({ type: 'resync' });
  assert.equal(first.closedWith, 1000);
  assert.equal(new URL(FakeSocket.last().url).searchParams.get('resume'), '9-0');
  assert.equal(room.state, 'connecting');
});

for (const [code, state] of [
  [4410, 'room_ended'],
  [4404, 'no_room'],
  [4403, 'banned'],
]) {
  test(`close ${code} is final: state ${state}, no reconnect`, async () => {
    const room = open();
    FakeSocket.last().drop(code);
    assert.equal(room.state, state);
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(FakeSocket.made.length, 1);
  });
}

test('setToken reconnects with the new token', () => {
  const room = open();
  FakeSocket.last().deliver(WELCOME);
  room.setToken('t1');
  assert.equal(new URL(FakeSocket.last().url).searchParams.get('token'), 't1');
  room.setToken(() => null);
  assert.equal(new URL(FakeSocket.last().url).searchParams.get('token'), null);
});

test('a buy carries a key, resolves with its buy_result, and is resent with the same key', async () => {
  let now = 1000;
  const room = open({ now: () => now });
  const first = FakeSocket.last();
  first.deliver(WELCOME);
  const answer = room.buy('s1', 2);
  const sent = first.sent[0];
  assert.equal(sent.type, 'buy');
  assert.equal(sent.sale, 's1');
  assert.equal(sent.qty, 2);
  assert.match(sent.key, /^[0-9a-f-]{32,36}$/);
  // No answer: after a reconnect the same key goes again.
  first.drop(1006);
  room.reconnect();
  const second = FakeSocket.last();
  second.deliver(WELCOME);
  assert.deepEqual(second.sent, [sent]);
  // Still none: resent every BUY_RESEND_MS.
  now += 5000;
  room.resendDue();
  assert.deepEqual(second.sent, [sent, sent]);
  second.deliver({ type: 'buy_result', key: 'other', ok: true, order: 'o0', expires_at: 1 });
  second.deliver({ type: 'buy_result', key: sent.key, ok: true, order: 'o1', expires_at: 99 });
  const result = await answer;
  assert.equal(result.order, 'o1');
  now += 5000;
  room.resendDue();
  assert.equal(second.sent.length, 2);
});

test('a refused buy rejects with the code; store_unavailable keeps it pending', async () => {
  let now = 0;
  const room = open({ now: () => now });
  const socket = FakeSocket.last();
  socket.deliver(WELCOME);
  const refused = room.buy('s1', 1, { key: 'k-refused' });
  const retried = room.buy('s1', 1, { key: 'k-retried' });
  socket.deliver({ type: 'error', code: 'sign_in_required', message: 'Sign in', key: 'k-refused' });
  socket.deliver({ type: 'error', code: 'store_unavailable', message: 'later', key: 'k-retried' });
  await assert.rejects(refused, (error) => error instanceof BuyError && error.code === 'sign_in_required');
  now += 5000;
  room.resendDue();
  assert.deepEqual(
    socket.sent.map((f) => f.key),
    ['k-refused', 'k-retried', 'k-retried'],
  );
  socket.deliver({ type: 'buy_result', key: 'k-retried', ok: false, reason: 'sold_out' });
  assert.equal((await retried).reason, 'sold_out');
});

test('a final close rejects buys still waiting with its reason', async () => {
  const room = open();
  FakeSocket.last().deliver(WELCOME);
  const waiting = room.buy('s1');
  FakeSocket.last().drop(4403);
  await assert.rejects(waiting, (error) => error instanceof BuyError && error.code === 'banned');
});

test('close() rejects buys still waiting', async () => {
  const room = open();
  FakeSocket.last().deliver(WELCOME);
  const waiting = room.buy('s1');
  room.close();
  await assert.rejects(waiting, (error) => error.code === 'closed');
});
