// The room page: wires the player, the channel, the chat and the shop together.

import { api } from './api.js';
import { currentUser, joinAsGuest, mountSignIn, onChange, signOut, takeTokenFromFragment } from './auth.js';
import { Channel } from './channel.js';
import { ChatView } from './chat.js';
import { clock } from './format.js';
import { WhepPlayer } from './player.js';
import { ShopView } from './shop.js';

const $ = (id) => document.getElementById(id);
const roomId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const STAFF = new Set(['moderator', 'admin']);

let room = null;
let you = { user: null, role: 'anonymous', can_chat: false };
// Said just before a reconnect, and said again once its welcome is in.
let carriedNote = '';

// The signed-in user, unless the token is limited to another room: the server refuses such a
// token here (close 4403 not_your_room), so this page then watches anonymously.
function userHere() {
  const user = currentUser();
  return user && (!user.room || user.room === roomId) ? user : null;
}

function tokenHere() {
  const user = userHere();
  return user ? user.token : null;
}

const ERRORS = {
  sign_in_required: 'Sign in to chat, like or buy.',
  room_muted: 'The room is muted: only the anchor and moderators can chat.',
  muted: 'You are timed out for now.',
  banned: 'You are banned from this room.',
  blocked_term: 'That message contains a word this room does not allow.',
  message_too_long: 'That message is too long.',
};

function untilText(until) {
  const seconds = Math.max(1, Math.ceil((until - Date.now()) / 1000));
  return `${seconds} s`;
}

function errorText(frame) {
  if (frame.code === 'rate_limited') {
    return frame.until ? `You are sending too fast; wait ${untilText(frame.until)}.` : frame.message;
  }
  if (frame.code === 'slow_mode') {
    return frame.until ? `Slow mode is on; wait ${untilText(frame.until)}.` : frame.message;
  }
  if (frame.code === 'muted' && frame.until) return `You are timed out until ${clock(frame.until)}.`;
  return ERRORS[frame.code] || frame.message;
}

function canModerate() {
  if (STAFF.has(you.role)) return true;
  return you.role === 'anchor' && room !== null && room.anchor === you.user;
}

const chat = new ChatView($('messages'), $('chat-note'), {
  allowed: canModerate,
  me: () => you.user,
  remove: (id) => api('DELETE', `/api/rooms/${roomId}/messages/${encodeURIComponent(id)}`, { token: tokenHere() }),
  timeout: (user, seconds) =>
    api('POST', `/api/rooms/${roomId}/moderation/mute-user`, { token: tokenHere(), body: { user, duration_s: seconds } }),
  ban: (user) => api('POST', `/api/rooms/${roomId}/moderation/ban`, { token: tokenHere(), body: { user } }),
});

// Not signed in: on a demo server take a guest token at once, else say how to sign in.
async function needSignIn(retry, say) {
  try {
    await joinAsGuest();
    retry();
  } catch (error) {
    say(error.code === 'demo_disabled' ? 'Sign in to take part: paste your token above.' : error.message);
  }
}

const shop = new ShopView(
  { pinned: $('pinned'), sales: $('sales'), order: $('order'), note: $('shop-note') },
  {
    send: (frame) => channel.send(frame),
    signedIn: () => userHere() !== null,
    needSignIn: (retry) => needSignIn(retry, (text) => shop.say(text, 'bad')),
  },
);

const playerState = $('player-state');
const player = new WhepPlayer($('video'), `/whep/${encodeURIComponent(roomId)}`, tokenHere, (state, detail) => {
  const words = {
    connecting: 'Connecting…',
    waiting: detail,
    retrying: detail,
    stopped: detail || 'Stopped.',
  };
  playerState.hidden = state === 'playing';
  playerState.textContent = words[state] || '';
  document.body.dataset.player = state;
});

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
  const notes = carriedNote ? [carriedNote] : [];
  carriedNote = '';
  if (frame.room_muted) notes.push('The room is muted: only the anchor and moderators can chat.');
  if (you.muted_until) notes.push(`You are timed out until ${clock(you.muted_until)}.`);
  if (frame.slow_mode && frame.slow_mode.interval_s) notes.push(`Slow mode: one message every ${frame.slow_mode.interval_s} s.`);
  chat.say(notes.join(' '));
}

const handlers = {
  welcome,
  chat: (f) => chat.add(f),
  chat_deleted: (f) => chat.remove(f.id),
  likes: (f) => setLikes(f.total),
  viewers: (f) => setViewers(f.count),
  live: () => {
    chat.notice('The stream is live.');
    player.restart();
  },
  offline: () => chat.notice('The stream went offline; it resumes when the anchor is back.'),
  product_pinned: (f) => shop.setPinned(f.product),
  sale_started: (f) => {
    loadProducts();
    shop.upsertSale(f.sale);
    chat.notice('A flash sale has started!');
  },
  sale_stock: (f) => shop.stock(f.sale, f.left),
  sold_out: (f) => shop.soldOut(f.sale),
  sale_ended: (f) => shop.ended(f.sale),
  buy_result: (f) => shop.buyResult(f),
  order: (f) => shop.orderStatus(f),
  room_muted: (f) =>
    chat.notice(f.until ? `The room is muted until ${clock(f.until)}.` : 'The room is muted: only the anchor and moderators can chat.'),
  room_unmuted: () => chat.notice('The room is no longer muted.'),
  muted: (f) => chat.notice(`You are timed out until ${clock(f.until)}.`, 'bad'),
  unmuted: () => chat.notice('Your timeout is over; you can chat again.'),
  banned: () => chat.notice('You were banned from this room.', 'bad'),
  unbanned: () => chat.notice('Your ban was lifted.'),
  slow_mode: (f) =>
    chat.notice(f.interval_s ? `Slow mode: one message every ${f.interval_s} s.` : 'Slow mode is off.'),
  room_ended: () => ended(),
  error: (f) => {
    const text = errorText(f);
    if (f.code === 'sign_in_required' || f.code === 'banned') shop.failPending(text);
    chat.say(text);
  },
};

function ended() {
  chat.notice('The room has ended. Thanks for watching!');
  player.stop();
  playerState.textContent = 'The room has ended.';
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
    if (state === 'closed' && code === 4401) {
      carriedNote = 'Your token is no longer valid; you are watching anonymously. Sign in again to chat.';
      chat.say(carriedNote);
      signOut();
    } else if (state === 'closed') {
      chat.say('Reconnecting to the room…');
    } else if (state === 'open') {
      if (/Reconnecting/.test($('chat-note').textContent)) chat.say('');
    } else if (state === 'banned') {
      chat.say('You are banned from this room.');
      shop.failPending('You are banned from this room.');
    } else if (state === 'room_ended') {
      ended();
    } else if (state === 'no_room') {
      chat.say('There is no such room.');
    }
  },
);

async function loadProducts() {
  try {
    const answer = await api('GET', `/api/rooms/${roomId}/products`);
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
    showRoom(await api('GET', `/api/rooms/${encodeURIComponent(roomId)}`));
  } catch (error) {
    playerState.textContent = error.code === 'room_not_found' ? 'There is no such room.' : error.message;
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
