import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buyOutcome, money, saleState } from '../format.js';
import { parseIceServerLinks, whepUrl } from '../player.js';

test('ICE servers come from Link headers with rel="ice-server" only', () => {
  const header =
    '<stun:stun.example:3478>; rel="ice-server", ' +
    '<turn:turn.example:3478?transport=udp>; rel="ice-server"; username="u:1"; credential="p=="; credential-type="password", ' +
    '<https://elsewhere.example>; rel="next"';
  assert.deepEqual(parseIceServerLinks(header), [
    { urls: 'stun:stun.example:3478' },
    { urls: 'turn:turn.example:3478?transport=udp', username: 'u:1', credential: 'p==' },
  ]);
  assert.deepEqual(parseIceServerLinks(null), []);
  assert.deepEqual(parseIceServerLinks('garbage, <x>'), []);
});

test('whepUrl encodes the room', () => {
  assert.equal(whepUrl('https://live.example/', 'a/b'), 'https://live.example/whep/a%2Fb');
  assert.equal(whepUrl('', 'r'), '/whep/r');
});

test('a sale is scheduled, open, sold out or ended by its times, stock and status', () => {
  const sale = { starts_at: 100, ends_at: 200, left: 3, status: 'open' };
  assert.equal(saleState(sale, 50), 'scheduled');
  assert.equal(saleState(sale, 150), 'open');
  assert.equal(saleState({ ...sale, left: 0 }, 150), 'sold_out');
  assert.equal(saleState(sale, 200), 'ended');
  assert.equal(saleState({ ...sale, status: 'ended' }, 150), 'ended');
});

test('a buy outcome says what happened', () => {
  assert.match(buyOutcome({ ok: true, expires_at: 0 }, 'Teapot'), /^Reserved: Teapot\. Pay before /);
  assert.equal(buyOutcome({ ok: false, reason: 'sold_out' }), 'Sold out: every unit has been taken.');
  assert.equal(buyOutcome({ ok: false, reason: 'weird' }), 'The purchase was refused (weird).');
  assert.match(money(1999, 'EUR'), /19[.,]99/);
});
