// HLS playback for replays and the live fallback: hls.js (vendored under /static/vendor,
// loaded on first use; no CDN) where Media Source Extensions work, else the browser's own
// HLS player (Safari on iOS).

const HLS_SCRIPT = '/static/vendor/hls.light.min.js';
let loading = null;

function loadHlsJs() {
  if (window.Hls) return Promise.resolve(window.Hls);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = HLS_SCRIPT;
      script.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error('hls.js missing')));
      script.onerror = () => reject(new Error('hls.js could not be loaded'));
      document.head.append(script);
    });
  }
  return loading;
}

// Plays `url` in `video`; `live` keeps close to the live edge. Returns {stop, delay}:
// delay() is how many seconds the picture is behind the wall clock (from the playlist's
// EXT-X-PROGRAM-DATE-TIME; null when unknown). onFatal(message) when playback cannot go on.
// getToken(): the viewer's token, sent with every request (servers that require viewer
// tokens ask for it on video files too).
export async function playHls(video, url, { live = false, onFatal = () => {}, getToken = () => null } = {}) {
  let Hls = null;
  try {
    Hls = await loadHlsJs();
  } catch {
    /* the browser's own player below, if any */
  }
  if (!Hls || !Hls.isSupported()) {
    if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url;
      return { stop: () => video.removeAttribute('src'), delay: () => null };
    }
    onFatal('This browser cannot play HLS.');
    return { stop: () => {}, delay: () => null };
  }
  const hls = new Hls({
    enableWorker: false, // the page's CSP allows no blob: workers
    xhrSetup: (xhr) => {
      const token = getToken();
      if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    },
    lowLatencyMode: false,
    // Live: hold back 2.5 s from the live edge (the last listed segment's end), and jump
    // ahead when more than 10 s behind.
    ...(live ? { liveSyncDuration: 2.5, liveMaxLatencyDuration: 10 } : {}),
  });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
    else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else onFatal('The video cannot be played.');
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  const delay = () => (hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : null);
  return { stop: () => hls.destroy(), delay };
}
