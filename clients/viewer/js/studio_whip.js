// The studio's WHIP publisher: one stream, kept live through network loss.
//
// A dropped connection (ICE failed, or disconnected for a few seconds, or the browser going
// offline) is answered by a new offer to the same room with the same anchor token: the server
// replaces the old session and viewers stay. The room is never ended from here; only
// stop() ends the publication (DELETE on its session URL).

import { onServerClosed } from './server_closed.js';

const GATHER_MS = 3000;
const DISCONNECTED_GRACE_MS = 4000;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 15_000;
// Answers after which trying again cannot help (docs/media.md).
const FINAL_STATUSES = new Set([400, 401, 403, 404, 415, 422]);

export class PublishError extends Error {
  constructor(message, final) {
    super(message);
    this.final = final;
  }
}

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === 'complete') resolve();
    };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, GATHER_MS);
  });
}

export class WhipPublisher {
  // onState('connecting' | 'live' | 'reconnecting' | 'offline'); onNotice(text, kind)
  constructor(room, getToken, onState, onNotice) {
    this.room = room;
    this.getToken = getToken;
    this.onState = onState;
    this.onNotice = onNotice;
    this.pc = null;
    this.location = null;
    this.wanted = false;
    this.retryMs = FIRST_RETRY_MS;
    this.timer = null;
    this.graceTimer = null;
    window.addEventListener('online', () => {
      if (this.wanted && this.state === 'reconnecting') this.retryNow();
    });
  }

  async start(stream, maxBitrate) {
    this.stream = stream;
    this.maxBitrate = maxBitrate;
    this.wanted = true;
    this.retryMs = FIRST_RETRY_MS;
    await this.connect();
  }

  setState(state) {
    this.state = state;
    this.onState(state);
  }

  async connect() {
    clearTimeout(this.timer);
    this.setState(this.location ? 'reconnecting' : 'connecting');
    const pc = new RTCPeerConnection();
    this.closePeer();
    this.pc = pc;
    for (const track of this.stream.getTracks()) {
      pc.addTransceiver(track, { direction: 'sendonly', streams: [this.stream] });
    }
    pc.addEventListener('connectionstatechange', () => this.watch(pc));
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const answer = await this.post(pc.localDescription.sdp);
      if (pc !== this.pc) return;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      await this.setBitrate(this.maxBitrate);
    } catch (error) {
      if (pc !== this.pc) return;
      if (error instanceof PublishError && error.final) {
        this.wanted = false;
        this.closePeer();
        this.setState('offline');
        throw error;
      }
      this.onNotice(`Could not go live (${error.message}); trying again.`, 'bad');
      this.retryLater();
    }
  }

  async post(sdp) {
    let response;
    try {
      response = await fetch(`/whip/${encodeURIComponent(this.room)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${this.getToken()}` },
        body: sdp,
      });
    } catch {
      throw new PublishError('the server cannot be reached', false);
    }
    const text = await response.text();
    if (response.status !== 201) {
      let message = `HTTP ${response.status}`;
      let code = '';
      try {
        ({ code, message } = JSON.parse(text).error);
      } catch {
        /* not JSON */
      }
      throw new PublishError(message, FINAL_STATUSES.has(response.status) || code === 'room_ended');
    }
    this.location = new URL(response.headers.get('Location'), location.href).href;
    return text;
  }

  watch(pc) {
    if (pc !== this.pc) return;
    const state = pc.connectionState;
    clearTimeout(this.graceTimer);
    if (state === 'connected') {
      this.retryMs = FIRST_RETRY_MS;
      this.setState('live');
      // The server ended the session (a node draining hands the room over): again, now.
      onServerClosed(pc, () => {
        if (pc !== this.pc || !this.wanted) return;
        this.onNotice('The server ended the stream; reconnecting (the room stays open).', 'bad');
        this.retryNow();
      });
    } else if (state === 'failed' || state === 'closed') {
      this.onNotice('The connection to the server failed; reconnecting (the room stays open).', 'bad');
      this.retryLater();
    } else if (state === 'disconnected') {
      this.graceTimer = setTimeout(() => {
        if (pc === this.pc && pc.connectionState !== 'connected') {
          this.onNotice('The connection dropped; reconnecting (the room stays open).', 'bad');
          this.retryLater();
        }
      }, DISCONNECTED_GRACE_MS);
    }
  }

  retryLater() {
    if (!this.wanted) return;
    this.setState('reconnecting');
    clearTimeout(this.timer);
    const delay = this.retryMs * (1 + 0.2 * Math.random());
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.timer = setTimeout(() => this.connect().catch((e) => this.onNotice(e.message, 'bad')), delay);
  }

  retryNow() {
    this.retryMs = FIRST_RETRY_MS;
    clearTimeout(this.timer);
    this.connect().catch((e) => this.onNotice(e.message, 'bad'));
  }

  async setBitrate(bitsPerSecond) {
    this.maxBitrate = bitsPerSecond;
    if (!this.pc) return;
    for (const sender of this.pc.getSenders()) {
      if (!sender.track || sender.track.kind !== 'video') continue;
      const parameters = sender.getParameters();
      if (!parameters.encodings || !parameters.encodings.length) parameters.encodings = [{}];
      parameters.encodings[0].maxBitrate = bitsPerSecond;
      await sender.setParameters(parameters).catch(() => {});
    }
  }

  // Swap the tracks being sent (another camera, microphone or the screen) without a new offer.
  async replaceStream(stream) {
    this.stream = stream;
    if (!this.pc) return;
    for (const sender of this.pc.getSenders()) {
      if (!sender.track) continue;
      const next = stream.getTracks().find((t) => t.kind === sender.track.kind);
      if (next) await sender.replaceTrack(next);
    }
  }

  // {bytesSent, framesPerSecond, keyframeRequests}: the outbound video and all bytes sent.
  async stats() {
    const result = { bytesSent: 0, framesPerSecond: 0, keyframeRequests: 0 };
    if (!this.pc) return result;
    (await this.pc.getStats()).forEach((s) => {
      if (s.type !== 'outbound-rtp') return;
      result.bytesSent += s.bytesSent || 0;
      if (s.kind === 'video') {
        result.framesPerSecond = s.framesPerSecond || 0;
        result.keyframeRequests += (s.pliCount || 0) + (s.firCount || 0);
      }
    });
    return result;
  }

  closePeer() {
    if (this.pc) this.pc.close();
    this.pc = null;
  }

  async stop() {
    this.wanted = false;
    clearTimeout(this.timer);
    clearTimeout(this.graceTimer);
    const url = this.location;
    this.location = null;
    this.closePeer();
    if (url) {
      await fetch(url, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${this.getToken()}` },
      }).catch(() => {});
    }
    this.setState('offline');
  }
}
