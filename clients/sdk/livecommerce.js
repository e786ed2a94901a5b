// The livecommerce JavaScript SDK: ES module, no build step. Import it from a server's
// /sdk/livecommerce.js; in a browser it also defines <livecommerce-room>.

export { ApiError, RestClient, api, newKey } from './rest.js';
export { BuyError, FIRST_RETRY_MS, LiveRoom, MAX_RETRY_MS, channelUrl, nextDelay } from './room.js';
export { PLAYER_TEXTS, WhepPlayer, parseIceServerLinks, whepUrl } from './player.js';
export { buyOutcome, money, saleState } from './format.js';
export {
  FormatsState,
  bidOutcome,
  claimOutcome,
  countdown,
  enterOutcome,
  voucherOff,
} from './formats.js';

export const VERSION = '0.1.0';

// Only in a browser: Node (the SDK's tests) has no custom elements.
if (typeof customElements !== 'undefined' && typeof HTMLElement !== 'undefined') {
  const { defineElement } = await import('./element.js');
  defineElement();
}
