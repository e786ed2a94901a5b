"""A room handed over by a draining node (live, without a stream, waiting for its anchor)
is no opening: only its own anchor may publish into it, a viewer gets the ordinary
``room_not_live`` answer with ``Retry-After``, and another anchor's offer is refused."""

from __future__ import annotations

import time
from pathlib import Path

from livecommerce.rooms.models import RoomStatus
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import ROOMS
from tests.conftest import ClientFactory, TokenFactory
from tests.integration.media_peers import Viewer, publisher_offer, synthetic_tracks
from tests.integration.test_nodes import node
from tests.integration.test_rooms_api import assert_error, create_room
from tests.integration.test_whip_whep import SDP, go_live, offer_of


async def test_only_its_anchor_publishes_into_a_handed_over_room(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    client = await node(aiohttp_client, valkey, tmp_path, key_prefix)
    room = (await create_room(client, token))["id"]
    rooms = client.app[ROOMS]
    await rooms.go_live(room, "0a1170000000.abc", "http://10.9.9.9:8080", 60_000)
    assert await rooms.hand_over(room, "0a1170000000.abc", int(time.time() * 1000) + 60_000)

    intruder = await publisher_offer(synthetic_tracks())
    for who in (token("anchor", "mallory"), token("viewer", "alice"), None):
        headers = {"Authorization": f"Bearer {who}"} if who else {}
        response = await client.post(
            f"/whip/{room}", data=offer_of(intruder).encode(), headers={**SDP, **headers}
        )
        assert response.status in (401, 403), await response.text()
    await intruder.close()

    viewer = Viewer()
    response = await client.post(f"/whep/{room}", data=(await viewer.offer()).encode(), headers=SDP)
    await assert_error(response, 409, "room_not_live")
    assert response.headers["Retry-After"]
    await viewer.close()
    waiting = await rooms.get(room)
    assert (waiting.status, waiting.live_session) == (RoomStatus.live, None)

    pc, location = await go_live(client, token, room)  # alice, its anchor
    assert (await rooms.get(room)).live_session == location.rsplit("/", 1)[1]
    await pc.close()
