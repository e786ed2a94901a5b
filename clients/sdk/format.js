// Pure helpers of the embedded room: money, clock, a sale's state, a buy's outcome in words.

export function money(minorUnits, currency) {
  try {
    const format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    const digits = format.resolvedOptions().maximumFractionDigits;
    return format.format(minorUnits / 10 ** digits);
  } catch {
    return `${(minorUnits / 100).toFixed(2)} ${currency}`;
  }
}

export function clock(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

// 'scheduled' | 'open' | 'sold_out' | 'ended' for a sale as the API and frames give it.
export function saleState(sale, now = Date.now()) {
  if (sale.status === 'ended' || now >= sale.ends_at) return 'ended';
  if (now < sale.starts_at) return 'scheduled';
  return sale.left <= 0 ? 'sold_out' : 'open';
}

export const BUY_REASONS = Object.freeze({
  sold_out: 'Sold out: every unit has been taken.',
  not_enough_stock: 'Not enough stock left for that quantity.',
  limit_reached: 'You have reached the limit per buyer for this sale.',
  sale_ended: 'This sale has ended.',
  sale_not_started: 'This sale has not started yet.',
  sale_not_found: 'This sale no longer exists.',
  banned: 'You are banned from this room.',
});

// What to tell the buyer about a buy_result frame.
export function buyOutcome(frame, title = '') {
  if (frame.ok) {
    return `Reserved${title ? `: ${title}` : ''}. Pay before ${clock(frame.expires_at)}.`;
  }
  return BUY_REASONS[frame.reason] || `The purchase was refused (${frame.reason}).`;
}
