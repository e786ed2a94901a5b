// The live room over HLS when WebRTC cannot play it: the browser has no WebRTC, or the
// WHEP session does not start playing within FALLBACK_AFTER_MS (ICE blocked, UDP
// filtered). The page then says so: HLS is a few seconds behind the live.

import { api } from './api.js';
import { el } from './format.js';
import { playHls } from './hls.js';

const FALLBACK_AFTER_MS = 10_000;
const NOTE = 'WebRTC could not connect here, so this is the HLS stream: a few seconds behind the live.';
const DELAY_EVERY_MS = 2000;

export class LiveFallback {
  constructor(video, roomId, player, getToken) {
    this.video = video;
    this.getToken = getToken;
    this.roomId = roomId;
    this.player = player;
    this.active = false;
    this.timer = null;
    this.playback = null;
    this.delayTimer = null;
  }

  // The WebRTC player's state; true when the fallback owns the video (the caller then
  // leaves the page's player state alone).
  onPlayerState(state) {
    if (this.active) return true;
    if (state === 'playing' || state === 'stopped') {
      clearTimeout(this.timer);
      this.timer = null;
    } else if (state === 'unsupported') {
      this.tryNow();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.tryNow(), FALLBACK_AFTER_MS);
    }
    return false;
  }

  async tryNow() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.active || document.body.dataset.player === 'playing') return;
    let room = null;
    try {
      room = await api('GET', `/api/rooms/${encodeURIComponent(this.roomId)}`);
    } catch {
      /* asked again below */
    }
    if (this.active || document.body.dataset.player === 'playing') return;
    if (!room || !room.hls_url) {
      if (room && room.status === 'ended') return;
      this.timer = setTimeout(() => this.tryNow(), FALLBACK_AFTER_MS);
      return;
    }
    this.active = true;
    this.player.stop();
    const stage = this.video.parentElement;
    stage.querySelector('.player-state').hidden = true;
    const note = el('p', 'player-note', NOTE);
    note.id = 'hls-note';
    stage.append(note);
    document.body.dataset.player = 'hls';
    this.video.addEventListener('playing', () => {
      document.body.dataset.hls = 'playing';
    });
    this.playback = await playHls(this.video, room.hls_url, {
      live: true,
      getToken: this.getToken,
      onFatal: (text) => {
        note.textContent = text;
      },
    });
    this.video.play().catch(() => {});
    // How far behind: the page says it, in whole seconds.
    this.delayTimer = setInterval(() => {
      const delay = this.playback.delay();
      if (delay === null || delay < 0) return;
      document.body.dataset.hlsDelay = delay.toFixed(2);
      note.textContent = `${NOTE} Now ${Math.round(delay)} s behind.`;
    }, DELAY_EVERY_MS);
  }

  stop() {
    clearTimeout(this.timer);
    clearInterval(this.delayTimer);
    if (this.playback) this.playback.stop();
  }
}
