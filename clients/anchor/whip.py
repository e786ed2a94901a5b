"""A WHIP client (RFC 9725) on aiortc: POST the offer, keep the session, DELETE it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

from media.tasks import cancel_all

HTTP_TIMEOUT_S = 15.0


class PublishError(Exception):
    """Publishing failed; ``fatal`` when retrying cannot help (token, room)."""

    def __init__(self, message: str, *, fatal: bool) -> None:
        super().__init__(message)
        self.fatal = fatal


def _explain(status: int, body: str, room: str, server: str) -> PublishError:
    try:
        error = json.loads(body)["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "", body.strip()[:200] or f"HTTP {status}"
    if status == 401:
        return PublishError(f"the server refused the token: {message}", fatal=True)
    if status == 403:
        return PublishError(f"this token may not publish room {room!r}: {message}", fatal=True)
    if status == 404:
        return PublishError(f"room {room!r} does not exist on {server}: {message}", fatal=True)
    if code == "room_ended":
        return PublishError(f"room {room!r} has ended: {message}", fatal=True)
    if status in (400, 415, 422):
        return PublishError(f"the server cannot take this stream: {message}", fatal=True)
    return PublishError(f"publishing failed (HTTP {status}): {message}", fatal=False)


def prefer_codec(pc: RTCPeerConnection, kind: str, mime: str) -> None:
    """Offer only ``mime`` for ``kind`` (what a pre-encoded file carries)."""
    codecs = [
        c
        for c in RTCRtpSender.getCapabilities(kind).codecs
        if c.mimeType.lower() == mime.lower()
        and (mime.lower() != "video/h264" or c.parameters.get("profile-level-id") == "42e01f")
    ]
    for transceiver in pc.getTransceivers():
        if transceiver.kind == kind and codecs:
            transceiver.setCodecPreferences(codecs)


@dataclass
class WhipSession:
    """A running publication: its peer connection and the URL that ends it."""

    pc: RTCPeerConnection
    url: str
    http: aiohttp.ClientSession
    token: str

    async def wait_closed(self, stop: asyncio.Event) -> str:
        """Wait until the connection fails or closes, or ``stop`` is set; returns why."""
        ended = asyncio.Event()

        @self.pc.on("connectionstatechange")
        def on_state() -> None:
            if self.pc.connectionState in ("failed", "closed"):
                ended.set()

        waits: list[asyncio.Task[object]] = [
            asyncio.create_task(ended.wait()),
            asyncio.create_task(stop.wait()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_all(waits)
        return "stopped" if stop.is_set() else f"connection {self.pc.connectionState}"

    async def end(self) -> None:
        """DELETE the session (errors ignored: the server ends it anyway) and close."""
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with self.http.delete(
                self.url,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S),
            ):
                pass
        await self.pc.close()


async def publish(
    http: aiohttp.ClientSession,
    server: str,
    room: str,
    token: str,
    tracks: list[MediaStreamTrack],
    codecs: dict[str, str],
) -> WhipSession:
    """Offer ``tracks`` to ``SERVER/whip/ROOM``; raises :class:`PublishError`."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        for track in tracks:
            pc.addTransceiver(track, direction="sendonly")
        for kind, mime in codecs.items():
            prefer_codec(pc, kind, mime)
        await pc.setLocalDescription(await pc.createOffer())
        assert pc.localDescription is not None
        endpoint = f"{server.rstrip('/')}/whip/{room}"
        try:
            async with http.post(
                endpoint,
                data=pc.localDescription.sdp.encode(),
                headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
                timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S),
            ) as response:
                body = await response.text()
                if response.status != 201:
                    raise _explain(response.status, body, room, server)
                location = urljoin(endpoint, response.headers.get("Location", ""))
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            raise PublishError(f"cannot reach {server}: {reason}", fatal=False) from None
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        return WhipSession(pc, location, http, token)
    except BaseException:
        await pc.close()
        raise
