"""Every reach into aiortc's and aioice's internals, in one module.

Forwarding encoded frames is not something aiortc's public API offers, and ICE
behind NAT needs what aioice does not do, so the media plane changes or reads
private parts of both. Those parts may change in any release: this module is
written for exactly the versions ``pyproject.toml`` pins (:data:`EXPECTED_VERSIONS`)
and :func:`install` refuses any other with :class:`UnsupportedVersionError`.
No other module of ``media`` touches a private attribute of aiortc or aioice.

Process-wide, applied by :func:`install` (idempotent; ``create_app`` and
:class:`media.hub.MediaHub` call it):

* codecs: every H.264 profile, and Opus in stereo, in aiortc's codec table;
* DTLS: ECDHE-RSA cipher suites beside aiortc's ECDSA ones.

Process-wide, when configured: :func:`include_loopback_candidates`,
:func:`configure_ice` (public address, UDP port range).

Per object: :func:`install_tap` (a receiver's frames go to us undecoded, video frames
complete on their RTP marker bit),
:func:`replace_send_loop` (a viewer's sender runs :mod:`media.sender`'s loop),
:func:`route_keyframe_requests` (a viewer's PLI/FIR reach the relay).

Reads: :func:`send_rtcp_pli`, :func:`negotiated_codecs`, :func:`sender_state`,
:func:`sender_enabled`, :func:`record_sent`, :func:`rtp_route`; and
:func:`replace_history` (the NACK history a viewer's sender reads).

``tests/unit/test_media_aiortc_patches.py`` has a test per patch and accessor
that fails when it stops taking effect; ``tests/integration/test_media_hub.py``
and ``test_nat.py`` check the same with real peers.
"""

from __future__ import annotations

import asyncio
import queue
import random
import socket
import types
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Final, NamedTuple, cast

import aioice.ice
from aioice import turn
from aioice.candidate import Candidate
from aiortc import RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.codecs import CODECS
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcdtlstransport import RTCCertificate, RTCDtlsTransport, SRTPProtectionProfile, State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from OpenSSL import SSL

from media.codecs import OPUS_PARAMETERS, missing_video_codecs
from media.nat import IceNetwork, host_candidate, with_public_address
from media.udp_gso import DatagramSender

# The versions this module was written and tested for (pyproject.toml pins them exactly).
EXPECTED_VERSIONS: Final = {"aiortc": "1.16.0", "aioice": "0.13.0"}

FrameSink = Callable[[RTCRtpCodecParameters, bytes, int], None]
SendLoop = Callable[[RTCRtpSender, RTCRtpCodecParameters], Awaitable[None]]


class UnsupportedVersionError(RuntimeError):
    """An installed aiortc or aioice is not the version these patches were written for."""


class TapUnavailableError(RuntimeError):
    """The receiver has no decoder queue to tap, or its decoder thread already started."""


# Versions


def installed_versions() -> dict[str, str]:
    """The installed version of each patched distribution ("" when it is not installed)."""
    found: dict[str, str] = {}
    for name in EXPECTED_VERSIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = ""
    return found


def check_versions(found: Mapping[str, str]) -> None:
    """Raise :class:`UnsupportedVersionError` unless ``found`` has exactly the expected versions."""
    wrong = [
        f"{name} {found[name]} is installed, {expected} is required"
        if found.get(name)
        else f"{name} is not installed, {expected} is required"
        for name, expected in EXPECTED_VERSIONS.items()
        if found.get(name) != expected
    ]
    if wrong:
        raise UnsupportedVersionError(
            "media/aiortc_patches.py changes private parts of aiortc and aioice and was"
            f" written for exactly these versions: {'; '.join(wrong)}."
            " Install the versions pyproject.toml pins."
        )


# Process-wide patches


def install() -> None:
    """Check the versions, then patch aiortc's codec table and DTLS contexts (idempotent).

    Raises :class:`UnsupportedVersionError` (before changing anything) on other versions.
    """
    check_versions(installed_versions())
    _register_codecs()
    _allow_rsa_peers()


def _register_codecs() -> None:
    # Relies on: aiortc.codecs.CODECS, the table every negotiation reads, being mutable.
    CODECS["video"].extend(missing_video_codecs(CODECS["video"]))
    for codec in CODECS["audio"]:
        if codec.mimeType.lower() == "audio/opus":
            codec.parameters.update(OPUS_PARAMETERS)


# aiortc offers only ECDHE-ECDSA suites. As the DTLS client (answering an ``actpass``
# offer as ``active``) facing a publisher with an RSA certificate (GStreamer 1.22's
# default, some SDKs) no suite matches and the handshake fails. As the DTLS server
# our certificate is ECDSA, so the RSA suites are simply never chosen.
DTLS_CIPHERS: Final = (
    b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
    b"ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
    b"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    b"ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA"
)
# Relies on: RTCCertificate._create_ssl_context(srtp_profiles) making every DTLS context.
CREATE_SSL_CONTEXT: Final = "_create_ssl_context"
PATCH_MARK: Final = "_livecommerce_patch"


def _allow_rsa_peers() -> None:
    original = getattr(RTCCertificate, CREATE_SSL_CONTEXT)
    if getattr(original, PATCH_MARK, False):
        return

    def create_ssl_context(
        self: RTCCertificate, srtp_profiles: list[SRTPProtectionProfile]
    ) -> SSL.Context:
        context: SSL.Context = original(self, srtp_profiles)
        context.set_cipher_list(DTLS_CIPHERS)
        return context

    setattr(create_ssl_context, PATCH_MARK, True)
    setattr(RTCCertificate, CREATE_SSL_CONTEXT, create_ssl_context)


# Relies on: aioice.ice.get_host_addresses(use_ipv4, use_ipv6), which leaves 127.0.0.1
# out, being looked up in the module at each gathering.
LOOPBACK: Final = "127.0.0.1"
_host_addresses: Callable[[bool, bool], list[str]] | None = None


def include_loopback_candidates() -> None:
    """Gather 127.0.0.1 too, process-wide (idempotent): a machine whose only interface is
    loopback (a container without a network) otherwise gathers no candidate at all."""
    global _host_addresses
    if _host_addresses is not None:
        return
    original = aioice.ice.get_host_addresses
    _host_addresses = original

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = original(use_ipv4, use_ipv6)
        if use_ipv4 and LOOPBACK not in addresses:
            addresses.append(LOOPBACK)
        return addresses

    aioice.ice.get_host_addresses = with_loopback


# Relies on: Connection.get_component_candidates(component, addresses, timeout) gathering
# one component's candidates (host sockets first, then STUN and TURN), and on
# Connection._protocols listing the sockets the connection reads and closes.
GET_COMPONENT_CANDIDATES: Final = "get_component_candidates"
GatherFunction = Callable[[aioice.ice.Connection, int, list[str], int], Awaitable[list[Candidate]]]
_network = IceNetwork()
_gather_original: GatherFunction | None = None


def configure_ice(public_ip: str | None = None, port_range: tuple[int, int] | None = None) -> None:
    """Announce ``public_ip`` and bind in ``port_range`` from now on, process-wide (None:
    aioice's way). May be called again to change both; see :mod:`media.nat`.

    Raises ``ValueError`` for an address that is not IPv4 or a range outside 1024-65535.
    """
    global _network, _gather_original
    _network = IceNetwork(public_ip, port_range)
    if _gather_original is None:
        _gather_original = getattr(aioice.ice.Connection, GET_COMPONENT_CANDIDATES)
        setattr(aioice.ice.Connection, GET_COMPONENT_CANDIDATES, _gather)


async def _gather(
    connection: aioice.ice.Connection,
    component: int,
    addresses: list[str],
    timeout: int = 5,  # noqa: ASYNC109 - aioice's signature
) -> list[Candidate]:
    assert _gather_original is not None
    network = _network
    if network.port_range is None:
        candidates = await _gather_original(connection, component, addresses, timeout)
    else:
        hosts = await _bind_in_range(connection, component, addresses, network.port_range)
        # STUN and TURN as aioice does; its host sockets are ours, bound above.
        candidates = hosts + await _gather_original(connection, component, [], timeout)
    if network.public_ip is not None:
        candidates = with_public_address(candidates, network.public_ip)
    return candidates


async def _bind_in_range(
    connection: aioice.ice.Connection,
    component: int,
    addresses: list[str],
    port_range: tuple[int, int],
) -> list[Candidate]:
    loop = asyncio.get_running_loop()
    low, high = port_range
    candidates = []
    for address in addresses:
        ports = list(range(low, high + 1))
        random.shuffle(ports)
        for port in ports:
            try:
                transport, protocol = await loop.create_datagram_endpoint(
                    lambda: aioice.ice.StunProtocol(connection), local_addr=(address, port)
                )
            except OSError:
                continue  # taken: try the next port
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, turn.UDP_SOCKET_BUFFER_SIZE)
            host, bound = transport.get_extra_info("sockname")[:2]
            protocol.local_candidate = host_candidate(component, host, bound)
            connection._protocols.append(protocol)
            candidates.append(protocol.local_candidate)
            break
    return candidates


# Per-object patches

# Relies on: RTCRtpReceiver putting each depayloaded frame as (codec, JitterFrame) on the
# private queue its decoder thread reads, created in __init__ and read once the thread
# starts in receive(); the thread ends on a None sentinel, which close() sends and joins.
DECODER_QUEUE: Final = "_RTCRtpReceiver__decoder_queue"
DECODER_THREAD: Final = "_RTCRtpReceiver__decoder_thread"


class FrameTap(queue.Queue[tuple[RTCRtpCodecParameters, JitterFrame] | None]):
    """A decoder queue that hands frames to ``sink`` on the event loop; only the stop
    sentinel reaches the decoder thread, which therefore idles and never decodes (it must
    still exist and get the sentinel, or ``close()`` hangs)."""

    def __init__(self, sink: FrameSink) -> None:
        super().__init__()
        self._sink = sink

    def put(
        self,
        item: tuple[RTCRtpCodecParameters, JitterFrame] | None,
        block: bool = True,
        timeout: float | None = None,
    ) -> None:
        if item is None:
            super().put(None, block, timeout)
            return
        codec, frame = item
        self._sink(codec, frame.data, frame.timestamp)


def install_tap(receiver: RTCRtpReceiver, sink: FrameSink) -> FrameTap:
    """Route the receiver's encoded frames to ``sink``; call before it starts receiving
    (in the peer connection's ``track`` event). A video receiver also completes each
    frame on its RTP marker bit (:class:`MarkerJitterBuffer`). Raises
    :class:`TapUnavailableError`."""
    current = getattr(receiver, DECODER_QUEUE, None)
    if not isinstance(current, queue.Queue):
        raise TapUnavailableError(
            "aiortc's RTCRtpReceiver has no decoder queue to tap; this server needs aiortc"
            f" {EXPECTED_VERSIONS['aiortc']}"
        )
    if getattr(receiver, DECODER_THREAD, None) is not None:
        raise TapUnavailableError("the receiver already started its decoder thread")
    tap = FrameTap(sink)
    setattr(receiver, DECODER_QUEUE, tap)
    buffer = getattr(receiver, JITTER_BUFFER, None)
    if isinstance(buffer, JitterBuffer) and buffer._is_video:
        setattr(receiver, JITTER_BUFFER, MarkerJitterBuffer(buffer.capacity, is_video=True))
    return tap


# Relies on: RTCRtpReceiver.__init__ creating its jitter buffer (video: capacity 512, no
# prefetch), and JitterBuffer keeping packets in ._packets by sequence number modulo its
# capacity from ._origin, each with ._data (its depayloaded bytes) set by the receiver.
JITTER_BUFFER: Final = "_RTCRtpReceiver__jitter_buffer"


class MarkerJitterBuffer(JitterBuffer):
    """aiortc's video jitter buffer, but a frame is complete as soon as the packet with
    the RTP marker bit (the frame's last, RFC 3550 §5.1) arrives and every packet before
    it is there, instead of when the next frame's first packet arrives: forwarding starts
    one frame interval earlier. A frame whose marker packet is lost still completes
    aiortc's way, on the next frame's first packet; nothing else changes (misorder,
    overflow, the keyframe requests ``add`` asks for)."""

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        origin = self._origin
        assert origin is not None
        packets: list[RtpPacket] = []
        for count in range(self.capacity):
            packet = self._packets[(origin + count) % self.capacity]
            if packet is None:
                break
            if packets and packet.timestamp != packets[0].timestamp:
                return self._take(packets, count)  # aiortc's rule: the next frame began
            packets.append(packet)
            if packet.marker:
                return self._take(packets, count + 1)
        return None

    def _take(self, packets: list[RtpPacket], count: int) -> JitterFrame:
        self.remove(count)
        data = b"".join(packet._data for packet in packets)  # type: ignore[attr-defined]
        return JitterFrame(data=data, timestamp=packets[0].timestamp)


# Relies on: RTCRtpSender.send() starting self._run_rtp(codec) as its RTP task, and stop()
# cancelling it and waiting for the started and exited events (see SenderState).
RUN_RTP: Final = "_run_rtp"


def replace_send_loop(sender: RTCRtpSender, loop: SendLoop) -> None:
    """Make ``sender`` run ``loop(sender, codec)`` as its RTP task; call before it sends."""
    setattr(sender, RUN_RTP, types.MethodType(loop, sender))


# Relies on: RTCRtpSender._handle_rtcp_packet calling self._send_keyframe() for each PLI
# and FIR; aiortc's own only sets a flag its encoder reads, and the relay has no encoder.
SEND_KEYFRAME: Final = "_send_keyframe"


def route_keyframe_requests(sender: RTCRtpSender, on_request: Callable[[], None]) -> None:
    """Call ``on_request`` for each PLI or FIR the viewer sends to ``sender``."""
    setattr(sender, SEND_KEYFRAME, on_request)


# Reads


async def send_rtcp_pli(receiver: RTCRtpReceiver, ssrc: int) -> None:
    """Send an RTCP PLI for ``ssrc`` through ``receiver`` (no public API sends one)."""
    # Relies on: RTCRtpReceiver._send_rtcp_pli(media_ssrc), a no-op before RTCP is set up.
    await receiver._send_rtcp_pli(ssrc)


def negotiated_codecs(transceiver: RTCRtpTransceiver) -> list[RTCRtpCodecParameters]:
    """The codecs negotiated for ``transceiver``, preferred first (empty before that)."""
    # Relies on: RTCRtpTransceiver._codecs, set by setRemoteDescription.
    return transceiver._codecs


# Relies on: these name-mangled attributes of RTCRtpSender, set in __init__ and send():
# the events stop() waits for, the history NACKs retransmit from, the header extension
# ids and the mid negotiated; and _ssrc, its SSRC.
SENDER_PRIVATE: Final = "_RTCRtpSender__"


@dataclass(frozen=True)
class SenderState:
    """What a replacement send loop must use and keep of an :class:`RTCRtpSender`."""

    started: asyncio.Event  # set when the loop runs: stop() waits for it
    exited: asyncio.Event  # set when the loop ends, whatever ends it: stop() waits for it
    history: dict[int, RtpPacket]  # sent packets by sequence number % RTP_HISTORY_SIZE
    extensions_map: HeaderExtensionsMap
    mid: str | None
    ssrc: int


def sender_state(sender: RTCRtpSender) -> SenderState:
    """``sender``'s state for its send loop (read once the sender has started)."""
    return SenderState(
        started=getattr(sender, SENDER_PRIVATE + "rtp_started"),
        exited=getattr(sender, SENDER_PRIVATE + "rtp_exited"),
        history=getattr(sender, SENDER_PRIVATE + "rtp_history"),
        extensions_map=getattr(sender, SENDER_PRIVATE + "rtp_header_extensions_map"),
        mid=getattr(sender, SENDER_PRIVATE + "mid"),
        ssrc=sender._ssrc,
    )


def replace_history(sender: RTCRtpSender, history: dict[int, RtpPacket]) -> None:
    """Make ``history`` what ``sender`` retransmits from on a NACK (aiortc calls only its
    ``get(sequence_number % RTP_HISTORY_SIZE)``)."""
    setattr(sender, SENDER_PRIVATE + "rtp_history", history)


def sender_enabled(sender: RTCRtpSender) -> bool:
    """Whether ``sender`` sends (aiortc's loop drops the frames of a disabled sender)."""
    # Relies on: RTCRtpSender._enabled.
    return sender._enabled


def record_sent(
    sender: RTCRtpSender, *, ntp_time: int, rtp_timestamp: int, octets: int, packets: int
) -> None:
    """What the sender's RTCP sender reports and stats read: the last packet's NTP and RTP
    times and the totals sent."""
    setattr(sender, _NTP_TIMESTAMP, ntp_time)
    setattr(sender, _RTP_TIMESTAMP, rtp_timestamp)
    setattr(sender, _OCTET_COUNT, octets)
    setattr(sender, _PACKET_COUNT, packets)


_NTP_TIMESTAMP: Final = SENDER_PRIVATE + "ntp_timestamp"
_RTP_TIMESTAMP: Final = SENDER_PRIVATE + "rtp_timestamp"
_OCTET_COUNT: Final = SENDER_PRIVATE + "octet_count"
_PACKET_COUNT: Final = SENDER_PRIVATE + "packet_count"


# Relies on: RTCDtlsTransport._state and ._tx_srtp (the SRTP session, set once connected),
# its ICE transport's aioice Connection (._connection) and that connection's nominated
# pair per component (._nominated), whose protocol's transport is the UDP socket.
ICE_COMPONENT: Final = 1


class RtpRoute(NamedTuple):
    """Where a connected sender's RTP goes: SRTP protection, the socket, the peer (a
    tuple: one is built per viewer per pass)."""

    protect: Callable[[bytes], bytes]
    transport: DatagramSender
    address: tuple[str, int]


def rtp_route(dtls: RTCDtlsTransport) -> RtpRoute:
    """How to SRTP-protect and send RTP on the nominated ICE pair without yielding to the
    loop (aiortc awaits four coroutine layers per packet). Raises ``ConnectionError`` when
    not connected, as aiortc does."""
    if dtls._state != State.CONNECTED:
        raise ConnectionError("Cannot send encrypted RTP, not connected")
    pair = dtls.transport._connection._nominated.get(ICE_COMPONENT)
    if pair is None:
        raise ConnectionError("Cannot send data, not connected")
    # Relies on: aioice's protocol transport being asyncio's (or uvloop's) datagram
    # transport, which has get_write_buffer_size() though typeshed's class does not say so.
    transport = cast(DatagramSender, pair.protocol.transport)
    return RtpRoute(dtls._tx_srtp.protect, transport, pair.remote_addr)
