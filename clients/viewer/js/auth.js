// Sign-in: a token pasted or passed in the URL fragment (#token=...), kept in localStorage;
// on demo servers, a guest viewer token from POST /api/demo/token.

import { api } from './api.js';

const STORAGE_KEY = 'livecommerce.token';
let memory = null; // when localStorage is unavailable (private browsing, blocked storage)
const listeners = new Set();

function base64UrlDecode(text) {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return decodeURIComponent(
    Array.from(atob(padded), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''),
  );
}

// The token's claims, read without checking the signature (the server checks it).
export function claims(token) {
  try {
    const value = JSON.parse(base64UrlDecode(token.split('.')[1]));
    return typeof value.sub === 'string' && typeof value.role === 'string' ? value : null;
  } catch {
    return null;
  }
}

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return memory;
  }
}

function store(token) {
  memory = token;
  try {
    if (token) localStorage.setItem(STORAGE_KEY, token);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    /* memory keeps it for this page */
  }
  for (const listener of listeners) listener(currentUser());
}

// {token, user, role, exp} of a kept token that has not expired, else null.
export function currentUser() {
  const token = stored();
  const value = token ? claims(token) : null;
  if (!value || (value.exp && value.exp * 1000 <= Date.now())) return null;
  return { token, user: value.sub, role: value.role, exp: value.exp, room: value.room || null };
}

export function token() {
  const user = currentUser();
  return user ? user.token : null;
}

export function onChange(listener) {
  listeners.add(listener);
}

// Returns an error sentence, or null when the token was kept.
export function signIn(raw) {
  const text = raw.trim();
  const value = claims(text);
  if (!value) return 'That does not look like a livecommerce token.';
  if (value.exp && value.exp * 1000 <= Date.now()) return 'That token has expired.';
  store(text);
  return null;
}

export function signOut() {
  store(null);
}

// A token in the URL fragment is kept and removed from the address bar (and history).
export function takeTokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const raw = params.get('token');
  if (raw === null) return;
  signIn(raw);
  params.delete('token');
  const rest = params.toString();
  history.replaceState(null, '', location.pathname + location.search + (rest ? '#' + rest : ''));
}

// A guest viewer token (demo servers only); throws ApiError demo_disabled elsewhere.
export async function joinAsGuest(name) {
  const body = name ? { name } : {};
  const answer = await api('POST', '/api/demo/token', { body });
  store(answer.token);
  return answer;
}

// The header's sign-in control.
export function mountSignIn(container) {
  const render = () => {
    container.replaceChildren();
    const user = currentUser();
    if (user) {
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = `${user.user} (${user.role})`;
      const out = button('Sign out', () => signOut());
      container.append(who, out);
      return;
    }
    const form = document.createElement('form');
    form.className = 'signin-form';
    const input = document.createElement('input');
    input.type = 'password';
    input.placeholder = 'Paste a token';
    input.setAttribute('aria-label', 'Access token');
    const save = document.createElement('button');
    save.type = 'submit';
    save.textContent = 'Sign in';
    const guest = button('Join as guest', async () => {
      try {
        await joinAsGuest();
      } catch (error) {
        note.textContent =
          error.code === 'demo_disabled' ? 'Guest sign-in is off here; paste a token.' : error.message;
      }
    });
    const note = document.createElement('span');
    note.className = 'signin-note';
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const problem = signIn(input.value);
      if (problem) note.textContent = problem;
    });
    form.append(input, save, guest, note);
    container.append(form);
  };
  onChange(render);
  render();
}

function button(label, onClick) {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  element.addEventListener('click', onClick);
  return element;
}
