// The moderator console, /mod/rooms/{room}: the review queue, the live chat with actions,
// shield mode and automod, a user card and the audit log, for the room's staff.

import { api } from './api.js';
import { currentUser, mountSignIn, onChange, takeTokenFromFragment } from './auth.js';
import { Channel } from './channel.js';
import { ChatView } from './chat.js';
import { renderAudit, renderUserCard, SettingsPanel } from './console_panels.js';
import { DENY_TIMEOUT_S, ReviewQueue } from './console_queue.js';

const $ = (id) => document.getElementById(id);
const roomId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const roomPath = (rest) => `/api/rooms/${encodeURIComponent(roomId)}${rest}`;
const AUDIT_REFRESH_MS = 5000;

const token = () => (currentUser() ? currentUser().token : null);
const call = (method, rest, body) => api(method, roomPath(rest), { token: token(), body });
const say = (text) => {
  $('console-note').textContent = text || '';
};

const timeout = (user) => call('POST', '/moderation/mute-user', { user, duration_s: DENY_TIMEOUT_S });
const ban = (user) => call('POST', '/moderation/ban', { user });

async function showUser(user) {
  try {
    const card = await call('GET', `/users/${encodeURIComponent(user)}`);
    renderUserCard($('user-card'), card, { timeout: act(timeout), ban: act(ban) });
  } catch (error) {
    say(error.message);
  }
}

function act(run) {
  return async (user) => {
    try {
      await run(user);
      await Promise.all([refreshAudit(), showUser(user)]);
    } catch (error) {
      say(error.message);
    }
  };
}

const queue = new ReviewQueue($('queue'), $('queue-count'), {
  decide: (id, decision, body) => call('POST', `/review/${encodeURIComponent(id)}/${decision}`, body),
  showUser,
  say,
});

const chat = new ChatView($('messages'), $('chat-note'), {
  allowed: () => true,
  me: () => (currentUser() ? currentUser().user : null),
  remove: (id) => call('DELETE', `/messages/${encodeURIComponent(id)}`),
  timeout: (user) => act(timeout)(user),
  ban: (user) => act(ban)(user),
});

const settings = new SettingsPanel($('automod'), $('shield'), {
  save: async (changes) => (await call('POST', '/moderation/automod', changes)).settings,
  shield: (on) => call('POST', '/moderation/shield', { on }),
  say,
});

async function refreshAudit() {
  try {
    renderAudit($('audit'), (await call('GET', '/moderation/log?limit=50')).entries);
  } catch (error) {
    say(error.message);
  }
}

async function loadAll() {
  if (!token()) {
    say('Sign in with a moderator, admin or this room\'s anchor token.');
    return;
  }
  try {
    const [items, automod] = await Promise.all([call('GET', '/review'), call('GET', '/moderation/automod')]);
    queue.reset(items.items);
    settings.show(automod.settings);
    say('');
  } catch (error) {
    say(error.message);
  }
  await refreshAudit();
}

// Click a name in the chat for the user's card.
$('messages').addEventListener('click', (event) => {
  const name = event.target.closest('b.user');
  if (name) showUser(name.textContent);
});

const handlers = {
  welcome: (f) => {
    chat.reset(f.messages);
    loadAll();
  },
  chat: (f) => chat.add(f),
  chat_deleted: (f) => chat.remove(f.id),
  review: (f) => queue.upsert(f.message),
  review_resolved: (f) => {
    queue.remove(f.id);
    refreshAudit();
  },
  automod: (f) => {
    settings.show(f.settings);
    refreshAudit();
  },
  shield: (f) => settings.setShield(f.on),
  error: (f) => say(f.message),
};

const channel = new Channel(
  roomId,
  token,
  (frame) => handlers[frame.type]?.(frame),
  (state) => {
    document.body.dataset.channel = state;
  },
);

function start() {
  takeTokenFromFragment();
  mountSignIn($('signin'));
  const link = $('room-link');
  link.textContent = roomId;
  link.href = `/rooms/${encodeURIComponent(roomId)}`;
  onChange(() => {
    channel.reconnect();
    loadAll();
  });
  channel.connect();
  setInterval(refreshAudit, AUDIT_REFRESH_MS);
}

start();
