"""The event registry is the one list of frames: the checks it makes, and the places
(docs, parser, web client, code) that must agree with it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from livecommerce.bus import Delivery, Timer
from livecommerce.channel import events, messages
from livecommerce.channel.events import (
    CLIENT,
    CLIENT_FRAMES,
    SERVER,
    Audience,
    EventError,
    Kind,
    check_delivery,
    check_frame,
)
from livecommerce.channel.export import DOCS, docs_with_tables
from livecommerce.channel.format_messages import Bid, Claim, Enter
from livecommerce.channel.wire import ProtocolError

ROOT = Path(__file__).resolve().parents[2]
# Frames the web page does not handle in room.js's table, and why.
NOT_IN_ROOM_JS = {
    "pong": "the page never pings",
    "resync": "channel.js reconnects with resume before room.js sees it",
}
# A value of each kind, for building sample frames.
SAMPLE = {Kind.string: "abc", Kind.integer: 1, Kind.boolean: True, Kind.map: {}, Kind.list: []}


def sample(name: str) -> dict[str, object]:
    spec = SERVER[name]
    return {"type": name, **{field.name: SAMPLE[field.kind] for field in spec.fields}}


# -- the checks -----------------------------------------------------------------------


def test_no_two_areas_register_the_same_frame() -> None:
    for frames in (events.SERVER_FRAMES, events.CLIENT_FRAMES):
        names = [frame.name for frame in frames]
        assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_a_registered_frame_with_its_fields_passes() -> None:
    assert check_frame(sample("chat")).audience is Audience.room
    check_frame({"type": "room_muted", "until": None})  # nullable
    check_frame({"type": "error", "code": "muted", "message": "m"})  # optionals left out
    check_frame({"type": "error", "code": "muted", "message": "m", "until": 5, "key": "k"})


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ({"type": "chat_edited", "id": "1-0"}, "not in the event registry"),
        ({"id": "1-0"}, "not in the event registry"),
        ({**sample("chat"), "colour": "red"}, "has no field 'colour'"),
        ({"type": "chat_deleted"}, "needs 'id'"),
        ({"type": "chat_deleted", "id": 7}, "must be a string"),
        ({"type": "likes", "total": True}, "must be an integer"),
        ({"type": "muted", "until": None}, "must be an integer"),
        ({k: v for k, v in sample("welcome").items() if k != "you"}, "needs 'you'"),
    ],
)
def test_a_frame_the_registry_does_not_describe_is_refused(
    frame: dict[str, object], reason: str
) -> None:
    with pytest.raises(EventError, match=re.escape(reason)):
        check_frame(frame)


def test_a_delivery_goes_only_to_the_audience_of_its_frame() -> None:
    check_delivery(Delivery(sample("chat")))
    check_delivery(Delivery(sample("order"), to="ann"))
    check_delivery(Delivery({"type": "banned"}, to="ann", close_code=4403))
    with pytest.raises(EventError, match="for one user"):
        check_delivery(Delivery(sample("order")))  # would reach every buyer in the room
    with pytest.raises(EventError, match="for everyone in the room"):
        check_delivery(Delivery(sample("chat"), to="ann"))
    with pytest.raises(EventError, match="never goes on the room bus"):
        check_delivery(Delivery(sample("buy_result"), to="ann"))


def test_a_timers_frame_is_checked_like_the_event() -> None:
    check_delivery(
        Delivery(sample("muted"), to="ann", timer=Timer("user-mute", 5, {"type": "unmuted"}))
    )
    with pytest.raises(EventError, match="for one user"):
        check_delivery(Delivery(sample("room_muted"), timer=Timer("t", 5, {"type": "unmuted"})))
    with pytest.raises(EventError, match="not in the event registry"):
        check_delivery(Delivery(sample("room_muted"), timer=Timer("t", 5, {"type": "later"})))


# -- the places that must agree with it ------------------------------------------------


def test_the_docs_frame_tables_are_the_registrys() -> None:
    text = (ROOT / DOCS).read_text(encoding="utf-8")
    assert text.count("<!-- registry:") == 2, "the docs lost a registry block"
    assert docs_with_tables(text) == text, (
        "docs/channel.md differs from the event registry: run "
        "`python -m livecommerce.channel.export`"
    )


def test_the_web_page_handles_every_server_frame_and_no_other() -> None:
    source = (ROOT / "clients/viewer/js/room.js").read_text(encoding="utf-8")
    table = re.search(r"\nconst handlers = \{\n(.*?)\n\};\n", source, re.DOTALL)
    assert table is not None, "room.js has no `const handlers = {…};` table"
    handled = set(re.findall(r"^  (\w+)(?=[:,])", table.group(1), re.MULTILINE))
    assert handled == set(SERVER) - set(NOT_IN_ROOM_JS)
    # resync is handled by the channel client the page runs on: the SDK's LiveRoom.
    channel_js = (ROOT / "clients/viewer/js/channel.js").read_text(encoding="utf-8")
    assert "from '/sdk/room.js'" in channel_js
    sdk_room = (ROOT / "clients/sdk/room.js").read_text(encoding="utf-8")
    assert "frame.type === 'resync'" in sdk_room


def test_the_parser_knows_exactly_the_registered_client_frames() -> None:
    assert set(messages.KNOWN_TYPES) == set(CLIENT)
    classes = {cls.__name__.lower(): cls for cls in (messages.Chat, messages.Like, messages.Ping)}
    classes["buy"] = messages.Buy
    classes["view_product"] = messages.ViewProduct
    classes["report"] = messages.Report
    classes.update(claim=Claim, bid=Bid, enter=Enter)
    assert set(classes) == set(CLIENT)
    for spec in CLIENT_FRAMES:
        frame = {"type": spec.name, **{f.name: SAMPLE[f.kind] for f in spec.fields}}
        parsed = messages.parse_client_message(frame, max_chat_chars=100, max_likes=10)
        assert isinstance(parsed, classes[spec.name])
        assert [f.name for f in dataclasses.fields(parsed)] == [f.name for f in spec.fields]
        for field in spec.fields:
            missing = {k: v for k, v in frame.items() if k != field.name}
            if field.optional:
                messages.parse_client_message(missing, max_chat_chars=100, max_likes=10)
            else:
                with pytest.raises(ProtocolError, match="needs"):
                    messages.parse_client_message(missing, max_chat_chars=100, max_likes=10)


def test_every_frame_type_written_in_the_code_is_registered() -> None:
    """Runtime checks catch what the tests run; this catches a literal on a path they miss."""
    literal = re.compile(r"""["']type["']\s*:\s*(?:f?["']([A-Za-z_.{}]+)["'])""")
    unregistered = []
    for path in sorted((ROOT / "livecommerce").rglob("*.py")):
        if "hooks" in path.parts:  # webhook events (order.created …) are not channel frames
            continue
        if path.name.startswith(("openapi", "asyncapi")):  # JSON Schema types, not frames
            continue
        for name in literal.findall(path.read_text(encoding="utf-8")):
            # f"sale_{reply.change.value}": a sale's lifecycle change, started or ended.
            names = [re.sub(r"\{[^}]*\}", c, name) for c in ("started", "ended")]
            unregistered += [f"{path.name}: {n}" for n in names if n not in SERVER]
    assert unregistered == []
