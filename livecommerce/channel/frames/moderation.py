"""The frames of moderation depth: held messages, the review queue, reports, automod
settings and shield mode (docs/moderation.md)."""

from __future__ import annotations

from livecommerce.channel.frame_types import (
    BOOL,
    INT,
    MAP,
    ROOM,
    SENDER,
    STAFF,
    STR,
    USER,
    ClientFrame,
    ServerFrame,
)
from livecommerce.channel.frame_types import field as _f

REVIEW_ITEM = (
    "`{id, user, role, text, rule, source, ts, visible, reports, reasons}` (`source`: "
    "`automod` or `reports`; `visible`: still shown in the chat)"
)

SERVER_FRAMES: tuple[ServerFrame, ...] = (
    ServerFrame(
        name="chat_held",
        audience=USER,
        when="automod or viewers' reports held your message for review: only you and "
        "the room's staff see it",
        fields=(
            _f("id", STR, "the review item's id"),
            _f("text", STR),
            _f("ts", INT, "ms"),
            _f("rule", STR, "the rule that held it (docs/moderation.md)"),
        ),
    ),
    ServerFrame(
        name="chat_approved",
        audience=USER,
        when="a moderator approved your held message; it follows as `chat` to everyone",
        fields=(_f("id", STR, "the review item's id"), _f("chat_id", STR, "its chat id")),
    ),
    ServerFrame(
        name="chat_denied",
        audience=USER,
        when="a moderator denied your held message; nobody else saw it",
        fields=(_f("id", STR, "the review item's id"),),
    ),
    ServerFrame(
        name="review",
        audience=STAFF,
        when="a message entered the review queue, or got another report",
        fields=(_f("message", MAP, REVIEW_ITEM),),
    ),
    ServerFrame(
        name="review_resolved",
        audience=STAFF,
        when="a review item was approved or denied (it leaves every moderator's queue)",
        fields=(
            _f("id", STR),
            _f("decision", STR, "`approve` or `deny`"),
            _f("by", STR, "the moderator"),
            _f("chat_id", STR, "the message's chat id when approving published it", nullable=True),
        ),
    ),
    ServerFrame(
        name="automod",
        audience=STAFF,
        when="the room's automod settings changed (also when shield mode switched)",
        fields=(_f("settings", MAP, "as `GET /api/rooms/{room}/moderation/automod`"),),
    ),
    ServerFrame(
        name="shield",
        audience=ROOM,
        when="shield mode went on or off (stricter chat rules while on)",
        fields=(_f("on", BOOL),),
    ),
    ServerFrame(
        name="report_received",
        audience=SENDER,
        when="answer to `report`",
        fields=(
            _f("message", STR, "the reported message's id"),
            _f("duplicate", BOOL, "you had reported it already (counted once)"),
        ),
    ),
)

CLIENT_FRAMES: tuple[ClientFrame, ...] = (
    ClientFrame(
        name="report",
        when="needs a token; answered with `report_received`; at most "
        "`moderation.reports_per_window` per `moderation.report_window_s` per user and room",
        fields=(
            _f("message", STR, "the chat message's id"),
            _f("reason", STR, "up to 200 characters", optional=True),
        ),
    ),
)
