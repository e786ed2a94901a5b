"""The media plane's own settings (the application maps its config onto these)."""

from __future__ import annotations

from dataclasses import dataclass, field

from media.peers import PeerConfig


@dataclass(frozen=True)
class RelaySettings:
    """Bounds and timings of publications and viewers."""

    peer: PeerConfig = field(default_factory=PeerConfig)
    video_queue_frames: int = 90
    audio_queue_frames: int = 150
    gop_cache_frames: int = 600
    keyframe_request_interval_s: float = 0.3
    publisher_idle_timeout_s: float = 10.0
    recent_sessions: int = 1024
    max_sessions: int = 2000
    # Sessions one client (the application names it, e.g. by address) may hold; 0: no limit.
    max_sessions_per_client: int = 0
    # A session not connected (ICE and DTLS) this long after its answer ends.
    connect_timeout_s: float = 15.0
    # Remote ICE candidates one session accepts, from its offer and trickled together:
    # each is a destination of the node's connectivity checks.
    max_candidates_per_session: int = 20
    # Put before every session id (the application names the node holding the session,
    # so a request for it that lands on another node can be routed).
    session_prefix: str = ""
    # Viewers' senders send a frame's packets in one go (media/sender.py) rather
    # than through aiortc's per-packet loop; False only to measure the difference.
    frame_sender: bool = True
    # A video codec to answer when the offer allows it (e.g. "video/h264" so that
    # recordings and HLS get fMP4); "" keeps the offer's own order.
    prefer_video: str = ""
