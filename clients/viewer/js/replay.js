// The replay page: the recording with seeking, the products shown at their time (buy at
// list price), and the chat as it was, in sync with the video.

import { api, newKey } from './api.js';
import { currentUser, joinAsGuest, mountSignIn, onChange, takeTokenFromFragment } from './auth.js';
import { clock, el, money } from './format.js';
import { playHls } from './hls.js';
import { TEXT } from './texts.js';

const $ = (id) => document.getElementById(id);
const replayId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const CHAT_SHOWN = 50;
const REASONS = {
  sold_out: 'None left: this product sold out from its replays.',
  not_enough_stock: 'Fewer units are left than you asked for.',
  limit_reached: 'You have reached the limit per buyer for this product.',
  banned: TEXT.banned,
  product_not_found: 'This product is no longer sold.',
};

let replay = null;
let pins = []; // product_pinned entries, in time order
let chats = []; // chat entries, in time order
let shownProduct = null;
let shownChats = -1;

function say(text, kind = '') {
  const note = $('shop-note');
  note.textContent = text;
  note.dataset.kind = kind;
}

function productAt(t) {
  let current = null;
  for (const entry of pins) {
    if (entry.t > t) break;
    current = entry.product;
  }
  return current;
}

function renderProduct(product) {
  const card = $('pinned');
  document.body.dataset.product = product ? product.id : '';
  card.hidden = !product;
  if (!product) return;
  const body = el('div', 'pinned-text');
  body.append(
    el('span', 'label', 'In this replay'),
    el('h2', 'product-title', product.title),
    el('p', 'price', money(product.price_cents, product.currency)),
  );
  const buy = el('button', 'buy', 'Buy at list price');
  buy.type = 'button';
  buy.addEventListener('click', () => startBuy(product));
  body.append(buy);
  card.replaceChildren(body);
}

function renderChat(t) {
  const upto = chats.findIndex((entry) => entry.t > t);
  const count = upto === -1 ? chats.length : upto;
  if (count === shownChats) return;
  shownChats = count;
  const items = chats.slice(Math.max(0, count - CHAT_SHOWN), count).map((entry) => {
    const item = el('li', 'message');
    item.append(el('span', 'user', entry.user || ''), el('span', 'text', entry.text || ''));
    return item;
  });
  $('messages').replaceChildren(...items);
  $('messages').scrollTop = $('messages').scrollHeight;
}

function sync() {
  const t = $('video').currentTime || 0;
  const product = productAt(t);
  if ((product && product.id) !== (shownProduct && shownProduct.id)) {
    shownProduct = product;
    renderProduct(product);
  }
  renderChat(t);
}

async function startBuy(product) {
  if (!currentUser()) {
    try {
      await joinAsGuest();
    } catch (error) {
      say(error.code === 'demo_disabled' ? 'Sign in to buy.' : error.message, 'bad');
      return;
    }
  }
  const key = newKey();
  say('Ordering…');
  try {
    const answer = await api('POST', `/api/replays/${encodeURIComponent(replayId)}/orders`, {
      token: currentUser().token,
      body: { product_id: product.id, qty: 1, key },
    });
    if (answer.ok) {
      document.body.dataset.order = answer.order;
      say(`Order ${answer.order} reserved: pay before ${clock(answer.expires_at)}.`, 'good');
    } else {
      say(REASONS[answer.reason] || answer.reason, 'bad');
    }
  } catch (error) {
    say(error.message, 'bad');
  }
}

async function start() {
  takeTokenFromFragment();
  mountSignIn($('signin'));
  onChange(() => say(''));
  try {
    replay = await api('GET', `/api/replays/${encodeURIComponent(replayId)}`);
  } catch (error) {
    $('player-state').textContent = error.code === 'replay_not_found' ? 'No such replay.' : error.message;
    return;
  }
  pins = replay.timeline.filter((e) => e.type === 'product_pinned' && e.product);
  chats = replay.timeline.filter((e) => e.type === 'chat');
  $('replay-title').textContent = TEXT.replayOf(replay.room);
  $('replay-meta').textContent = `${new Date(replay.started_at).toLocaleString()} · ${Math.round(replay.duration_s)} s`;
  $('room-link').href = `/rooms/${encodeURIComponent(replay.room)}`;
  try {
    const room = await api('GET', `/api/rooms/${encodeURIComponent(replay.room)}`);
    $('replay-title').textContent = `Replay: ${room.title}`;
  } catch {
    /* the room may be gone; the replay still plays */
  }
  const video = $('video');
  for (const name of ['timeupdate', 'seeked', 'loadedmetadata']) video.addEventListener(name, sync);
  const fail = (text) => {
    $('player-state').textContent = text;
    $('player-state').hidden = false;
  };
  video.addEventListener('playing', () => {
    $('player-state').hidden = true;
    document.body.dataset.player = 'playing';
  });
  if (replay.playback_url.endsWith('.m3u8')) {
    const getToken = () => (currentUser() ? currentUser().token : null);
    await playHls(video, replay.playback_url, { onFatal: fail, getToken });
  } else {
    video.src = replay.playback_url;
  }
  video.play().catch(() => {});
  sync();
}

start();
