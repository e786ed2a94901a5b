"""Peer connections as the server makes them: ICE servers from config, answers
with every candidate gathered, trickled candidates, a close that cannot hang."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Final

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)

log = logging.getLogger("media.peers")

CLOSE_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server (``urls`` like ``stun:host:3478`` or ``turn:host?transport=udp``)."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class PeerConfig:
    """How the server's peer connections are set up."""

    ice_servers: tuple[IceServer, ...] = field(default_factory=tuple)


def new_peer_connection(config: PeerConfig) -> RTCPeerConnection:
    """A peer connection that uses only the configured ICE servers (never aiortc's default)."""
    servers = [
        RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
        for s in config.ice_servers
    ]
    return RTCPeerConnection(RTCConfiguration(iceServers=servers))


async def answer_offer(pc: RTCPeerConnection, offer_sdp: str) -> str:
    """Apply the offer, and return the answer once every local candidate is in it."""
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
    answer = await pc.createAnswer()
    await pc.setLocalDescription(answer)  # gathers all candidates before it returns
    local = pc.localDescription
    assert local is not None
    return local.sdp


async def close_quietly(pc: RTCPeerConnection, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
    """Close a peer connection; give up after ``timeout_s`` rather than hang a shutdown."""
    try:
        await asyncio.wait_for(pc.close(), timeout_s)
    except TimeoutError:
        log.warning("a peer connection did not close within %.1f s", timeout_s)
    except Exception:
        log.exception("closing a peer connection failed")
