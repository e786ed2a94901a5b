// The home page: live rooms in the order the server ranks them (discovery).

import { api } from './api.js';
import { mountSignIn, takeTokenFromFragment, token } from './auth.js';
import { el, gradient, initials } from './format.js';

const REFRESH_MS = 10_000;
const list = document.getElementById('rooms');
const note = document.getElementById('home-note');
// Rooms whose card this page has reported as shown (once per page load).
const impressed = new Set();

// Tell the server a room's card was shown (its seller's funnel starts here).
function reportImpressions(rooms) {
  const signed = token();
  for (const room of rooms) {
    if (impressed.has(room.id)) continue;
    impressed.add(room.id);
    const headers = signed ? { Authorization: `Bearer ${signed}` } : {};
    fetch(`/api/rooms/${encodeURIComponent(room.id)}/impressions`, {
      method: 'POST',
      headers,
      keepalive: true,
    }).catch(() => {});
  }
}

function cover(room) {
  if (room.cover_url) {
    const img = el('img', 'cover');
    img.src = room.cover_url;
    img.alt = '';
    img.loading = 'lazy';
    return img;
  }
  const generated = el('div', 'cover generated', initials(room.title));
  generated.style.backgroundImage = gradient(room.title);
  return generated;
}

function card(room) {
  const item = el('li', 'room-card');
  item.dataset.room = room.id;
  const link = el('a');
  link.href = `/rooms/${encodeURIComponent(room.id)}`;
  const art = el('div', 'art');
  art.append(cover(room), el('span', 'badge live', 'LIVE'));
  const viewers = el('span', 'badge viewers', `${room.viewers ?? 0} watching`);
  art.append(viewers);
  const text = el('div', 'card-text');
  text.append(el('h2', 'title', room.title), el('p', 'anchor', room.anchor));
  const why = room.discovery;
  if (why && typeof why.score === 'number') {
    item.title =
      `Ranked by engagement ${why.score.toFixed(2)}: ${why.chat} chat, ${why.likes} likes, ` +
      `${why.orders} orders for ${why.viewers} viewers in the last ${why.window_s} s`;
  }
  link.append(art, text);
  item.append(link);
  return item;
}

async function refresh() {
  try {
    const { rooms } = await api('GET', '/api/rooms?status=live');
    list.replaceChildren(...rooms.map(card));
    reportImpressions(rooms);
    note.textContent = rooms.length ? '' : 'Nobody is live right now. This page refreshes by itself.';
  } catch (error) {
    note.textContent = `Could not load the rooms: ${error.message}`;
  }
}

takeTokenFromFragment();
mountSignIn(document.getElementById('signin'));
refresh();
setInterval(refresh, REFRESH_MS);
