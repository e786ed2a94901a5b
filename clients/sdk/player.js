// WHEP playback with a plain RTCPeerConnection (the viewer page's player). Retries with
// backoff while the room is not live (409), unknown (404), busy (503) or unreachable, and
// when the connection drops. Works across origins: WHEP answers carry CORS headers
// (media.cors_origins, `*` by default) and expose Location and Link.

import { segment, serverBase } from './rest.js';
import { onServerClosed } from './server_closed.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 15_000;
const GATHER_TIMEOUT_MS = 2000;
// A disconnected ICE connection often comes back by itself; give it this long.
const DISCONNECTED_GRACE_MS = 3000;
// The first try after a stream that played drops comes soon: a draining node hands its
// rooms over and the anchor is back on another node within a second or two.
const DROPPED_RETRY_MS = 250;
// How long a connected player is watched for incoming video when the room goes live.
const LIVE_CHECK_MS = 300;
// What each state's detail says; pass {texts} to the constructor to say it otherwise.
export const PLAYER_TEXTS = Object.freeze({
  dropped: 'The stream dropped; reconnecting…',
  unreachable: 'The server cannot be reached; retrying…',
  waiting: 'Waiting for the anchor to go live…',
  signIn: 'Sign in to watch this room.',
  busy: 'The server is busy; retrying…',
  badAnswer: 'The server sent an answer this browser cannot use.',
  roomEnded: 'The room has ended.',
  unsupported: 'This browser has WebRTC turned off.',
});

// The room's WHEP endpoint on `server` ('' = this page's origin).
export function whepUrl(server, room) {
  return `${serverBase(server)}/whep/${segment(room)}`;
}

function waitForGathering(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

// ICE servers the endpoint announces as `Link: <turn:…>; rel="ice-server"; username=…;
// credential=…` (RFC 9725 §4.6), so viewers behind NAT can reach the server.
export function parseIceServerLinks(header) {
  const servers = [];
  for (const part of (header || '').split(/,(?=\s*<)/)) {
    const match = part.match(/^\s*<([^>]+)>(.*)$/);
    if (!match) continue;
    const params = {};
    for (const param of match[2].split(';')) {
      const pair = param.trim().match(/^([\w-]+)\s*=\s*"?([^"]*)"?$/);
      if (pair) params[pair[1].toLowerCase()] = pair[2];
    }
    if (params.rel !== 'ice-server') continue;
    const server = { urls: match[1] };
    if (params.username) server.username = params.username;
    if (params.credential) server.credential = params.credential;
    servers.push(server);
  }
  return servers;
}

async function packetsReceived(pc) {
  let total = 0;
  (await pc.getStats()).forEach((report) => {
    if (report.type === 'inbound-rtp') total += report.packetsReceived || 0;
  });
  return total;
}

async function announcedIceServers(endpoint) {
  try {
    const response = await fetch(endpoint, { method: 'OPTIONS' });
    return parseIceServerLinks(response.headers.get('Link'));
  } catch {
    return null; // ask again on the next attempt
  }
}

export class WhepPlayer {
  // onState(state, detail): 'connecting' | 'waiting' | 'playing' | 'retrying' | 'stopped'
  // | 'unsupported' (no WebRTC in this browser: final)
  constructor(video, endpoint, getToken, onState, { texts = {} } = {}) {
    this.video = video;
    this.endpoint = endpoint;
    this.getToken = getToken || (() => null);
    this.onState = onState || (() => {});
    this.texts = { ...PLAYER_TEXTS, ...texts };
    this.pc = null;
    this.location = null;
    this.retryMs = FIRST_RETRY_MS;
    this.timer = null;
    this.generation = 0;
    this.running = false;
  }

  start() {
    this.running = true;
    this.retryMs = FIRST_RETRY_MS;
    this.attempt();
  }

  // Start again now (the room went live, or the token changed).
  restart() {
    this.teardown();
    this.start();
  }

  // The room went live (again): start again now, unless media still arrives on the
  // current session (a handover it already followed keeps playing). A session whose
  // node went away may still look connected for seconds: it is checked by its packets.
  async wake() {
    const pc = this.pc;
    const generation = this.generation;
    if (pc && pc.connectionState === 'connected') {
      try {
        const before = await packetsReceived(pc);
        await new Promise((resolve) => setTimeout(resolve, LIVE_CHECK_MS));
        if (generation !== this.generation) return; // it restarted by itself meanwhile
        if ((await packetsReceived(pc)) > before) return;
      } catch {
        // no stats: start again
      }
      if (generation !== this.generation) return;
    }
    this.restart();
  }

  stop() {
    this.running = false;
    this.teardown();
    this.onState('stopped');
  }

  teardown() {
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.location) {
      const headers = {};
      const token = this.getToken();
      if (token) headers.Authorization = `Bearer ${token}`;
      // keepalive lets the DELETE go out while the page unloads.
      fetch(this.location, { method: 'DELETE', headers, keepalive: true }).catch(() => {});
      this.location = null;
    }
    if (this.pc) {
      this.pc.close();
      this.pc = null;
    }
  }

  // Soon after a connection that played (the backoff was reset), else the backoff.
  droppedRetryMs() {
    return this.retryMs === FIRST_RETRY_MS ? DROPPED_RETRY_MS : undefined;
  }

  retry(state, detail, afterMs) {
    this.teardown();
    if (!this.running) return;
    const delay = afterMs ?? this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.onState(state, detail);
    const jitter = delay * 0.2 * Math.random();
    this.timer = setTimeout(() => this.attempt(), delay + jitter);
  }

  async attempt() {
    const generation = ++this.generation;
    const current = () => generation === this.generation && this.running;
    if (typeof RTCPeerConnection === 'undefined') {
      this.running = false;
      this.onState('unsupported', this.texts.unsupported);
      return;
    }
    this.onState('connecting');
    if (!this.iceServers) this.iceServers = await announcedIceServers(this.endpoint);
    if (!current()) return;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers || [] });
    this.pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    pc.addEventListener('track', (event) => {
      stream.addTrack(event.track);
      if (this.video.srcObject !== stream) this.video.srcObject = stream;
    });
    let grace = null;
    pc.addEventListener('connectionstatechange', () => {
      if (!current()) return;
      clearTimeout(grace);
      const state = pc.connectionState;
      if (state === 'connected') {
        this.retryMs = FIRST_RETRY_MS;
        this.onState('playing');
        onServerClosed(pc, () => {
          if (current()) this.retry('retrying', this.texts.dropped, this.droppedRetryMs());
        });
      } else if (state === 'failed' || state === 'closed') {
        this.retry('retrying', this.texts.dropped, this.droppedRetryMs());
      } else if (state === 'disconnected') {
        grace = setTimeout(() => {
          if (current()) this.retry('retrying', this.texts.dropped, this.droppedRetryMs());
        }, DISCONNECTED_GRACE_MS);
      }
    });
    let response;
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await waitForGathering(pc);
      if (!current()) return;
      const headers = { 'Content-Type': 'application/sdp' };
      const token = this.getToken();
      if (token) headers.Authorization = `Bearer ${token}`;
      response = await fetch(this.endpoint, { method: 'POST', headers, body: pc.localDescription.sdp });
    } catch {
      if (current()) this.retry('retrying', this.texts.unreachable);
      return;
    }
    if (!current()) return;
    if (response.status !== 201) {
      const body = await response.json().catch(() => ({}));
      const code = body.error ? body.error.code : '';
      const after = Number(response.headers.get('Retry-After'));
      const afterMs = after > 0 ? Math.min(after * 1000, MAX_RETRY_MS) : undefined;
      if (code === 'room_ended') {
        this.running = false;
        this.teardown();
        this.onState('stopped', this.texts.roomEnded);
      } else if (response.status === 409 || response.status === 404) {
        this.retry('waiting', this.texts.waiting, afterMs);
      } else if (response.status === 401 || response.status === 403) {
        this.retry('waiting', this.texts.signIn, MAX_RETRY_MS);
      } else {
        this.retry('retrying', this.texts.busy, afterMs);
      }
      return;
    }
    // A 307 to the room's origin node is followed by fetch; the session lives there.
    this.location = new URL(response.headers.get('Location'), response.url).href;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    } catch {
      if (current()) this.retry('retrying', this.texts.badAnswer);
    }
  }
}
