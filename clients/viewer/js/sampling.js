// chat_sampling: the room chats faster than anyone can read, so this node sends a fair sample
// of other viewers' lines (your own, the anchor's and staff lines always arrive).

export function samplingNote(frame) {
  return frame.on
    ? `Busy chat: showing about ${frame.per_s} messages a second.`
    : 'Showing every chat message again.';
}
