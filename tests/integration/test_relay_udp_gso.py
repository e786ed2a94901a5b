"""A frame's datagrams go out in one segmented send where the kernel has UDP_SEGMENT, and
arrive exactly as if sent one by one: same bytes, same order, same boundaries."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from media import udp_gso
from media.udp_gso import MAX_SEGMENTS, groups, send_batch


class Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.datagrams: list[bytes] = []
        self.arrived = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.datagrams.append(data)
        self.arrived.set()


@pytest.fixture
def gso_on() -> Iterator[None]:
    before = udp_gso.enabled()
    udp_gso.set_enabled(True)
    yield
    udp_gso.set_enabled(before)


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Any, Collector, tuple[str, int]]]:
    loop = asyncio.get_running_loop()
    collector = Collector()
    receiver, _ = await loop.create_datagram_endpoint(
        lambda: collector, local_addr=("127.0.0.1", 0)
    )
    address = receiver.get_extra_info("sockname")
    sender, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    yield sender, collector, address
    sender.close()
    receiver.close()


def frame(sizes: list[int]) -> list[bytes]:
    return [os.urandom(size) for size in sizes]


async def received(collector: Collector, count: int) -> list[bytes]:
    async with asyncio.timeout(10):
        while len(collector.datagrams) < count:
            collector.arrived.clear()
            await collector.arrived.wait()
    return collector.datagrams


def test_runs_are_one_size_but_a_shorter_last() -> None:
    assert [len(run) for run in groups(frame([1310] * 5 + [400]))] == [6]
    assert [[len(d) for d in run] for run in groups(frame([10, 10, 9, 10, 11, 11]))] == [
        [10, 10, 9],
        [10],
        [11, 11],
    ]
    assert [len(run) for run in groups(frame([100] * (MAX_SEGMENTS + 3)))] == [MAX_SEGMENTS, 3]
    assert [len(run) for run in groups(frame([1300] * 60))] == [50, 10]  # 65,000 bytes a run
    assert groups([]) == []


@pytest.mark.skipif(sys.platform != "linux", reason="UDP_SEGMENT is Linux's")
async def test_a_frame_is_one_system_call_and_arrives_byte_exact(pair: Any, gso_on: None) -> None:
    sender, collector, address = pair
    datagrams = frame([1310] * 7 + [523])
    calls = send_batch(sender, datagrams, address)
    assert await received(collector, len(datagrams)) == datagrams
    if not udp_gso.enabled():
        pytest.skip("this kernel has no UDP_SEGMENT (the fallback sent them one by one)")
    assert calls == 1


async def test_without_segmentation_each_datagram_is_its_own_send(pair: Any) -> None:
    sender, collector, address = pair
    before = udp_gso.enabled()
    udp_gso.set_enabled(False)
    try:
        datagrams = frame([1310] * 3 + [9, 1310])
        assert send_batch(sender, datagrams, address) == 5
        assert await received(collector, 5) == datagrams
    finally:
        udp_gso.set_enabled(before)


@pytest.mark.skipif(sys.platform != "linux", reason="UDP_SEGMENT is Linux's")
async def test_mixed_sizes_keep_their_order_and_boundaries(pair: Any, gso_on: None) -> None:
    sender, collector, address = pair
    datagrams = frame([1300, 1300, 1299, 1300, 5, 800, 800, 800, 1]) + frame([1200] * 70)
    send_batch(sender, datagrams, address)
    assert await received(collector, len(datagrams)) == datagrams


async def test_the_sending_socket_stays_open_and_usable(pair: Any, gso_on: None) -> None:
    """The segmented send borrows the transport's socket; it must not close it."""
    sender, collector, address = pair
    first = frame([1000, 1000, 10])
    send_batch(sender, first, address)
    sock = sender.get_extra_info("socket")
    assert sock.fileno() >= 0
    assert sock.type == socket.SOCK_DGRAM
    sender.sendto(b"after", address)
    assert await received(collector, 4) == [*first, b"after"]
