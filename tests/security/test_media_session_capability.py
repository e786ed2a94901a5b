"""A WHEP session URL is its viewer's capability (RFC 9725): unguessable, given only to the
viewer, never listed by stats or any other GET, never logged by the media plane."""

from __future__ import annotations

import base64
import logging
import re

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.web.state import LIVE, NODE_ID
from tests.conftest import TokenFactory
from tests.integration.media_peers import wait_for
from tests.integration.test_rooms_api import assert_error, bearer, create_room
from tests.integration.test_whip_whep import go_live, watch

pytestmark = pytest.mark.timeout(90)


async def test_a_stats_reader_cannot_learn_or_end_another_viewers_session(
    client: TestClient, token: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    room = (await create_room(client, token))["id"]
    publisher, whip_location = await go_live(client, token, room)
    viewer, whep_location = await watch(client, room)
    await viewer.wait_frames("video", 3, timeout_s=15)
    viewer_id = whep_location.rsplit("/", 1)[1]
    whip_id = whip_location.rsplit("/", 1)[1]

    # The id is the node's id and 128 bits from a secure source.
    node_id, _, secret = viewer_id.partition(".")
    assert node_id == client.app[NODE_ID]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", secret)
    assert len(base64.urlsafe_b64decode(secret + "==")) == 16

    # Whoever may read the room's stats, and every other GET, sees no session id.
    readers = [token("anchor", "alice"), token("moderator", "m"), token("admin", "root")]
    pages = [f"/api/rooms/{room}/media", f"/api/rooms/{room}", "/api/rooms", "/api/nodes"]
    texts = []
    for reader in readers:
        for page in pages:
            response = await client.get(page, headers=bearer(reader))
            texts.append(await response.text())
    texts.append(await (await client.get("/metrics")).text())
    stats = await (await client.get(f"/api/rooms/{room}/media", headers=bearer(readers[1]))).json()
    assert stats["viewers"] == 1
    label = stats["subscriptions"][0]["session"]
    assert label.startswith(f"{node_id}.")
    for text in texts:
        assert viewer_id not in text
        assert secret not in text
        assert whip_id.split(".")[1] not in text

    # What a stats reader holds is no capability: its DELETE finds no session.
    for reader in readers:
        guessed = f"/whep/{room}/{label}"
        await assert_error(
            await client.delete(guessed, headers=bearer(reader)), 404, "session_not_found"
        )
    assert client.app[LIVE].hub.session(viewer_id) is not None
    assert viewer.pc.connectionState == "connected"

    # The media plane logs labels, not ids.
    assert (await client.delete(whep_location)).status == 200
    await wait_for(lambda: client.app[LIVE].hub.session(viewer_id) is None, 10, "the end")
    media_lines = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(("media", "livecommerce.live"))
    ]
    assert any(label in line for line in media_lines)
    assert not any(secret in line for line in media_lines)

    # A WHIP session also needs its anchor's token (or staff) to be ended.
    await assert_error(await client.delete(whip_location), 401, "unauthorized")
    await assert_error(
        await client.delete(whip_location, headers=bearer(token("viewer", "v"))),
        403,
        "forbidden_role",
    )
    await assert_error(
        await client.delete(whip_location, headers=bearer(token("anchor", "bob"))),
        403,
        "not_your_room",
    )
    assert client.app[LIVE].hub.session(whip_id) is not None
    await viewer.close()
    await publisher.close()
