// Moderation depth on the room page: your held messages, reports, shield mode, and for
// staff a pointer to the moderator console. The console itself is console.js.

import { el } from './format.js';

export const MOD_TEXT = {
  held: 'held for review: only you and the moderators see it',
  approved: 'A moderator approved your held message.',
  denied: 'A moderator did not approve your held message.',
  shieldOn: 'Shield mode is on: stricter chat rules for now.',
  shieldOff: 'Shield mode is off.',
  reported: 'Thanks, the moderators will look at it.',
  reportedAgain: 'You had reported this message already.',
  waiting: (count) => `${count} message(s) wait for review in the moderator console.`,
  rules: {
    phone: 'a phone number',
    email: 'an e-mail address',
    payment: 'a payment handle',
    off_platform: 'a request to talk off the platform',
    link: 'a link',
    held_term: 'a word this room holds for review',
    repeat: 'the same message several times',
    copy_paste: 'a message many others sent',
    lookalikes: 'look-alike letters',
    first_time: 'your first message here',
    reports: 'reports from viewers',
  },
};

export class RoomModeration {
  // chat: the ChatView; consoleLink: the element that points staff to the console.
  constructor(chat, consoleLink) {
    this.chat = chat;
    this.consoleLink = consoleLink;
    this.waiting = new Set();
  }

  held(frame) {
    this.chat.remove(frame.id);
    const item = el('li', 'line held');
    item.dataset.id = frame.id;
    const why = MOD_TEXT.rules[frame.rule] || frame.rule;
    item.append(el('span', 'text', frame.text), ' ', el('em', 'held-note', `(${MOD_TEXT.held}: ${why})`));
    this.chat.append(item);
  }

  approved(frame) {
    this.chat.remove(frame.id);
    this.chat.notice(MOD_TEXT.approved);
  }

  denied(frame) {
    this.chat.remove(frame.id);
    this.chat.notice(MOD_TEXT.denied, 'bad');
  }

  shield(frame) {
    this.chat.notice(frame.on ? MOD_TEXT.shieldOn : MOD_TEXT.shieldOff);
  }

  reportAnswer(frame) {
    this.chat.say(frame.duplicate ? MOD_TEXT.reportedAgain : MOD_TEXT.reported);
  }

  review(frame) {
    if (!frame.message.visible || frame.message.reports) this.waiting.add(frame.message.id);
    this.showWaiting();
  }

  resolved(frame) {
    this.waiting.delete(frame.id);
    this.showWaiting();
  }

  showWaiting() {
    if (!this.consoleLink) return;
    this.consoleLink.hidden = this.waiting.size === 0;
    this.consoleLink.textContent = MOD_TEXT.waiting(this.waiting.size);
  }
}
