// The moderator console's review queue: items in arrival order, one selected, keyboard
// shortcuts (j/k select, a approve, d deny, t deny with a timeout, u user card).

import { clock, el } from './format.js';
import { MOD_TEXT } from './moderation.js';

export const DENY_TIMEOUT_S = 600;

export class ReviewQueue {
  // actions: {decide(id, decision, body), showUser(user), say(text)}
  constructor(list, count, actions) {
    this.list = list;
    this.count = count;
    this.actions = actions;
    this.items = new Map();
    this.selected = null;
    document.addEventListener('keydown', (event) => this.key(event));
  }

  reset(items) {
    this.items.clear();
    for (const item of items) this.items.set(item.id, item);
    this.render();
  }

  upsert(item) {
    this.items.set(item.id, item);
    this.render();
  }

  remove(id) {
    if (!this.items.delete(id)) return;
    if (this.selected === id) this.selected = null;
    this.render();
  }

  render() {
    this.count.textContent = String(this.items.size);
    const ids = [...this.items.keys()];
    if (!this.selected || !this.items.has(this.selected)) this.selected = ids[0] || null;
    this.list.replaceChildren(...ids.map((id) => this.row(this.items.get(id))));
  }

  row(item) {
    const li = el('li', item.id === this.selected ? 'selected' : '');
    li.dataset.id = item.id;
    const why = MOD_TEXT.rules[item.rule] || item.rule;
    const state = item.visible ? 'shown, reported' : 'held';
    const reports = item.reports ? ` · ${item.reports} report(s): ${item.reasons.join(', ')}` : '';
    const who = el('b', 'user-name', item.user);
    who.addEventListener('click', () => this.actions.showUser(item.user));
    li.append(who, ' ', el('span', 'meta', `${clock(item.ts)} · ${why} · ${state}${reports}`));
    li.append(el('span', 'text', item.text));
    li.append(
      this.button('Approve', 'approve', () => this.decide(item.id, 'approve')),
      this.button('Deny', 'deny', () => this.decide(item.id, 'deny')),
      this.button('Deny + 10 min timeout', 'deny-timeout', () =>
        this.decide(item.id, 'deny', { timeout_s: DENY_TIMEOUT_S }),
      ),
    );
    li.addEventListener('click', () => {
      this.selected = item.id;
      for (const other of this.list.children) other.classList.toggle('selected', other === li);
    });
    return li;
  }

  button(label, kind, run) {
    const button = el('button', `review-${kind}`, label);
    button.type = 'button';
    button.addEventListener('click', (event) => {
      event.stopPropagation();
      run();
    });
    return button;
  }

  async decide(id, decision, body = {}) {
    try {
      await this.actions.decide(id, decision, body);
      this.remove(id);
    } catch (error) {
      if (error.code === 'review_item_not_found') this.remove(id);
      this.actions.say(error.message);
    }
  }

  move(step) {
    const ids = [...this.items.keys()];
    if (!ids.length) return;
    const at = Math.max(0, ids.indexOf(this.selected));
    this.selected = ids[Math.min(ids.length - 1, Math.max(0, at + step))];
    this.render();
    this.list.querySelector('li.selected')?.scrollIntoView({ block: 'nearest' });
  }

  key(event) {
    const target = event.target;
    if (target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const id = this.selected;
    const keys = {
      j: () => this.move(1),
      k: () => this.move(-1),
      a: () => id && this.decide(id, 'approve'),
      d: () => id && this.decide(id, 'deny'),
      t: () => id && this.decide(id, 'deny', { timeout_s: DENY_TIMEOUT_S }),
      u: () => id && this.actions.showUser(this.items.get(id).user),
    };
    const run = keys[event.key];
    if (!run) return;
    event.preventDefault();
    run();
  }
}
