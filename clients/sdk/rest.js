// REST helpers: JSON over HTTP against a livecommerce server, its error bodies turned into
// ApiError. Cross-origin pages need their origin in the server's `server.cors_origins`.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

// The server's base URL without a trailing slash; '' means this page's own origin.
export function serverBase(server) {
  return (server || '').replace(/\/+$/, '');
}

// One path segment of a URL (room, sale, order ids), always encoded.
export function segment(value) {
  return encodeURIComponent(String(value));
}

export async function api(server, method, path, { body, token, fetchImpl } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await (fetchImpl || fetch)(serverBase(server) + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached; check your connection.');
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || `The server answered ${response.status}.`,
    );
  }
  return data;
}

// An idempotency key: crypto.randomUUID where the page is a secure context, else 128 random bits.
export function newKey() {
  if (globalThis.crypto && crypto.randomUUID) {
    try {
      return crypto.randomUUID();
    } catch {
      /* not a secure context: fall through */
    }
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// The calls a page embedding a room needs; every method returns the parsed JSON answer.
export class RestClient {
  constructor({ server = '', token = null, fetchImpl } = {}) {
    this.server = serverBase(server);
    this.token = token;
    this.fetchImpl = fetchImpl;
  }

  call(method, path, body) {
    return api(this.server, method, path, { body, token: this.token, fetchImpl: this.fetchImpl });
  }

  listRooms() {
    return this.call('GET', '/api/rooms');
  }

  room(room) {
    return this.call('GET', `/api/rooms/${segment(room)}`);
  }

  products(room) {
    return this.call('GET', `/api/rooms/${segment(room)}/products`);
  }

  sale(room, sale) {
    return this.call('GET', `/api/rooms/${segment(room)}/sales/${segment(sale)}`);
  }

  order(order) {
    return this.call('GET', `/api/orders/${segment(order)}`);
  }

  // A guest viewer token, on servers with auth.demo_tokens on (404 demo_disabled otherwise).
  demoToken(body = {}) {
    return this.call('POST', '/api/demo/token', body);
  }
}
