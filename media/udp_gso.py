"""Sending a frame's datagrams with few system calls: UDP generic segmentation offload.

With ``UDP_SEGMENT`` (Linux 4.18 and later) one ``sendmsg`` hands the kernel
a buffer of back-to-back datagrams of one size (the last may be shorter),
which it sends as separate datagrams, byte for byte as if sent one by one. A
video frame's RTP packets are all of one size but the last (aiortc's
packetizers cut full packets), so a frame costs one system call per viewer
instead of one per packet.

:func:`send_batch` falls back to one ``sendto`` per datagram, through the
asyncio transport, whenever segmentation cannot be used: not Linux, a kernel
without it (the first ``EINVAL``/``EIO``/``ENOPROTOOPT`` switches it off for
the process), the socket's send buffer is full (``EAGAIN``: the transport then
queues and sends in order), or the transport already holds unsent bytes (so
nothing overtakes them).
"""

from __future__ import annotations

import errno
import socket
import struct
import sys
from collections.abc import Sequence
from typing import Any, Protocol

# From linux/udp.h; Python's socket module does not name it before 3.12.
UDP_SEGMENT = 103
SOL_UDP = 17
# The kernel refuses more segments than this in one send (UDP_MAX_SEGMENTS, Linux 4.18).
MAX_SEGMENTS = 64
# A UDP payload is at most 65,507 bytes over IPv4.
MAX_BYTES = 65_000
UNSUPPORTED_ERRNOS = frozenset({errno.EINVAL, errno.EIO, errno.ENOPROTOOPT, errno.EOPNOTSUPP})


class DatagramSender(Protocol):
    """What of an asyncio datagram transport (asyncio's or uvloop's) this uses."""

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None: ...

    def get_write_buffer_size(self) -> int: ...

    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


class _State:
    enabled = sys.platform == "linux"


def set_enabled(enabled: bool) -> None:
    """Use segmentation offload where the kernel has it (True, the default on Linux) or
    always one ``sendto`` per datagram (False: what a benchmark compares against)."""
    _State.enabled = enabled and sys.platform == "linux"


def enabled() -> bool:
    return _State.enabled


def groups(datagrams: Sequence[bytes]) -> list[list[bytes]]:
    """``datagrams`` cut into runs one segmented send can carry: each run's datagrams all
    have its first one's size except its last, which may be shorter; in order."""
    runs: list[list[bytes]] = []
    run: list[bytes] = []
    size = total = 0
    closed = False  # the run ended on a shorter datagram: nothing may follow it
    for datagram in datagrams:
        length = len(datagram)
        if (
            run
            and not closed
            and length <= size
            and len(run) < MAX_SEGMENTS
            and total + length <= MAX_BYTES
        ):
            run.append(datagram)
            total += length
            closed = length < size
            continue
        run = [datagram]
        runs.append(run)
        size = total = length
        closed = False
    return runs


def send_batch(
    transport: DatagramSender, datagrams: Sequence[bytes], address: tuple[str, int]
) -> int:
    """Send ``datagrams`` to ``address`` in order; the number of system calls it took
    (those the transport queues for later count as one each)."""
    if not _State.enabled or len(datagrams) < 2 or transport.get_write_buffer_size():
        for datagram in datagrams:
            transport.sendto(datagram, address)
        return len(datagrams)
    sock = transport.get_extra_info("socket")
    calls = 0
    runs = groups(datagrams)
    for index, run in enumerate(runs):
        if len(run) > 1 and _State.enabled and _segmented(sock, run, address):
            calls += 1
            continue
        for rest in runs[index:]:  # unsegmented from here on, in order, through asyncio
            for datagram in rest:
                transport.sendto(datagram, address)
                calls += 1
        break
    return calls


def _segmented(sock: object, run: list[bytes], address: tuple[str, int]) -> bool:
    """One ``sendmsg`` of ``run``; False (nothing sent) when it could not be."""
    fileno = getattr(sock, "fileno", None)
    family = getattr(sock, "family", socket.AF_INET)
    if fileno is None:
        return False
    raw = socket.socket(family, socket.SOCK_DGRAM, 0, fileno=fileno())
    try:
        option = struct.pack("=H", len(run[0]))
        raw.sendmsg([b"".join(run)], [(SOL_UDP, UDP_SEGMENT, option)], 0, address)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError as error:
        if error.errno in UNSUPPORTED_ERRNOS:
            _State.enabled = False
        return False
    finally:
        raw.detach()  # the fd stays the transport's
    return True
