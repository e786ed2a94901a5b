"""Real aiortc peers for media tests: a publisher (synthetic or file source) and viewers
that decode what they receive."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from clients.anchor.testsrc import PatternVideoTrack, ToneAudioTrack


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def prefer(pc: RTCPeerConnection, kind: str, mime: str, profile: str | None = None) -> None:
    caps = RTCRtpSender.getCapabilities(kind).codecs
    chosen = [
        c
        for c in caps
        if c.mimeType.lower() == mime.lower()
        and (profile is None or c.parameters.get("profile-level-id") == profile)
    ]
    for transceiver in pc.getTransceivers():
        if transceiver.kind == kind:
            transceiver.setCodecPreferences(chosen)


async def publisher_offer(
    tracks: list[MediaStreamTrack], video_codec: str = "video/VP8", h264_profile: str = "42e01f"
) -> RTCPeerConnection:
    pc = new_pc()
    for track in tracks:
        pc.addTransceiver(track, direction="sendonly")
    if video_codec.lower() == "video/h264":
        prefer(pc, "video", "video/H264", h264_profile)
    else:
        prefer(pc, "video", video_codec)
    await pc.setLocalDescription(await pc.createOffer())
    return pc


def synthetic_tracks(width: int = 320, height: int = 240) -> list[MediaStreamTrack]:
    return [PatternVideoTrack(width, height), ToneAudioTrack()]


async def accept(pc: RTCPeerConnection, answer: str) -> None:
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))


@dataclass
class Viewer:
    """A viewer peer that decodes every frame it receives."""

    pc: RTCPeerConnection = field(default_factory=new_pc)
    frames: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    first_frame_at: dict[str, float] = field(default_factory=dict)
    sizes: set[tuple[int, int]] = field(default_factory=set)
    layouts: set[str] = field(default_factory=set)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    read: bool = True

    async def offer(self, kinds: tuple[str, ...] = ("video", "audio")) -> str:
        for kind in kinds:
            self.pc.addTransceiver(kind, direction="recvonly")
        self.pc.on("track", self._on_track)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        assert self.pc.localDescription is not None
        return self.pc.localDescription.sdp

    def _on_track(self, track: MediaStreamTrack) -> None:
        if self.read:
            self.readers.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame: Any = await track.recv()
                self.first_frame_at.setdefault(track.kind, time.monotonic())
                self.frames[track.kind] += 1
                if track.kind == "video":
                    self.sizes.add((frame.width, frame.height))
                else:
                    self.layouts.add(frame.layout.name)
        except MediaStreamError:
            self.ended.set()

    async def wait_frames(self, kind: str, count: int, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.frames[kind] < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{kind}: {self.frames[kind]} frames, wanted {count}")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        await self.pc.close()
        for task in self.readers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
                await task


async def wait_for(condition: Any, timeout_s: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
