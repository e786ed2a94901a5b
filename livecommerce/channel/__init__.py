"""The room channel: WebSocket sessions, wire formats, chat, likes and presence."""
