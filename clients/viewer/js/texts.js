// Every sentence the room page shows, stated once (a test keeps it so).

import { clock, countdown } from './format.js';

function waitText(until) {
  const seconds = Math.max(1, Math.ceil((until - Date.now()) / 1000));
  return `${seconds} s`;
}

const ROOM_ENDED = 'The room has ended.';

export const TEXT = {
  signInToAct: 'Sign in to chat, like or buy.',
  signInToTakePart: 'Sign in to take part: paste your token above.',
  roomMuted: 'The room is muted: only the anchor and moderators can chat.',
  roomMutedUntil: (until) => `The room is muted until ${clock(until)}.`,
  roomUnmuted: 'The room is no longer muted.',
  timedOut: 'You are timed out for now.',
  timedOutUntil: (until) => `You are timed out until ${clock(until)}.`,
  timeoutOver: 'Your timeout is over; you can chat again.',
  banned: 'You are banned from this room.',
  bannedNow: 'You were banned from this room.',
  unbanned: 'Your ban was lifted.',
  blockedTerm: 'That message contains a word this room does not allow.',
  tooLong: 'That message is too long.',
  tooFast: (until) => `You are sending too fast; wait ${waitText(until)}.`,
  slowModeWait: (until) => `Slow mode is on; wait ${waitText(until)}.`,
  slowMode: (seconds) => (seconds ? `Slow mode: one message every ${seconds} s.` : 'Slow mode is off.'),
  live: 'The stream is live.',
  offline: 'The stream went offline; it resumes when the anchor is back.',
  saleStarted: 'A flash sale has started!',
  roomEnded: ROOM_ENDED,
  thanks: `${ROOM_ENDED} Thanks for watching!`,
  noSuchRoom: 'There is no such room.',
  reconnecting: 'Reconnecting to the room…',
  tokenInvalid: 'Your token is no longer valid; you are watching anonymously. Sign in again to chat.',
  connecting: 'Connecting…',
  stopped: 'Stopped.',
  endsIn: (ms) => `ends in ${countdown(ms)}`,
  pair: (first, second) => `${first} · ${second}`,
  replayOf: (room) => `Replay of ${room}`,
  studioBadge: {
    live: 'LIVE',
    connecting: 'CONNECTING',
    reconnecting: 'RECONNECTING',
    elsewhere: 'LIVE · OTHER SOURCE',
    offline: 'OFFLINE',
  },
  liveElsewhere: 'The room is live from another source (OBS, the demo clip…). Going live here replaces it.',
};
