import assert from 'node:assert/strict';
import { test } from 'node:test';

import './globals.js';
import { ApiError, RestClient, api, newKey } from '../rest.js';

function answering(status, body, seen = []) {
  return async (url, init) => {
    seen.push({ url, init });
    return new Response(body === undefined ? '' : JSON.stringify(body), { status });
  };
}

test('api sends JSON with the Bearer token to the server and returns the answer', async () => {
  const seen = [];
  const answer = await api('https://live.example/', 'POST', '/api/rooms', {
    body: { title: 'x' },
    token: 'tok',
    fetchImpl: answering(201, { id: 'r1' }, seen),
  });
  assert.deepEqual(answer, { id: 'r1' });
  assert.equal(seen[0].url, 'https://live.example/api/rooms');
  assert.equal(seen[0].init.headers.Authorization, 'Bearer tok');
  assert.equal(seen[0].init.headers['Content-Type'], 'application/json');
  assert.equal(seen[0].init.body, '{"title":"x"}');
});

test('an error body becomes an ApiError with its status, code and message', async () => {
  const fetchImpl = answering(403, { error: { code: 'origin_not_allowed', message: 'No.' } });
  await assert.rejects(api('', 'GET', '/api/rooms', { fetchImpl }), (error) => {
    return (
      error instanceof ApiError &&
      error.status === 403 &&
      error.code === 'origin_not_allowed' &&
      error.message === 'No.'
    );
  });
  await assert.rejects(
    api('', 'GET', '/x', { fetchImpl: answering(502, undefined) }),
    (error) => error.code === 'http_502',
  );
  const unreachable = async () => {
    throw new TypeError('Failed to fetch');
  };
  await assert.rejects(
    api('', 'GET', '/x', { fetchImpl: unreachable }),
    (error) => error.code === 'network' && error.status === 0,
  );
});

test('RestClient builds each path with encoded ids', async () => {
  const seen = [];
  const client = new RestClient({
    server: 'https://live.example',
    token: 't',
    fetchImpl: answering(200, {}, seen),
  });
  await client.room('a/b');
  await client.products('r 1');
  await client.sale('r', 's?x');
  await client.order('o#1');
  await client.demoToken({ name: 'ann' });
  assert.deepEqual(
    seen.map((s) => `${s.init.method} ${s.url}`),
    [
      'GET https://live.example/api/rooms/a%2Fb',
      'GET https://live.example/api/rooms/r%201/products',
      'GET https://live.example/api/rooms/r/sales/s%3Fx',
      'GET https://live.example/api/orders/o%231',
      'POST https://live.example/api/demo/token',
    ],
  );
});

test('newKey gives distinct 128-bit keys', () => {
  const keys = new Set(Array.from({ length: 1000 }, () => newKey()));
  assert.equal(keys.size, 1000);
  for (const key of keys)
    assert.match(key, /^([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/);
});
