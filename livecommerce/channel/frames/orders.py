"""The orders feed of the room's staff: who reserved, who paid (docs/anchor.md,
docs/studio.md)."""

from __future__ import annotations

from livecommerce.channel.frame_types import INT, STAFF, STR, ClientFrame, ServerFrame
from livecommerce.channel.frame_types import field as _f

SERVER_FRAMES: tuple[ServerFrame, ...] = (
    ServerFrame(
        name="room_order",
        audience=STAFF,
        when="an order of the room was reserved, paid, cancelled or expired: one frame per "
        "change, to the room's anchor and staff only (never sampled, never to viewers)",
        fields=(
            _f("id", STR, "the order's id"),
            _f("status", STR, "`reserved`, `paid`, `cancelled` or `expired`"),
            _f("user", STR, "the buyer"),
            _f("product", STR, "the product's id"),
            _f("qty", INT),
            _f("amount_cents", INT, "what the buyer pays (after a voucher)"),
            _f("currency", STR),
            _f("source", STR, "`sale`, `auction` or `giveaway`"),
        ),
    ),
)

CLIENT_FRAMES: tuple[ClientFrame, ...] = ()
