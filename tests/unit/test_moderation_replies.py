"""The moderation scripts' answers parse into their typed replies."""

from __future__ import annotations

import json

from livecommerce.store.replies import ChatPostReply
from livecommerce.store.replies_moderation import (
    ChatGate,
    ModerationAutomodReply,
    ModerationShieldReply,
    ReviewDecideReply,
    ReviewItem,
    ReviewReportReply,
)

ITEM = {
    "id": "h1764092025123-4",
    "user": "vic",
    "role": "viewer",
    "text": "call 555-123-4567",
    "rule": "phone",
    "source": "automod",
    "ts": 1764092025123,
    "visible": False,
    "chat_id": "",
    "reports": 0,
    "reasons": {},  # cjson's empty table
}


def test_a_held_chat_answer_names_its_rule() -> None:
    reply = ChatPostReply.parse([b"held", b"h1764092025123-4", b"1764092025123", b"phone"])
    assert reply == ChatPostReply("h1764092025123-4", None, 1764092025123, "phone")


def test_decisions_carry_the_item_or_say_it_is_gone() -> None:
    raw = json.dumps(ITEM).encode()
    reply = ReviewDecideReply.parse([b"ok", raw, b"1764092026000-0", b"0", b"1764092026000-1"])
    assert reply.item == ReviewItem(
        "h1764092025123-4", "vic", "viewer", "call 555-123-4567", "phone", "automod",
        1764092025123, visible=False, reports=0, reasons=(),
    )  # fmt: skip
    assert reply.chat_id == "1764092026000-0"
    assert not reply.gone
    assert ReviewDecideReply.parse([b"err", b"gone"]).gone


def test_reports_answers() -> None:
    item = json.dumps({**ITEM, "visible": True, "reports": 2, "reasons": ["spam", "rude"]})
    reply = ReviewReportReply.parse([b"ok", b"2", b"0", item.encode()])
    assert (reply.reporters, reply.held, reply.duplicate) == (2, False, False)
    assert reply.item is not None
    assert reply.item.reasons == ("spam", "rude")
    assert ReviewReportReply.parse([b"dup", b"2"]) == ReviewReportReply(2, duplicate=True)
    limited = ReviewReportReply.parse([b"err", b"rate_limited", b"1764092026000"])
    assert (limited.refusal, limited.at_ms) == ("rate_limited", 1764092026000)


def test_settings_answers_and_the_gate_arguments() -> None:
    assert ModerationAutomodReply.parse([b"ok", b"1-0"]).audit_id == "1-0"
    assert ModerationShieldReply.parse([b"ok", b"0", b"3", b""]) == ModerationShieldReply(
        False, 3, ""
    )
    gate = ChatGate(keys=("k",), hold_rule="link", hold_first_time=True, review_ttl_ms=5)
    assert gate.args() == ["link", "", 0, 0, 1, "1", "0", 5, 1, 1]
