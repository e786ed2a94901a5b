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

// Plays `url` in `video`; `live` keeps close to the live edge. Returns a stop function.
// onFatal(message) is called when playback cannot go on.
export async function playHls(video, url, { live = false, onFatal = () => {} } = {}) {
  let Hls = null;
  try {
    Hls = await loadHlsJs();
  } catch {
    /* the browser's own player below, if any */
  }
  if (!Hls || !Hls.isSupported()) {
    if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url;
      return () => video.removeAttribute('src');
    }
    onFatal('This browser cannot play HLS.');
    return () => {};
  }
  const hls = new Hls({
    enableWorker: false, // the page's CSP allows no blob: workers
    lowLatencyMode: false,
    liveSyncDurationCount: live ? 1 : 3,
    liveMaxLatencyDurationCount: live ? 4 : Infinity,
  });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
    else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else onFatal('The video cannot be played.');
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  return () => hls.destroy();
}
