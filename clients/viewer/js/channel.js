// The viewer pages' room channel is the SDK's LiveRoom (/sdk/room.js: reconnect with backoff,
// resume from the last chat message, a small queue while disconnected), behind the
// callbacks the pages were written for.

import { LiveRoom } from '/sdk/room.js';

export class Channel {
  // onFrame(frame); onState(state, code): 'connecting' | 'open' | 'closed' | 'banned'
  // | 'no_room' | 'room_ended' (the last three are final)
  constructor(roomId, getToken, onFrame, onState) {
    this.live = new LiveRoom({ room: roomId, token: getToken });
    this.live.on('frame', onFrame);
    this.live.on('state', ({ state, code }) => onState(state, code));
  }

  get ready() {
    return this.live.ready;
  }

  connect() {
    this.live.connect();
  }

  // True when the frame went out now; otherwise it is sent after the next welcome.
  send(frame) {
    return this.live.send(frame);
  }

  // Connect again now, e.g. with a new token; resumes from the last message.
  reconnect() {
    if (!this.live.stopped) this.live.reconnect();
  }

  close() {
    this.live.close();
  }
}
