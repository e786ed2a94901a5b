"""Behind NAT: the public address is announced and sessions bind in the UDP port range."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from media.aiortc_patches import configure_ice
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.media_peers import accept, publisher_offer, synthetic_tracks
from tests.integration.test_rooms_api import create_room
from tests.integration.test_whip_whep import offer_of, watch, whip

pytestmark = pytest.mark.timeout(90)

PUBLIC_IP = "203.0.113.7"
LOW, HIGH = 41_000, 41_039
CANDIDATE = re.compile(
    r"a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ (\w+)(?: raddr (\S+) rport (\d+))?"
)


@pytest.fixture(autouse=True)
def aioice_as_shipped() -> Iterator[None]:
    yield
    configure_ice()  # the patch is process-wide: later tests get aioice's behaviour


def candidates(sdp: str) -> list[tuple[str, int, str, str | None, int | None]]:
    return [
        (host, int(port), kind, raddr or None, int(rport) if rport else None)
        for host, port, kind, raddr, rport in CANDIDATE.findall(sdp)
    ]


async def test_answers_announce_the_public_address_and_bind_in_the_range(
    aiohttp_client: ClientFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    settings = make_settings(
        valkey.url,
        tmp_path,
        key_prefix,
        media={"loopback_candidates": True, "public_ip": PUBLIC_IP, "udp_ports": f"{LOW}-{HIGH}"},
    )
    client = await aiohttp_client(create_app(settings))
    room = (await create_room(client, token))["id"]
    publisher = await publisher_offer(synthetic_tracks(320, 180))
    response = await whip(client, room, token("anchor", "alice"), offer_of(publisher))
    assert response.status == 201, await response.text()
    answer = await response.text()
    await accept(publisher, answer)

    found = candidates(answer)
    hosts = [(host, port) for host, port, kind, _, _ in found if kind == "host"]
    assert hosts
    assert all(LOW <= port <= HIGH for _, port in hosts), hosts
    behind_nat = [
        (host, port)
        for host, port in hosts
        if ipaddress.ip_address(host).version == 4 and not ipaddress.ip_address(host).is_loopback
    ]
    if not behind_nat:
        pytest.skip("this machine has no non-loopback IPv4 address to announce behind")
    reflexive = {(raddr, rport) for host, _, kind, raddr, rport in found if kind == "srflx"}
    assert reflexive == set(behind_nat)
    assert all(
        host == PUBLIC_IP and port == rport
        for host, port, kind, _, rport in found
        if kind == "srflx"
    )

    # Media still flows (over the loopback pair) with every socket in the range.
    viewer, _ = await watch(client, room)
    try:
        await viewer.wait_frames("video", 10, timeout_s=20)
    finally:
        await viewer.close()
        await publisher.close()
