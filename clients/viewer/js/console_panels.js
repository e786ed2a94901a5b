// The moderator console's side panels: shield switch and automod form, user card, audit log.

import { clock, el } from './format.js';

const lines = (text) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
const SWITCHES = { '': null, on: true, off: false };

export class SettingsPanel {
  // save(changes) → settings; shield(on) → answer
  constructor(form, shieldButton, { save, shield, say }) {
    this.form = form;
    this.shieldButton = shieldButton;
    this.on = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        this.show(await save(this.changes()));
        say('Automod settings saved.');
      } catch (error) {
        say(error.message);
      }
    });
    shieldButton.addEventListener('click', async () => {
      try {
        const answer = await shield(!this.on);
        this.show(answer.settings);
      } catch (error) {
        say(error.message);
      }
    });
  }

  changes() {
    const f = this.form.elements;
    return {
      level: Number(f.level.value),
      hold_links: SWITCHES[f.hold_links.value],
      hold_contacts: SWITCHES[f.hold_contacts.value],
      hold_first_time: f.hold_first_time.checked,
      buyers_only: f.buyers_only.checked,
      held_terms: lines(f.held_terms.value),
      blocked_terms: lines(f.blocked_terms.value),
      allowed_domains: lines(f.allowed_domains.value),
    };
  }

  show(settings) {
    const f = this.form.elements;
    const choice = (value) => (value === null ? '' : value ? 'on' : 'off');
    f.level.value = String(settings.level);
    f.hold_links.value = choice(settings.hold_links);
    f.hold_contacts.value = choice(settings.hold_contacts);
    f.hold_first_time.checked = settings.hold_first_time;
    f.buyers_only.checked = settings.buyers_only;
    f.held_terms.value = settings.held_terms.join('\n');
    f.blocked_terms.value = settings.blocked_terms.join('\n');
    f.allowed_domains.value = settings.allowed_domains.join('\n');
    this.setShield(settings.shield);
  }

  setShield(on) {
    this.on = on;
    this.shieldButton.setAttribute('aria-pressed', String(on));
    this.shieldButton.textContent = on ? 'Shield ON · turn off' : 'Shield off · turn on';
  }
}

export function renderUserCard(box, card, { timeout, ban }) {
  const facts = [
    card.buyer ? `buyer: ${card.orders_in_sales} sale(s), ${card.units_held} unit(s)` : 'not a buyer here',
    card.has_chatted ? 'has chatted here' : 'never had a message shown here',
    card.banned ? 'banned' : card.muted_until ? `timed out until ${clock(card.muted_until)}` : 'may chat',
  ];
  const messages = el('ol');
  for (const m of card.messages) messages.append(el('li', '', `${clock(m.ts)} ${m.text}`));
  const actions = el('ol');
  for (const a of card.actions) {
    actions.append(el('li', '', `${clock(a.ts)} ${a.action} by ${a.actor}${a.rule ? ` (${a.rule})` : ''}`));
  }
  const buttons = el('p');
  for (const [label, run] of [
    ['Time out 10 min', timeout],
    ['Ban', ban],
  ]) {
    const button = el('button', '', label);
    button.type = 'button';
    button.addEventListener('click', () => run(card.user));
    buttons.append(button);
  }
  box.replaceChildren(
    el('h3', 'card-user', card.user),
    el('p', 'facts', facts.join(' · ')),
    buttons,
    el('h4', '', `Recent messages (${card.messages.length})`),
    messages,
    el('h4', '', `Past actions (${card.actions.length})`),
    actions,
  );
}

export function renderAudit(list, entries) {
  list.replaceChildren(
    ...entries.map((e) => {
      const target = e.target ? ` ${e.target}` : '';
      const rule = e.rule ? ` [${e.rule}]` : '';
      const reason = e.reason && e.reason !== e.rule ? ` — ${e.reason}` : '';
      return el('li', '', `${clock(e.ts)} ${e.actor} (${e.actor_role}) ${e.action}${target}${rule}${reason}`);
    }),
  );
}
