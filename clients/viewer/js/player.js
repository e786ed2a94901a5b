// The viewer pages' player is the SDK's (/sdk/player.js), with the pages' own words for a
// room that has ended.

import { WhepPlayer as SdkPlayer } from '/sdk/player.js';
import { TEXT } from './texts.js';

export class WhepPlayer extends SdkPlayer {
  // onState(state, detail): 'connecting' | 'waiting' | 'playing' | 'retrying' | 'stopped'
  // | 'unsupported' (no WebRTC in this browser)
  constructor(video, endpoint, getToken, onState) {
    super(video, endpoint, getToken, onState, { texts: { roomEnded: TEXT.roomEnded } });
  }
}
