// The anchor's web studio (/studio): sign in with the anchor token, pick a room, go live from
// the camera or the screen over WHIP, and run chat, products, sales and orders from one page.

import { api } from './api.js';
import { currentUser, signIn, signOut, takeTokenFromFragment, token } from './auth.js';
import { Channel } from './channel.js';
import { ChatView } from './chat.js';
import { el, money } from './format.js';
import { FormatsPane, orderLine } from './studio_formats.js';
import { HealthPane, OrdersFeed, ProductsPane, SalePane, StatusBar } from './studio_panes.js';
import { WhipPublisher } from './studio_whip.js';
import { TEXT } from './texts.js';

const POLL_MS = 2000;
const RESERVATION_TTL_S = 300;
const CONFIRM_MS = 3000;
const $ = (id) => document.getElementById(id);
const roomPath = (suffix = '') => `/api/rooms/${encodeURIComponent(room)}${suffix}`;
const call = (method, suffix, body) => api(method, roomPath(suffix), { token: token(), body });

let room = null;
let channel = null;
let publisher = null;
let stream = null;
let likesTotal = null;
let lastStats = null;
let lastMedia = null;
let lastLocal = null;
let imageFor = null;
let orderFrames = false; // the server sends room_order: the feed says who reserved and paid

const status = new StatusBar();
const feed = new OrdersFeed();
const health = new HealthPane();
const shopNote = (text, kind) => {
  $('shop-note').textContent = text;
  $('shop-note').dataset.kind = kind || '';
};
const streamNote = (text, kind) => {
  $('stream-note').textContent = text;
  $('stream-note').dataset.kind = kind || '';
};
const attempt = (run) => async (...args) => {
  try {
    await run(...args);
  } catch (error) {
    shopNote(error.message, 'bad');
  }
};

const products = new ProductsPane({
  pin: attempt(async (id) => {
    const answer = await call('POST', '/pin', { product_id: id });
    shopNote(`Pinned ${answer.pinned_product.title}.`, 'ok');
  }),
  sale: (product) => {
    $('sale-form').hidden = false;
    $('sale-product').value = product.id;
    $('sale-price').value = String(product.price_cents);
    $('sale-price').focus();
  },
  auction: (product) => formats.open('auction', product),
  image: (id) => {
    imageFor = id;
    $('image-file').click();
  },
});
const sales = new SalePane((id) => products.title(id));
const formats = new FormatsPane({
  call: (method, path, body) =>
    path.startsWith('/api/') ? api(method, path, { token: token(), body }) : call(method, path, body),
  titleOf: (id) => products.title(id),
  feed: (text) => feed.add(text),
  note: shopNote,
});
const chat = new ChatView($('messages'), $('chat-note'), {
  allowed: () => true,
  me: () => currentUser()?.user || null,
  remove: (id) => call('DELETE', `/messages/${encodeURIComponent(id)}`),
  timeout: (user, seconds) => call('POST', '/moderation/mute-user', { user, duration_s: seconds }),
  ban: (user) => call('POST', '/moderation/ban', { user }),
});

// Sign-in: only an anchor token opens the studio.

function mountSignIn() {
  const box = $('signin');
  box.replaceChildren();
  const user = currentUser();
  if (user && user.role === 'anchor') {
    const out = el('button', '', 'Sign out');
    out.type = 'button';
    out.addEventListener('click', () => {
      signOut();
      location.reload();
    });
    box.append(el('span', 'who', `${user.user} (anchor)`), out);
    return;
  }
  const form = el('form', 'signin-form');
  const input = el('input');
  input.type = 'password';
  input.placeholder = 'Paste your anchor token';
  input.setAttribute('aria-label', 'Anchor token');
  const save = el('button', '', 'Sign in');
  save.type = 'submit';
  const note = el('span', 'signin-note', user ? 'This studio needs an anchor token.' : '');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const problem = signIn(input.value);
    if (problem) note.textContent = problem;
    else if (currentUser().role !== 'anchor') note.textContent = 'That is not an anchor token.';
    else location.reload();
  });
  form.append(input, save, note);
  box.append(form);
}

// Rooms: the token's room, ?room=, or one of the anchor's rooms; a title makes a new one.

async function fillRooms() {
  const user = currentUser();
  const select = $('room-select');
  const wanted = new URLSearchParams(location.search).get('room') || user.room;
  const { rooms } = await api('GET', '/api/rooms?limit=100');
  const mine = rooms.filter((r) => r.anchor === user.user && r.status !== 'ended');
  if (wanted && !mine.some((r) => r.id === wanted)) mine.unshift({ id: wanted, title: wanted });
  select.replaceChildren(...mine.map((r) => new Option(`${r.title} (${r.id})`, r.id)));
  if (wanted) select.value = wanted;
  if (user.room) $('room-title').disabled = true;
  if (select.value) await openRoom(select.value);
}

async function chosenRoom() {
  const title = $('room-title').value.trim();
  if (!title) return $('room-select').value;
  const created = await api('POST', '/api/rooms', { token: token(), body: { title } });
  $('room-select').append(new Option(`${created.title} (${created.id})`, created.id));
  $('room-select').value = created.id;
  $('room-title').value = '';
  return created.id;
}

async function openRoom(id) {
  if (id === room) return;
  if (channel) channel.close();
  room = id;
  status.room(false);
  likesTotal = lastStats = lastMedia = null;
  history.replaceState(null, '', `/studio?room=${encodeURIComponent(id)}`);
  Object.assign($('dashboard-link'), { href: `/studio/rooms/${encodeURIComponent(id)}`, hidden: false });
  channel = new Channel(id, token, onFrame, (state) => {
    if (state === 'closed') health.add('The room channel dropped; reconnecting.', 'bad');
    if (state === 'room_ended') health.add(TEXT.roomEnded, 'bad');
  });
  channel.connect();
  const answer = await call('GET', '/products');
  products.set(answer.products);
}

// The room's frames.

const handlers = {
  welcome: (f) => {
    chat.reset(f.messages || []);
    if (f.pinned_product) products.pin(f.pinned_product);
    sales.set(f.sales || []);
    formats.welcome(f.formats);
    status.viewers(f.viewers || 0);
    status.room(Boolean(f.room && f.room.status === 'live'));
    likesTotal = f.likes || 0;
  },
  chat: (f) => chat.add(f),
  chat_deleted: (f) => chat.remove(f.id),
  viewers: (f) => status.viewers(f.count),
  likes: (f) => {
    if (likesTotal !== null) status.addLikes(f.total - likesTotal);
    likesTotal = f.total;
  },
  product_pinned: (f) => products.pin(f.product),
  sale_started: (f) => {
    sales.set([f.sale]);
    feed.add(`Sale started: ${products.title(f.sale.product_id)}, ${f.sale.left} in stock`);
  },
  sale_stock: (f) => {
    const before = sales.update(f.sale, { left: f.left });
    const sale = sales.get(f.sale);
    if (before === null || before === f.left || !sale || orderFrames) return;
    const what = products.title(sale.product_id);
    const moved = before > f.left ? `${before - f.left} × ${what} reserved` : `${f.left - before} × ${what} back in stock`;
    feed.add(`${moved} (${f.left}/${sale.quantity} left)`);
  },
  sold_out: (f) => {
    sales.update(f.sale, { left: 0, status: 'sold_out' });
    feed.add(`${products.title(sales.get(f.sale)?.product_id)} is sold out`);
  },
  sale_ended: (f) => {
    sales.set([f.sale]);
    feed.add(`Sale ended: ${f.sale.sold} paid, ${f.sale.reserved} awaiting payment`);
  },
  room_order: (f) => {
    orderFrames = true;
    feed.add(orderLine(f, products.title(f.product)));
  },
  live: () => {
    status.room(true);
    health.add(publisher && publisher.wanted ? 'The server sees you live.' : TEXT.liveElsewhere);
  },
  offline: () => {
    status.room(false);
    health.add('The stream is offline.');
  },
  room_ended: () => {
    status.room(false);
    health.add(TEXT.roomEnded, 'bad');
    if (publisher) publisher.stop();
  },
  error: (f) => shopNote(f.message, 'bad'),
};

for (const type of ['voucher_dropped', 'voucher_pinned', 'voucher_ended', 'voucher_stock', 'auction_started',
  'auction_bid', 'auction_ended', 'giveaway_started', 'giveaway_ended']) {
  handlers[type] = (f) => formats.apply(f);
}

function onFrame(frame) {
  const handler = handlers[frame.type];
  if (handler) handler(frame);
}

// Numbers: room stats, the server's view of the stream, and this browser's sender.

async function poll() {
  if (!room) return;
  const stats = await call('GET', '/stats').catch(() => null);
  if (stats) {
    status.stats(stats);
    if (lastStats && !orderFrames && stats.orders > lastStats.orders) feed.add(`${stats.orders - lastStats.orders} new order(s)`);
    if (lastStats && !orderFrames && stats.paid_orders > lastStats.paid_orders) {
      const gmv = Object.entries(stats.gmv_cents || {}).map(([c, v]) => money(v, c)).join(', ');
      feed.add(`${stats.paid_orders - lastStats.paid_orders} paid · GMV ${gmv}`);
    }
    lastStats = stats;
  }
  status.drawLikes();
  if (!publisher || publisher.state !== 'live') return;
  const local = await publisher.stats();
  if (lastLocal) {
    const seconds = (performance.now() - lastLocal.at) / 1000;
    status.rates(((local.bytesSent - lastLocal.bytesSent) * 8) / 1000 / seconds, local.framesPerSecond);
    if (local.keyframeRequests > lastLocal.keyframeRequests) {
      health.add(`The server asked for a keyframe (${local.keyframeRequests} so far): a viewer joined or lost packets.`);
    }
  }
  lastLocal = { ...local, at: performance.now() };
  const media = await call('GET', '/media').catch(() => null);
  if (!media) return;
  const dropped = (media.subscriptions || []).reduce(
    (sum, s) => sum + Object.values(s.tracks || {}).reduce((n, t) => n + (t.frames_dropped || 0), 0),
    0,
  );
  if (lastMedia !== null && dropped > lastMedia) {
    health.add(`Viewers dropped ${dropped - lastMedia} frames: their connection is slow (a lower bitrate helps).`, 'bad');
  }
  lastMedia = dropped;
}

// Camera, screen and microphone.

async function fillDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [kind, id] of [['videoinput', 'video-device'], ['audioinput', 'audio-device']]) {
    const select = $(id);
    const keep = select.value;
    const found = devices.filter((d) => d.kind === kind);
    select.replaceChildren(...found.map((d, i) => new Option(d.label || `${kind} ${i + 1}`, d.deviceId)));
    if (found.some((d) => d.deviceId === keep)) select.value = keep;
  }
}

async function capture() {
  const [width, height] = $('resolution').value.split('x').map(Number);
  const audioId = $('audio-device').value;
  const audio = audioId ? { deviceId: { exact: audioId } } : true;
  if (document.querySelector('input[name="kind"]:checked').value === 'screen') {
    const screen = await navigator.mediaDevices.getDisplayMedia({ video: { width, height }, audio: false });
    const mic = await navigator.mediaDevices.getUserMedia({ audio });
    return new MediaStream([...screen.getVideoTracks(), ...mic.getAudioTracks()]);
  }
  const videoId = $('video-device').value;
  const video = { width: { ideal: width }, height: { ideal: height } };
  if (videoId) video.deviceId = { exact: videoId };
  return navigator.mediaDevices.getUserMedia({ video, audio });
}

async function preview() {
  const next = await capture();
  const old = stream;
  stream = next;
  $('preview').srcObject = stream;
  if (publisher && publisher.wanted) await publisher.replaceStream(stream);
  if (old) for (const track of old.getTracks()) track.stop();
  await fillDevices();
}

async function goLive() {
  const id = await chosenRoom();
  if (!id) throw new Error('Pick a room or give a title for a new one.');
  await openRoom(id);
  if (!stream) await preview();
  if (publisher) await publisher.stop();
  publisher = new WhipPublisher(id, token, onPublisherState, streamNote);
  lastLocal = null;
  await publisher.start(stream, Number($('bitrate').value));
}

function onPublisherState(state) {
  status.state(state);
  document.body.dataset.publisher = state;
  $('go-live').disabled = state !== 'offline';
  $('end-stream').disabled = state === 'offline';
  if (state === 'live') streamNote('You are live.', 'ok');
  if (state === 'reconnecting') health.add('Reconnecting the stream (the room stays open).', 'bad');
  if (state === 'offline') status.rates(0, 0);
}

// Wiring.

function wire() {
  $('preview-button').addEventListener('click', () => preview().catch((e) => streamNote(e.message, 'bad')));
  for (const id of ['video-device', 'audio-device', 'resolution']) {
    $(id).addEventListener('change', () => stream && preview().catch((e) => streamNote(e.message, 'bad')));
  }
  for (const radio of document.querySelectorAll('input[name="kind"]')) {
    radio.addEventListener('change', () => stream && preview().catch((e) => streamNote(e.message, 'bad')));
  }
  $('bitrate').addEventListener('change', () => publisher && publisher.setBitrate(Number($('bitrate').value)));
  $('room-select').addEventListener('change', () => openRoom($('room-select').value).catch((e) => shopNote(e.message, 'bad')));
  $('source-form').addEventListener('submit', (event) => {
    event.preventDefault();
    goLive().catch((e) => streamNote(e.message, 'bad'));
  });
  $('end-stream').addEventListener('click', async () => {
    if (publisher) await publisher.stop();
    streamNote('The stream has ended; the room stays open.', 'ok');
  });
  const endRoom = $('end-room');
  endRoom.addEventListener('click', attempt(async () => {
    if (!endRoom.dataset.armed) {
      endRoom.dataset.armed = '1';
      endRoom.textContent = 'End the room for good?';
      setTimeout(() => {
        delete endRoom.dataset.armed;
        endRoom.textContent = 'End room';
      }, CONFIRM_MS);
      return;
    }
    if (publisher) await publisher.stop();
    await call('POST', '/end');
    streamNote(TEXT.roomEnded, 'ok');
  }));
  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('chat-input');
    const text = input.value.trim();
    if (!text || !channel) return;
    channel.send({ type: 'chat', text });
    input.value = '';
  });
  $('product-form').addEventListener('submit', attempt(async (event) => {
    event.preventDefault();
    const product = await call('POST', '/products', {
      sku: $('product-sku').value.trim(),
      title: $('product-title').value.trim(),
      price_cents: Number($('product-price').value),
      currency: $('product-currency').value.trim().toUpperCase(),
    });
    products.set([product]);
    $('product-form').reset();
    $('product-currency').value = 'EUR';
    shopNote(`Added ${product.title}.`, 'ok');
  }));
  $('sale-form').addEventListener('submit', attempt(async (event) => {
    event.preventDefault();
    const sale = await call('POST', '/sales', {
      product_id: $('sale-product').value,
      price_cents: Number($('sale-price').value),
      quantity: Number($('sale-quantity').value),
      per_user_limit: Number($('sale-limit').value),
      duration_s: Math.round(Number($('sale-minutes').value) * 60),
      reservation_ttl_s: RESERVATION_TTL_S,
    });
    sales.set([sale]);
    $('sale-form').hidden = true;
    shopNote(`Sale started: ${products.title(sale.product_id)}.`, 'ok');
  }));
  $('sale-stop').addEventListener('click', attempt(async () => {
    const id = $('sale-stop').dataset.sale;
    const sale = await call('POST', `/sales/${encodeURIComponent(id)}/stop`);
    sales.set([sale]);
    shopNote('Sale stopped.', 'ok');
  }));
  $('image-file').addEventListener('change', attempt(async () => {
    const file = $('image-file').files[0];
    $('image-file').value = '';
    if (!file || !imageFor) return;
    const response = await fetch(roomPath(`/products/${encodeURIComponent(imageFor)}/image`), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token()}`, 'Content-Type': file.type || 'application/octet-stream' },
      body: file,
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error?.message || `The upload failed (${response.status}).`);
    products.set([answer]);
    shopNote(`Image set for ${answer.title}.`, 'ok');
  }));
}

async function main() {
  takeTokenFromFragment();
  mountSignIn();
  const user = currentUser();
  if (!user || user.role !== 'anchor') return;
  $('studio').hidden = false;
  wire();
  formats.wire();
  onPublisherState('offline');
  await fillDevices().catch(() => {});
  await fillRooms().catch((e) => shopNote(e.message, 'bad'));
  setInterval(() => poll().catch(() => {}), POLL_MS);
}

main();
