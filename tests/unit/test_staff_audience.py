"""The staff audience: frames for the room's anchor, moderators and admins only. The
registry refuses to send them any other way, and the bus carries the routing so that a
node which does not know it drops the delivery instead of widening it."""

from __future__ import annotations

import msgpack
import pytest

from livecommerce.bus import Delivery, decode_delivery, encode_delivery
from livecommerce.channel.events import SERVER, Audience, EventError, check_delivery

REVIEW = {"type": "review", "message": {}}


def test_the_staff_frames_are_registered_for_staff() -> None:
    staff = {name for name, spec in SERVER.items() if spec.audience is Audience.staff}
    assert staff == {"review", "review_resolved", "automod", "room_order"}


def test_a_staff_frame_goes_only_with_the_staff_routing() -> None:
    check_delivery(Delivery(REVIEW, staff=True))
    with pytest.raises(EventError, match="needs 'staff'"):
        check_delivery(Delivery(REVIEW))
    with pytest.raises(EventError, match="has 'to'"):
        check_delivery(Delivery(REVIEW, staff=True, to="vic"))
    with pytest.raises(EventError, match="not a staff frame"):
        check_delivery(Delivery({"type": "chat_deleted", "id": "1-0"}, staff=True))
    with pytest.raises(EventError, match="not a staff frame"):
        check_delivery(Delivery({"type": "chat_denied", "id": "h1-0"}, to="vic", staff=True))


def test_the_staff_routing_travels_and_is_checked() -> None:
    delivery = Delivery(REVIEW, staff=True)
    assert decode_delivery(encode_delivery(delivery)) == delivery
    assert delivery.routed
    bad = msgpack.packb([1, REVIEW, {"staff": 1}], use_bin_type=True)
    with pytest.raises(ValueError, match="'staff' must be true or false"):
        decode_delivery(bad)
    # A node of an earlier release knows no "staff" routing: it drops such a delivery
    # ("unknown routing") rather than sending it to the whole room.
    unknown = msgpack.packb([1, REVIEW, {"staff": True, "team": True}], use_bin_type=True)
    with pytest.raises(ValueError, match="unknown routing"):
        decode_delivery(unknown)
