import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  FORMAT_FRAMES,
  FormatsState,
  bidOutcome,
  claimOutcome,
  countdown,
  enterOutcome,
  voucherOff,
} from '../formats.js';

const voucher = (id, status = 'live', left = 5) => ({ id, title: id, status, left, percent_off: 10 });

test('the snapshot and the frames keep vouchers, auctions and giveaways current', () => {
  const state = new FormatsState();
  state.snapshot({
    vouchers: [voucher('v1'), voucher('v0', 'ready')],
    pinned_voucher: null,
    auctions: [{ id: 'a1', status: 'open', leader: null, amount_cents: null, min_next_cents: 100 }],
    giveaways: [{ id: 'g1', status: 'open', winners: null, seed: null }],
  });
  assert.deepEqual(state.shownVouchers().map((v) => v.id), ['v1']);
  assert.equal(state.apply({ type: 'voucher_pinned', voucher: voucher('v2') }), true);
  assert.deepEqual(state.shownVouchers().map((v) => v.id), ['v2', 'v1']);
  state.apply({ type: 'voucher_stock', voucher: 'v1', left: 0 });
  assert.equal(state.vouchers.get('v1').left, 0);
  state.apply({ type: 'auction_bid', auction: 'a1', leader: 'bob', amount_cents: 300, ends_at: 9, bids: 2, min_next_cents: 400 });
  assert.deepEqual(
    ['leader', 'amount_cents', 'ends_at', 'bids', 'min_next_cents'].map((k) => state.auctions.get('a1')[k]),
    ['bob', 300, 9, 2, 400],
  );
  state.apply({ type: 'auction_ended', auction: 'a1', winner: 'bob', amount_cents: 300, order: 'o1' });
  assert.equal(state.auctions.get('a1').status, 'ended');
  state.apply({ type: 'giveaway_ended', giveaway: 'g1', winners: ['amy'], seed: 'ab', commitment: 'cd', entrants_count: 4001, entrants_truncated: true });
  assert.deepEqual(state.giveaways.get('g1').winners, ['amy']);
  assert.equal(state.giveaways.get('g1').entrants_count, 4001);
  // Frames about things this page never saw change nothing.
  assert.equal(state.apply({ type: 'auction_bid', auction: 'zz', leader: 'x', amount_cents: 1 }), false);
  assert.equal(state.apply({ type: 'voucher_stock', voucher: 'zz', left: 1 }), false);
  assert.equal(FORMAT_FRAMES.length, 9);
});

test('results read as words, unknown reasons named', () => {
  assert.deepEqual(claimOutcome({ ok: true, claim: 'c1' }), ['Voucher claimed: it is taken off your next buy.', 'ok']);
  assert.equal(claimOutcome({ ok: false, reason: 'sold_out' })[1], 'bad');
  assert.deepEqual(bidOutcome({ ok: true, leading: false, reason: 'outbid' }), ['Outbid by another bidder’s maximum.', 'bad']);
  assert.equal(bidOutcome({ ok: true, leading: true })[1], 'ok');
  assert.match(enterOutcome({ ok: false, reason: 'brand_new' })[0], /brand_new/);
  assert.equal(enterOutcome({ ok: true, entrants: 2 })[1], 'ok');
});

test('countdown and voucherOff', () => {
  assert.equal(countdown(61_000), '1:01');
  assert.equal(countdown(3_600_000 + 5_000), '1:00:05');
  assert.equal(countdown(-5), '0:00');
  assert.equal(voucherOff({ percent_off: 15 }), '15% off');
  assert.match(voucherOff({ discount_cents: 500 }, 'EUR'), /5/);
});
