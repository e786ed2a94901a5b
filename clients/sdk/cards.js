// The element's selling formats: a voucher chip with Claim, an auction card with the live
// price, a countdown and Bid, a giveaway card with Enter. Actions go through LiveRoom's
// claim/bid/enter (keyed, resent until answered); the words come from formats.js.

import { money } from './format.js';
import {
  FORMAT_FRAMES,
  FormatsState,
  bidOutcome,
  claimOutcome,
  countdown,
  enterOutcome,
  voucherOff,
} from './formats.js';

export { FORMAT_FRAMES };

export class FormatCards {
  // parts: {vouchers, auctions, giveaways} containers; el(tag, part, text) makes an element;
  // host: {liveRoom, requireToken(), say(text, kind), me()}
  constructor(parts, el, host) {
    this.parts = parts;
    this.el = el;
    this.host = host;
    this.state = new FormatsState();
    this.busy = new Set(); // ids with an action in flight
  }

  snapshot(formats) {
    this.state.snapshot(formats);
    this.render();
  }

  handle(frame) {
    if (!this.state.apply(frame)) return;
    if (frame.type === 'auction_ended' && frame.winner && frame.winner === this.host.me()) {
      this.host.say('You won the auction! Pay your order to get it.', 'ok');
    }
    if (frame.type === 'giveaway_ended' && frame.winners.includes(this.host.me())) {
      this.host.say('You won the giveaway!', 'ok');
    }
    this.render();
  }

  // Updates the countdowns' text only: a redraw under a finger pressing Bid would lose it.
  tick(now = Date.now()) {
    for (const root of [this.parts.auctions, this.parts.giveaways]) {
      for (const card of root.children) {
        const clock = card.querySelector('.countdown');
        if (clock && card.dataset.endsAt) clock.textContent = countdown(Number(card.dataset.endsAt) - now);
      }
    }
  }

  async act(id, start, outcome, after) {
    const live = this.host.liveRoom;
    if (!this.host.requireToken() || !live || this.busy.has(id)) return;
    this.busy.add(id);
    this.render();
    try {
      const result = await start(live);
      const [text, kind] = outcome(result);
      if (after) after(result);
      this.host.say(text, kind);
    } catch (error) {
      this.host.say(error.message, 'bad');
    } finally {
      this.busy.delete(id);
      this.render();
    }
  }

  render() {
    const { vouchers, auctions, giveaways } = this.state;
    this.parts.vouchers.replaceChildren(...this.state.shownVouchers().map((v) => this.chip(v)));
    this.parts.auctions.replaceChildren(...[...auctions.values()].map((a) => this.auction(a)));
    this.parts.giveaways.replaceChildren(...[...giveaways.values()].map((g) => this.giveaway(g)));
    this.parts.vouchers.hidden = vouchers.size === 0;
    this.tick();
  }

  button(part, text, disabled, onClick) {
    const button = this.el('button', part, text);
    button.type = 'button';
    button.disabled = disabled;
    button.addEventListener('click', onClick);
    return button;
  }

  chip(voucher) {
    const chip = this.el('div', 'voucher');
    chip.dataset.voucher = voucher.id;
    chip.dataset.status = voucher.status;
    if (voucher.id === this.state.pinned) chip.dataset.pinned = 'true';
    const mine = this.state.claimed.has(voucher.id);
    const closed = voucher.status !== 'live' || voucher.left <= 0;
    const claim = this.button('claim', mine ? 'Claimed' : 'Claim', mine || closed || this.busy.has(voucher.id), () =>
      this.act(
        voucher.id,
        (live) => live.claim(voucher.id),
        claimOutcome,
        (result) => result.ok && this.state.claimed.add(voucher.id),
      ),
    );
    chip.append(
      this.el('strong', 'voucher-off', voucherOff(voucher)),
      this.el('span', 'voucher-title', voucher.title),
      this.el('span', 'voucher-left', `${Math.max(0, voucher.left)} left`),
      claim,
    );
    return chip;
  }

  auction(auction) {
    const ended = auction.status === 'ended';
    const card = this.el('article', 'auction');
    card.dataset.auction = auction.id;
    card.dataset.status = ended ? 'ended' : 'open';
    if (!ended) card.dataset.endsAt = String(auction.ends_at);
    const price = auction.amount_cents ?? auction.start_price_cents;
    const leader = auction.leader ? `${auction.leader} leads` : 'No bids yet';
    card.append(
      this.el('span', 'countdown', ended ? 'Ended' : ''),
      this.el('h3', 'auction-title', auction.title),
      this.el('p', 'auction-price', money(price, auction.currency)),
      this.el('p', 'auction-leader', leader),
    );
    if (ended) {
      card.append(this.el('p', 'auction-result', auction.winner ? `Won by ${auction.winner}` : 'Not sold'));
      return card;
    }
    const next = auction.min_next_cents;
    const bid = this.button('bid', `Bid ${money(next, auction.currency)}`, this.busy.has(auction.id), () =>
      this.act(auction.id, (live) => live.bid(auction.id, next), bidOutcome, (result) => {
        if (result.reason === 'bid_too_low' && result.min_cents) auction.min_next_cents = result.min_cents;
      }),
    );
    card.append(bid);
    return card;
  }

  giveaway(giveaway) {
    const ended = giveaway.status === 'ended';
    const card = this.el('article', 'giveaway');
    card.dataset.giveaway = giveaway.id;
    card.dataset.status = ended ? 'ended' : 'open';
    if (!ended) card.dataset.endsAt = String(giveaway.ends_at);
    card.append(this.el('span', 'countdown', ended ? 'Ended' : ''), this.el('h3', 'giveaway-title', giveaway.title));
    const keyword = giveaway.eligibility && giveaway.eligibility.keyword;
    if (keyword && !ended) card.append(this.el('p', 'giveaway-rule', `Type “${keyword}” in the chat, then enter.`));
    if (ended) {
      const winners = giveaway.winners || [];
      const text = winners.includes(this.host.me()) ? 'You won!' : `Winners: ${winners.join(', ') || 'none'}`;
      card.append(this.el('p', 'giveaway-result', text));
      const count = giveaway.entrants_count;
      if (count !== undefined) card.append(this.el('p', 'giveaway-entrants', `${count} ${count === 1 ? 'entrant' : 'entrants'}`));
      return card;
    }
    const inside = this.state.entered.has(giveaway.id);
    const enter = this.button('enter', inside ? 'Entered' : 'Enter', inside || this.busy.has(giveaway.id), () =>
      this.act(
        giveaway.id,
        (live) => live.enter(giveaway.id),
        enterOutcome,
        (result) => result.ok && this.state.entered.add(giveaway.id),
      ),
    );
    card.append(enter);
    return card;
  }
}
