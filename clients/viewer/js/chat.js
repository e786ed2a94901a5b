// The chat list: history, live lines, deletions, notices, and moderator controls.

import { el } from './format.js';

const MAX_LINES = 300;
const TIMEOUT_S = 600;
// A second press within this time confirms a ban (no blocking dialog over the video).
const CONFIRM_MS = 3000;

export class ChatView {
  // moderation: {allowed(): bool, me(): user id or null, remove(id), timeout(user, s), ban(user),
  //              report(id)?: viewers' report button}
  constructor(list, note, moderation) {
    this.list = list;
    this.note = note;
    this.moderation = moderation;
  }

  reset(messages) {
    this.list.replaceChildren();
    for (const message of messages) this.add(message);
  }

  add(message) {
    if (this.list.querySelector(`li[data-id="${CSS.escape(message.id)}"]`)) return;
    const item = el('li', 'line');
    item.dataset.id = message.id;
    item.dataset.user = message.user;
    const name = el('b', `user role-${message.role || 'viewer'}`, message.user);
    item.append(name, ' ', el('span', 'text', message.text));
    this.controls(item);
    this.append(item);
  }

  notice(text, kind = 'info') {
    this.append(el('li', `notice ${kind}`, text));
  }

  append(item) {
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    this.list.append(item);
    while (this.list.children.length > MAX_LINES) this.list.firstElementChild.remove();
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }

  remove(id) {
    const item = this.list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
    if (item) item.remove();
  }

  say(text) {
    this.note.textContent = text || '';
  }

  // Re-draw moderator controls after the role is known or changes.
  refreshControls() {
    for (const item of this.list.querySelectorAll('li.line')) this.controls(item);
  }

  controls(item) {
    item.querySelector('.mod')?.remove();
    if (!this.moderation.allowed()) {
      if (this.moderation.report && item.dataset.user !== this.moderation.me()) {
        const box = el('span', 'mod');
        box.append(this.action('Report', () => this.moderation.report(item.dataset.id)));
        item.append(box);
      }
      return;
    }
    const box = el('span', 'mod');
    const { id, user } = item.dataset;
    box.append(this.action('Delete', () => this.moderation.remove(id)));
    if (user !== this.moderation.me()) {
      box.append(this.action('Timeout', () => this.moderation.timeout(user, TIMEOUT_S)));
      const ban = this.action('Ban', () => {
        if (ban.dataset.armed) return this.moderation.ban(user);
        ban.dataset.armed = '1';
        ban.textContent = 'Ban?';
        setTimeout(() => {
          delete ban.dataset.armed;
          ban.textContent = 'Ban';
        }, CONFIRM_MS);
        return null;
      });
      box.append(ban);
    }
    item.append(box);
  }

  action(label, run) {
    const button = el('button', `mod-${label.toLowerCase()}`, label);
    button.type = 'button';
    button.addEventListener('click', async () => {
      try {
        await run();
      } catch (error) {
        this.say(error.message);
      }
    });
    return button;
  }
}
