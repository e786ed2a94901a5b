// The SDK's: when the server ends a WebRTC session (the studio's publisher uses it too).
export { onServerClosed } from '/sdk/server_closed.js';
