"""A token with a ``room`` claim acts in that room only on WHIP and WHEP, whatever its role."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.web.state import LIVE
from tests.conftest import TokenFactory
from tests.integration.test_rooms_api import assert_error, bearer, create_room
from tests.integration.test_whip_whep import go_live
from tests.security.media_helpers import FRAGMENT, post_offer, silent_offer

pytestmark = pytest.mark.timeout(90)

FRAGMENT_BODY = "a=ice-ufrag:x\r\na=ice-pwd:y\r\n"


async def test_tokens_for_another_room_cannot_end_patch_play_or_read_this_room(
    client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(client, token))["id"]
    other = (await create_room(client, token, anchor="bob"))["id"]
    publisher, whip_location = await go_live(client, token, room)
    viewer = await post_offer(client, f"/whep/{room}", await silent_offer())
    assert viewer.status == 201
    whep_location = viewer.headers["Location"]
    hub = client.app[LIVE].hub

    # Every role, limited to the other room.
    roles = ("viewer", "anchor", "moderator", "admin")
    elsewhere = {role: token(role, f"{role}-1", room=other) for role in roles}
    alice_elsewhere = token("anchor", "alice", room=other)

    for role in ("anchor", "moderator", "admin"):
        await assert_error(
            await client.delete(whip_location, headers=bearer(elsewhere[role])),
            403,
            "not_your_room",
        )
    # The room's own anchor, with a token limited to another of its rooms.
    await assert_error(
        await client.delete(whip_location, headers=bearer(alice_elsewhere)), 403, "not_your_room"
    )
    await assert_error(
        await client.patch(
            whip_location, data=FRAGMENT_BODY, headers={**bearer(alice_elsewhere), **FRAGMENT}
        ),
        403,
        "not_your_room",
    )
    await assert_error(
        await post_offer(client, f"/whip/{room}", publisher.localDescription.sdp,
                         bearer(alice_elsewhere)),
        403,
        "not_your_room",
    )  # fmt: skip

    for role in roles:
        headers = bearer(elsewhere[role])
        await assert_error(
            await post_offer(client, f"/whep/{room}", await silent_offer(), headers),
            403,
            "not_your_room",
        )
        await assert_error(
            await client.delete(whep_location, headers=headers), 403, "not_your_room"
        )
        await assert_error(
            await client.patch(whep_location, data=FRAGMENT_BODY, headers={**headers, **FRAGMENT}),
            403,
            "not_your_room",
        )
    for role in ("moderator", "admin"):
        await assert_error(
            await client.get(f"/api/rooms/{room}/media", headers=bearer(elsewhere[role])),
            403,
            "not_your_room",
        )

    # Nothing was ended by the refused requests.
    assert hub.session(whip_location.rsplit("/", 1)[1]) is not None
    assert hub.session(whep_location.rsplit("/", 1)[1]) is not None

    # The same roles limited to this room may act in it.
    here = bearer(token("viewer", "v-2", room=room))
    assert (await post_offer(client, f"/whep/{room}", await silent_offer(), here)).status == 201
    moderator_here = bearer(token("moderator", "m-2", room=room))
    stats = await client.get(f"/api/rooms/{room}/media", headers=moderator_here)
    assert stats.status == 200
    assert (await client.delete(whep_location, headers=here)).status == 200
    assert (await client.delete(whip_location, headers=moderator_here)).status == 200
    assert hub.session(whip_location.rsplit("/", 1)[1]) is None
    await publisher.close()


async def test_only_the_publisher_changes_a_publication_and_staff_may_end_it(
    client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(client, token))["id"]
    publisher, whip_location = await go_live(client, token, room)
    bob = bearer(token("anchor", "bob"))
    await assert_error(
        await client.patch(whip_location, data=FRAGMENT_BODY, headers={**bob, **FRAGMENT}),
        403,
        "not_your_room",
    )
    await assert_error(await client.delete(whip_location, headers=bob), 403, "not_your_room")
    # A moderator may end it but not trickle into it (PATCH admits anchors only).
    moderator = bearer(token("moderator", "mo"))
    await assert_error(
        await client.patch(whip_location, data=FRAGMENT_BODY, headers={**moderator, **FRAGMENT}),
        403,
        "forbidden_role",
    )
    assert (await client.delete(whip_location, headers=moderator)).status == 200
    await publisher.close()
