"""Peer connections as the server makes them: ICE servers from config, answers
with every candidate gathered, trickled candidates, a close that cannot hang."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
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


class ConnectDeadline:
    """Calls ``on_timeout`` with a reason unless ``pc`` is connected (ICE and DTLS)
    ``timeout_s`` after :meth:`start`: an offer whose peer never connects must not
    hold a session, its sockets and its place under the limits for ever."""

    def __init__(
        self, pc: RTCPeerConnection, timeout_s: float, on_timeout: Callable[[str], None]
    ) -> None:
        self._pc = pc
        self._timeout_s = timeout_s
        self._on_timeout = on_timeout
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._handle = asyncio.get_running_loop().call_later(self._timeout_s, self._expire)

    def _expire(self) -> None:
        self._handle = None
        if self._pc.connectionState != "connected":
            self._on_timeout(f"not connected within {self._timeout_s:g} s")

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
