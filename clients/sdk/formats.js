// The selling formats' state and words, pure (no DOM): what the element's voucher chips,
// auction cards and giveaway cards show, kept up to date by the frames of docs/formats.md.

import { money } from './format.js';

export const CLAIM_REASONS = Object.freeze({
  sold_out: 'All vouchers are claimed.',
  limit_reached: 'You already claimed this voucher.',
  watch_time_short: 'Keep watching a little longer to unlock this voucher.',
  voucher_ended: 'This voucher has ended.',
  voucher_not_dropped: 'This voucher is not out yet.',
  voucher_not_found: 'This voucher no longer exists.',
  banned: 'You are banned from this room.',
});
export const BID_REASONS = Object.freeze({
  bid_too_low: 'Someone bid first; bid again.',
  auction_ended: 'The auction has ended.',
  already_leading: 'You are already the highest bidder.',
  outbid: 'Outbid by another bidder’s maximum.',
  auction_not_found: 'This auction no longer exists.',
  banned: 'You are banned from this room.',
});
export const ENTER_REASONS = Object.freeze({
  watch_time_short: 'Keep watching a little longer to enter.',
  buyers_only: 'This giveaway is for buyers in this room.',
  keyword_required: 'Type the keyword in the chat first.',
  giveaway_ended: 'This giveaway has ended.',
  giveaway_not_found: 'This giveaway no longer exists.',
  banned: 'You are banned from this room.',
});
// The frames FormatsState.apply() reads.
export const FORMAT_FRAMES = Object.freeze([
  'voucher_dropped',
  'voucher_pinned',
  'voucher_ended',
  'voucher_stock',
  'auction_started',
  'auction_bid',
  'auction_ended',
  'giveaway_started',
  'giveaway_ended',
]);

// [text, kind] for a claim_result / bid_result / enter_result.
export function claimOutcome(frame) {
  if (frame.ok) return ['Voucher claimed: it is taken off your next buy.', 'ok'];
  return [CLAIM_REASONS[frame.reason] || `The claim was refused (${frame.reason}).`, 'bad'];
}

export function bidOutcome(frame) {
  if (frame.ok && frame.leading) return ['You are the highest bidder.', 'ok'];
  return [BID_REASONS[frame.reason] || `The bid was refused (${frame.reason}).`, 'bad'];
}

export function enterOutcome(frame) {
  if (frame.ok) return ['You are in the giveaway. Good luck!', 'ok'];
  return [ENTER_REASONS[frame.reason] || `The entry was refused (${frame.reason}).`, 'bad'];
}

// "12% off" or "5,00 € off" for a voucher.
export function voucherOff(voucher, currency = 'EUR') {
  if (voucher.percent_off) return `${voucher.percent_off}% off`;
  return `${money(voucher.discount_cents || 0, currency)} off`;
}

// "m:ss" (or "h:mm:ss") of a time left in ms; 0 once it has passed.
export function countdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export class FormatsState {
  constructor() {
    this.vouchers = new Map();
    this.auctions = new Map();
    this.giveaways = new Map();
    this.pinned = null;
    this.claimed = new Set(); // voucher ids this viewer claimed
    this.entered = new Set(); // giveaway ids this viewer entered
  }

  // The welcome's `formats` snapshot (absent on servers without the formats).
  snapshot(formats) {
    if (!formats) return;
    this.vouchers = new Map(formats.vouchers.map((v) => [v.id, v]));
    this.auctions = new Map(formats.auctions.map((a) => [a.id, a]));
    this.giveaways = new Map(formats.giveaways.map((g) => [g.id, g]));
    this.pinned = formats.pinned_voucher ?? null;
  }

  // Applies one of FORMAT_FRAMES; true when something shown changed.
  apply(frame) {
    const type = frame.type;
    if (type.startsWith('voucher_') && type !== 'voucher_stock') {
      this.vouchers.set(frame.voucher.id, frame.voucher);
      if (type === 'voucher_pinned') this.pinned = frame.voucher.id;
      return true;
    }
    if (type === 'auction_started') {
      this.auctions.set(frame.auction.id, frame.auction);
      return true;
    }
    if (type === 'giveaway_started') {
      this.giveaways.set(frame.giveaway.id, frame.giveaway);
      return true;
    }
    const voucher = type === 'voucher_stock' && this.vouchers.get(frame.voucher);
    if (voucher) voucher.left = frame.left;
    const auction = type.startsWith('auction_') && this.auctions.get(frame.auction);
    if (auction && type === 'auction_bid') {
      const { leader, amount_cents, ends_at, bids, min_next_cents } = frame;
      Object.assign(auction, { leader, amount_cents, ends_at, bids, min_next_cents });
    }
    if (auction && type === 'auction_ended') {
      const { winner, amount_cents, order } = frame;
      Object.assign(auction, { status: 'ended', winner, amount_cents, order });
    }
    const giveaway = type === 'giveaway_ended' && this.giveaways.get(frame.giveaway);
    if (giveaway) {
      Object.assign(giveaway, { status: 'ended', winners: frame.winners, seed: frame.seed });
      giveaway.entrants_count = frame.entrants_count;
    }
    return Boolean(voucher || auction || giveaway);
  }

  // Vouchers to show: dropped ones (live, sold out, ended), the pinned one first.
  shownVouchers() {
    const shown = [...this.vouchers.values()].filter((v) => v.status !== 'ready');
    return shown.sort((a, b) => (b.id === this.pinned) - (a.id === this.pinned));
  }
}
