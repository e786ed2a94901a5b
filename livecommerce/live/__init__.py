"""Live streams of rooms: who may publish and play, and the room's live/offline state."""
