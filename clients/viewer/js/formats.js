// Vouchers, auctions and giveaways on the room page: a voucher chip with its claim button,
// an auction card with the live price, a countdown and bid buttons, a giveaway card with
// the viewer's entry state. Every frame of the selling formats lands in handle().

import { countdown, el, money } from './format.js';

const CLAIM_REASONS = {
  sold_out: 'All vouchers are claimed.',
  limit_reached: 'You already claimed this voucher.',
  watch_time_short: 'Keep watching a little longer to unlock this voucher.',
  voucher_ended: 'This voucher has ended.',
  voucher_not_dropped: 'This voucher is not out yet.',
};
const BID_REASONS = {
  bid_too_low: 'Someone bid first; bid again.',
  auction_ended: 'The auction has ended.',
  already_leading: 'You are already the highest bidder.',
  outbid: 'Outbid by another bidder’s maximum.',
};
const ENTER_REASONS = {
  watch_time_short: 'Keep watching a little longer to enter.',
  buyers_only: 'This giveaway is for buyers in this room.',
  keyword_required: 'Type the keyword in the chat first.',
  giveaway_ended: 'This giveaway has ended.',
};

const entrantsText = (count) => `${count} ${count === 1 ? 'entrant' : 'entrants'}`;

let keys = 0;
const newKey = (kind) => `${kind}-${Date.now().toString(36)}-${(keys += 1)}`;

export class FormatsView {
  // elements: {vouchers, auctions, giveaways, note}
  // actions: {send(frame), signedIn() -> bool, needSignIn(retry), me() -> user id | null,
  //           claims() -> Promise of the viewer's claims (GET /api/rooms/{room}/claims)}
  constructor(elements, actions) {
    this.elements = elements;
    this.actions = actions;
    this.vouchers = new Map();
    this.auctions = new Map();
    this.giveaways = new Map();
    this.claimed = new Set();
    this.entered = new Set();
    this.pinned = null;
    setInterval(() => this.tick(), 250);
  }

  // Whether a buy should ask for the best voucher claim this viewer holds.
  hasClaims() {
    return this.claimed.size > 0;
  }

  say(text, kind = '') {
    this.elements.note.textContent = text;
    this.elements.note.dataset.kind = kind;
  }

  setSnapshot(formats) {
    if (!formats) return;
    this.vouchers = new Map(formats.vouchers.map((v) => [v.id, v]));
    this.auctions = new Map(formats.auctions.map((a) => [a.id, a]));
    this.giveaways = new Map(formats.giveaways.map((g) => [g.id, g]));
    this.pinned = formats.pinned_voucher;
    this.render();
    this.loadClaims();
  }

  // The viewer's claims from the server: after a reload the chips still say "Claimed".
  async loadClaims() {
    if (!this.actions.signedIn()) return;
    try {
      for (const claim of await this.actions.claims()) this.claimed.add(claim.voucher);
      this.render();
    } catch {
      /* the chips keep what this page saw */
    }
  }

  handle(frame) {
    const type = frame.type;
    if (type === 'voucher_dropped' || type === 'voucher_pinned' || type === 'voucher_ended') {
      this.vouchers.set(frame.voucher.id, frame.voucher);
      if (type === 'voucher_pinned') this.pinned = frame.voucher.id;
    } else if (type === 'voucher_stock') {
      const voucher = this.vouchers.get(frame.voucher);
      if (voucher) voucher.left = frame.left;
    } else if (type === 'claim_result') {
      this.claimResult(frame);
    } else if (type === 'auction_started') {
      this.auctions.set(frame.auction.id, frame.auction);
    } else if (type === 'auction_bid') {
      const auction = this.auctions.get(frame.auction);
      if (auction) {
        Object.assign(auction, {
          leader: frame.leader,
          amount_cents: frame.amount_cents,
          ends_at: frame.ends_at,
          bids: frame.bids,
          min_next_cents: frame.min_next_cents,
        });
      }
    } else if (type === 'auction_ended') {
      const auction = this.auctions.get(frame.auction);
      if (auction) Object.assign(auction, { status: 'ended', winner: frame.winner, order: frame.order });
      if (frame.winner && frame.winner === this.actions.me()) this.say('You won the auction! Pay your order to get it.', 'ok');
    } else if (type === 'bid_result') {
      this.bidResult(frame);
    } else if (type === 'giveaway_started') {
      this.giveaways.set(frame.giveaway.id, frame.giveaway);
    } else if (type === 'giveaway_ended') {
      const giveaway = this.giveaways.get(frame.giveaway);
      if (giveaway) {
        Object.assign(giveaway, { status: 'ended', winners: frame.winners, seed: frame.seed });
        giveaway.entrants_count = frame.entrants_count;
      }
      if (frame.winners.includes(this.actions.me())) this.say('You won the giveaway!', 'ok');
    } else if (type === 'enter_result') {
      this.enterResult(frame);
    }
    this.render();
  }

  act(frame) {
    if (!this.actions.signedIn()) {
      this.actions.needSignIn(() => this.act(frame));
      return;
    }
    this.actions.send(frame);
  }

  claimResult(frame) {
    if (frame.ok) {
      this.claimed.add(frame.key.split('|')[0]);
      this.say('Voucher claimed: it is taken off your next buy.', 'ok');
    } else {
      this.say(CLAIM_REASONS[frame.reason] || frame.reason, 'bad');
    }
  }

  bidResult(frame) {
    const auction = this.auctions.get(frame.auction);
    if (frame.ok && frame.leading) this.say('You are the highest bidder.', 'ok');
    else if (frame.reason === 'bid_too_low' && auction && frame.min_cents) {
      auction.min_next_cents = frame.min_cents;
      this.say(BID_REASONS.bid_too_low, 'bad');
    } else this.say(BID_REASONS[frame.reason] || frame.reason, 'bad');
  }

  enterResult(frame) {
    if (frame.ok) {
      this.entered.add(frame.giveaway);
      this.say('You are in the giveaway. Good luck!', 'ok');
    } else {
      this.say(ENTER_REASONS[frame.reason] || frame.reason, 'bad');
    }
  }

  render() {
    this.elements.vouchers.replaceChildren(
      ...[...this.vouchers.values()].filter((v) => v.status !== 'ready').map((v) => this.voucherChip(v)),
    );
    this.elements.auctions.replaceChildren(...[...this.auctions.values()].map((a) => this.auctionCard(a)));
    this.elements.giveaways.replaceChildren(...[...this.giveaways.values()].map((g) => this.giveawayCard(g)));
  }

  tick() {
    for (const card of document.querySelectorAll('[data-ends-at]')) {
      const left = Number(card.dataset.endsAt) - Date.now();
      const clockEl = card.querySelector('.countdown');
      if (clockEl) clockEl.textContent = left > 0 ? countdown(left) : 'Ended';
    }
  }

  voucherChip(voucher) {
    const chip = el('div', `voucher voucher-${voucher.status}`);
    chip.dataset.voucher = voucher.id;
    if (voucher.id === this.pinned) chip.classList.add('voucher-pinned');
    const off = voucher.percent_off ? `${voucher.percent_off}% off` : `${money(voucher.discount_cents, 'EUR')} off`;
    chip.append(el('strong', '', off), el('span', 'voucher-title', voucher.title));
    chip.append(el('span', 'voucher-left', `${Math.max(0, voucher.left)} left`));
    const button = el('button', 'claim');
    button.type = 'button';
    const mine = this.claimed.has(voucher.id);
    button.textContent = mine ? 'Claimed' : 'Claim';
    button.disabled = mine || voucher.status !== 'live' || voucher.left <= 0;
    button.addEventListener('click', () =>
      this.act({ type: 'claim', voucher: voucher.id, key: `${voucher.id}|${newKey('claim')}` }),
    );
    chip.append(button);
    return chip;
  }

  auctionCard(auction) {
    const ended = auction.status === 'ended';
    const card = el('article', `auction auction-${ended ? 'ended' : 'open'}`);
    card.dataset.auction = auction.id;
    if (!ended) card.dataset.endsAt = String(auction.ends_at);
    const head = el('div', 'sale-head');
    head.append(el('span', 'label', auction.sudden_death ? 'Auction · sudden death' : 'Auction'));
    head.append(el('span', 'countdown', ended ? 'Ended' : countdown(auction.ends_at - Date.now())));
    const price = auction.amount_cents ?? auction.start_price_cents;
    const leader = auction.leader ? `${auction.leader} leads` : 'No bids yet';
    card.append(head, el('h3', 'product-title', auction.title));
    card.append(el('p', 'price auction-price', money(price, auction.currency)), el('p', 'stock', leader));
    if (ended) {
      const won = auction.winner ? `Won by ${auction.winner}` : 'Not sold';
      card.append(el('p', 'auction-result', won));
      return card;
    }
    const bid = el('button', 'buy bid');
    bid.type = 'button';
    bid.textContent = `Bid ${money(auction.min_next_cents, auction.currency)}`;
    bid.addEventListener('click', () =>
      this.act({ type: 'bid', auction: auction.id, amount_cents: auction.min_next_cents, key: newKey('bid') }),
    );
    card.append(bid);
    return card;
  }

  giveawayCard(giveaway) {
    const ended = giveaway.status === 'ended';
    const card = el('article', `giveaway giveaway-${ended ? 'ended' : 'open'}`);
    card.dataset.giveaway = giveaway.id;
    if (!ended) card.dataset.endsAt = String(giveaway.ends_at);
    const head = el('div', 'sale-head');
    head.append(el('span', 'label', 'Giveaway'), el('span', 'countdown'));
    card.append(head, el('h3', 'product-title', giveaway.title));
    const rules = giveaway.eligibility || {};
    if (rules.keyword) card.append(el('p', 'stock', `Type “${rules.keyword}” in the chat, then enter.`));
    if (ended) {
      const mine = (giveaway.winners || []).includes(this.actions.me());
      card.append(el('p', 'giveaway-result', mine ? 'You won!' : `Winners: ${(giveaway.winners || []).join(', ') || 'none'}`));
      if (giveaway.entrants_count !== undefined) card.append(el('p', 'stock giveaway-entrants', entrantsText(giveaway.entrants_count)));
      return card;
    }
    const enter = el('button', 'buy enter');
    enter.type = 'button';
    const inside = this.entered.has(giveaway.id);
    enter.textContent = inside ? 'Entered' : 'Enter';
    enter.disabled = inside;
    enter.addEventListener('click', () => this.act({ type: 'enter', giveaway: giveaway.id }));
    card.append(enter);
    return card;
  }
}
