// The room page: wires the player, the channel, the chat and the shop together.

import { api } from './api.js';
import { currentUser, joinAsGuest, mountSignIn, onChange, signOut, takeTokenFromFragment } from './auth.js';
import { Channel } from './channel.js';
import { ChatView } from './chat.js';
import { CLOSE_CODES } from './errors.js';
import { RoomModeration } from './moderation.js';
import { FormatsView } from './formats.js';
import { LiveFallback } from './live_fallback.js';
import { WhepPlayer } from './player.js';
import { samplingNote } from './sampling.js';
import { ShopView } from './shop.js';
import { TEXT } from './texts.js';

const $ = (id) => document.getElementById(id);
const roomId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const STAFF = new Set(['moderator', 'admin']);
// Every URL of this room: the id comes from the address bar, so it is always encoded.
const roomPath = (prefix, rest = '') => `${prefix}/${encodeURIComponent(roomId)}${rest}`;

let room = null;
let you = { user: null, role: 'anonymous', can_chat: false };
// Said just before a reconnect, and said again once its welcome is in.
let carriedNote = '';

// The signed-in user, unless the token is limited to another room: the server refuses such a
// token here (closing with not_your_room), so this page then watches anonymously.
function userHere() {
  const user = currentUser();
  return user && (!user.room || user.room === roomId) ? user : null;
}

function tokenHere() {
  const user = userHere();
  return user ? user.token : null;
}

const ERRORS = {
  sign_in_required: TEXT.signInToAct,
  room_muted: TEXT.roomMuted,
  muted: TEXT.timedOut,
  banned: TEXT.banned,
  blocked_term: TEXT.blockedTerm,
  message_too_long: TEXT.tooLong,
};

function errorText(frame) {
  if (frame.code === 'rate_limited') return frame.until ? TEXT.tooFast(frame.until) : frame.message;
  if (frame.code === 'slow_mode') return frame.until ? TEXT.slowModeWait(frame.until) : frame.message;
  if (frame.code === 'muted' && frame.until) return TEXT.timedOutUntil(frame.until);
  return ERRORS[frame.code] || frame.message;
}

function canModerate() {
  if (STAFF.has(you.role)) return true;
  return you.role === 'anchor' && room !== null && room.anchor === you.user;
}

const chat = new ChatView($('messages'), $('chat-note'), {
  allowed: canModerate,
  me: () => you.user,
  remove: (id) =>
    api('DELETE', roomPath('/api/rooms', `/messages/${encodeURIComponent(id)}`), { token: tokenHere() }),
  timeout: (user, seconds) =>
    api('POST', roomPath('/api/rooms', '/moderation/mute-user'), {
      token: tokenHere(),
      body: { user, duration_s: seconds },
    }),
  ban: (user) => api('POST', roomPath('/api/rooms', '/moderation/ban'), { token: tokenHere(), body: { user } }),
  report: (message) => (userHere() ? channel.send({ type: 'report', message, reason: 'reported' }) : null),
});
const moderation = new RoomModeration(chat, $('console-link'));
$('console-link').href = roomPath('/mod/rooms');

// Not signed in: on a demo server take a guest token at once, else say how to sign in.
async function needSignIn(retry, say) {
  try {
    await joinAsGuest();
    retry();
  } catch (error) {
    say(error.code === 'demo_disabled' ? TEXT.signInToTakePart : error.message);
  }
}

const shop = new ShopView(
  { pinned: $('pinned'), sales: $('sales'), order: $('order'), note: $('shop-note') },
  {
    send: (frame) => channel.send(frame),
    signedIn: () => userHere() !== null,
    needSignIn: (retry) => needSignIn(retry, (text) => shop.say(text, 'bad')),
    buyExtras: () => (formats.hasClaims() ? { voucher_claim: 'best' } : {}),
  },
);

const formats = new FormatsView(
  { vouchers: $('vouchers'), auctions: $('auctions'), giveaways: $('giveaways'), note: $('shop-note') },
  {
    send: (frame) => channel.send(frame),
    signedIn: () => userHere() !== null,
    needSignIn: (retry) => needSignIn(retry, (text) => shop.say(text, 'bad')),
    me: () => you.user,
    claims: async () => (await api('GET', roomPath('/api/rooms', '/claims'), { token: tokenHere() })).claims,
  },
);
const onFormat = (frame) => formats.handle(frame);

const playerState = $('player-state');
const player = new WhepPlayer($('video'), roomPath('/whep'), tokenHere, (state, detail) => {
  if (fallback.onPlayerState(state)) return;
  const words = {
    unsupported: detail,
    connecting: TEXT.connecting,
    waiting: detail,
    retrying: detail,
    stopped: detail || TEXT.stopped,
  };
  playerState.hidden = state === 'playing';
  playerState.textContent = words[state] || '';
  document.body.dataset.player = state;
});

const fallback = new LiveFallback($('video'), roomId, player, tokenHere);

function setViewers(count) {
  $('viewers').textContent = String(count);
}

function setLikes(total) {
  const shown = Number($('likes').textContent) || 0;
  if (total > shown) $('likes').textContent = String(total);
}

function showRoom(value) {
  room = value;
  $('room-title').textContent = room.title;
  $('room-anchor').textContent = room.anchor;
  document.title = `${room.title} · livecommerce`;
}

function welcome(frame) {
  showRoom(frame.room);
  you = frame.you;
  if (frame.resumed) {
    for (const message of frame.messages) chat.add(message);
  } else {
    chat.reset(frame.messages);
  }
  chat.refreshControls();
  setViewers(frame.viewers);
  setLikes(frame.likes);
  shop.setPinned(frame.pinned_product);
  shop.setSales(frame.sales);
  shop.resendPending();
  formats.setSnapshot(frame.formats);
  const notes = carriedNote ? [carriedNote] : [];
  carriedNote = '';
  if (frame.room_muted) notes.push(TEXT.roomMuted);
  if (you.muted_until) notes.push(TEXT.timedOutUntil(you.muted_until));
  if (frame.slow_mode && frame.slow_mode.interval_s) notes.push(TEXT.slowMode(frame.slow_mode.interval_s));
  chat.say(notes.join(' '));
}

const handlers = {
  welcome,
  chat: (f) => chat.add(f),
  chat_deleted: (f) => chat.remove(f.id),
  chat_sampling: (f) => chat.notice(samplingNote(f)),
  likes: (f) => setLikes(f.total),
  viewers: (f) => setViewers(f.count),
  live: () => {
    chat.notice(TEXT.live);
    player.wake();
  },
  offline: () => chat.notice(TEXT.offline),
  product_pinned: (f) => shop.setPinned(f.product),
  sale_started: (f) => {
    loadProducts();
    shop.upsertSale(f.sale);
    chat.notice(TEXT.saleStarted);
  },
  sale_stock: (f) => shop.stock(f.sale, f.left),
  sold_out: (f) => shop.soldOut(f.sale),
  sale_ended: (f) => shop.ended(f.sale),
  buy_result: (f) => shop.buyResult(f),
  order: (f) => shop.orderStatus(f),
  room_muted: (f) => chat.notice(f.until ? TEXT.roomMutedUntil(f.until) : TEXT.roomMuted),
  room_unmuted: () => chat.notice(TEXT.roomUnmuted),
  muted: (f) => chat.notice(TEXT.timedOutUntil(f.until), 'bad'),
  unmuted: () => chat.notice(TEXT.timeoutOver),
  banned: () => chat.notice(TEXT.bannedNow, 'bad'),
  unbanned: () => chat.notice(TEXT.unbanned),
  slow_mode: (f) => chat.notice(TEXT.slowMode(f.interval_s)),
  room_ended: () => ended(),
  chat_held: (f) => moderation.held(f),
  chat_approved: (f) => moderation.approved(f),
  chat_denied: (f) => moderation.denied(f),
  review: (f) => moderation.review(f),
  review_resolved: (f) => moderation.resolved(f),
  automod: () => {},
  shield: (f) => moderation.shield(f),
  report_received: (f) => moderation.reportAnswer(f),
  voucher_dropped: onFormat,
  voucher_pinned: onFormat,
  voucher_ended: onFormat,
  voucher_stock: onFormat,
  claim_result: onFormat,
  auction_started: onFormat,
  auction_bid: onFormat,
  auction_ended: onFormat,
  bid_result: onFormat,
  giveaway_started: onFormat,
  giveaway_ended: onFormat,
  enter_result: onFormat,
  room_order: () => {}, // the staff's orders feed (the studio shows it)
  error: (f) => {
    const text = errorText(f);
    if (f.code === 'sign_in_required' || f.code === 'banned') shop.failPending(text);
    chat.say(text);
  },
};

function ended() {
  chat.notice(TEXT.thanks);
  player.stop();
  fallback.stop();
  playerState.textContent = TEXT.roomEnded;
  playerState.hidden = false;
  $('chat-input').disabled = true;
}

const channel = new Channel(
  roomId,
  tokenHere,
  (frame) => {
    const handler = handlers[frame.type];
    if (handler) handler(frame);
  },
  (state, code) => {
    document.body.dataset.channel = state;
    if (state === 'closed' && code === CLOSE_CODES.token_expired) {
      carriedNote = TEXT.tokenInvalid;
      chat.say(carriedNote);
      signOut();
    } else if (state === 'closed') {
      chat.say(TEXT.reconnecting);
    } else if (state === 'open') {
      if ($('chat-note').textContent === TEXT.reconnecting) chat.say('');
    } else if (state === 'banned') {
      chat.say(TEXT.banned);
      shop.failPending(TEXT.banned);
    } else if (state === 'room_ended') {
      ended();
    } else if (state === 'no_room') {
      chat.say(TEXT.noSuchRoom);
    }
  },
);

async function loadProducts() {
  try {
    const answer = await api('GET', roomPath('/api/rooms', '/products'));
    shop.setProducts(answer.products);
  } catch {
    /* sale cards show a generic title until the next try */
  }
}

function sendChat(text) {
  channel.send({ type: 'chat', text });
}

$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('chat-input');
  const text = input.value.trim();
  if (!text) return;
  if (!userHere()) {
    needSignIn(() => sendChat(text), (t) => chat.say(t));
  } else {
    sendChat(text);
  }
  input.value = '';
});

$('like').addEventListener('click', () => {
  if (!userHere()) {
    needSignIn(() => channel.send({ type: 'like', count: 1 }), (t) => chat.say(t));
    return;
  }
  channel.send({ type: 'like', count: 1 });
});

const video = $('video');
const unmute = $('unmute');
unmute.addEventListener('click', () => {
  video.muted = !video.muted;
  if (!video.muted) video.play().catch(() => {});
  unmute.textContent = video.muted ? 'Tap to unmute' : 'Mute';
});

async function start() {
  takeTokenFromFragment();
  mountSignIn($('signin'));
  try {
    showRoom(await api('GET', roomPath('/api/rooms')));
  } catch (error) {
    playerState.textContent = error.code === 'room_not_found' ? TEXT.noSuchRoom : error.message;
    return;
  }
  if (room.status === 'ended') {
    ended();
    return;
  }
  await loadProducts();
  // A new token (signed in, guest, signed out) changes who we are on the channel.
  onChange(() => {
    channel.reconnect();
    if (document.body.dataset.player !== 'playing') player.restart();
  });
  channel.connect();
  player.start();
  window.addEventListener('pagehide', () => player.stop());
}

start();
