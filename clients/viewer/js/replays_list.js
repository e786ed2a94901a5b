// Replay cards: the latest replays on the home page (#replays), a room's own on its page
// (#room-replays, shown once the room has one that is ready).

import { api } from './api.js';
import { el, gradient, initials } from './format.js';
import { TEXT } from './texts.js';

const REFRESH_MS = 15_000;

function card(replay) {
  const item = el('li', 'room-card replay-card');
  item.dataset.replay = replay.id;
  const link = el('a');
  link.href = replay.page_url;
  const art = el('div', 'art');
  const cover = el('div', 'cover generated', initials(replay.room));
  cover.style.backgroundImage = gradient(replay.room);
  art.append(cover, el('span', 'badge', 'REPLAY'));
  art.append(el('span', 'badge viewers', `${Math.round(replay.duration_s)} s`));
  const text = el('div', 'card-text');
  const when = replay.ended_at ? new Date(replay.ended_at).toLocaleString() : '';
  text.append(el('h2', 'title', TEXT.replayOf(replay.room)), el('p', 'anchor', TEXT.pair(replay.anchor, when)));
  link.append(art, text);
  item.append(link);
  return item;
}

async function fill(list, path) {
  try {
    const answer = await api('GET', path);
    const replays = Array.isArray(answer) ? answer : answer.replays; // a room's list is an array
    const ready = replays.filter((r) => r.status === 'ready');
    list.replaceChildren(...ready.map(card));
    list.closest('section').hidden = ready.length === 0;
  } catch {
    /* tried again at the next refresh */
  }
}

function mount() {
  const home = document.getElementById('replays');
  const room = document.getElementById('room-replays');
  let list = home;
  let path = '/api/replays?limit=12';
  if (room) {
    const roomId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
    list = room;
    path = `/api/rooms/${encodeURIComponent(roomId)}/replays`;
  }
  if (!list) return;
  fill(list, path);
  setInterval(() => fill(list, path), REFRESH_MS);
}

mount();
