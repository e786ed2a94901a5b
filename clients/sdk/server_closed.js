// When the server ends a WebRTC session (a node draining hands its rooms over).

// Call onClosed once when the server ends the session: its DTLS close_notify closes the
// transport at once, while Chrome may keep the connection 'connected' for seconds more.
export function onServerClosed(pc, onClosed) {
  const parts = [...pc.getSenders(), ...pc.getReceivers()];
  const transport = parts.map((part) => part.transport).find(Boolean);
  if (!transport) return;
  const check = () => {
    if (transport.state !== 'closed' && transport.state !== 'failed') return;
    transport.removeEventListener('statechange', check);
    onClosed();
  };
  transport.addEventListener('statechange', check);
}
