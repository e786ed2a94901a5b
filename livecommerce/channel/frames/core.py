"""The frames of the live room: welcome, chat, likes, viewers, moderation, commerce."""

from __future__ import annotations

from livecommerce.channel.frame_types import (
    BOOL,
    INT,
    LIST,
    MAP,
    ROOM,
    SENDER,
    STR,
    USER,
    ClientFrame,
    ServerFrame,
)
from livecommerce.channel.frame_types import field as _f

SERVER_FRAMES: tuple[ServerFrame, ...] = (
    ServerFrame(
        name="welcome",
        audience=SENDER,
        when="first frame after connecting",
        fields=(
            _f("room", MAP, "the room, as in the API"),
            _f("resumed", BOOL, "true when `messages` are those after `resume`"),
            _f(
                "messages",
                LIST,
                "`chat` frames, oldest first (the last `channel.welcome_messages`, "
                "or those after `resume`)",
            ),
            _f("likes", INT),
            _f("pinned_product", MAP, "as in the API", nullable=True),
            _f("sales", LIST, "every sale not ended, as in the API, with `left`"),
            _f("viewers", INT),
            _f("room_muted", BOOL),
            _f("room_muted_until", INT, "ms, or null unless muted for a set time", nullable=True),
            _f("slow_mode", MAP, "`{interval_s}`"),
            _f(
                "formats",
                MAP,
                "`{vouchers, pinned_voucher, auctions, giveaways}`: the live ones, as in the API",
                optional=True,
            ),
            _f(
                "you",
                MAP,
                "`{user, role, muted_until, can_chat}` (`role` is `anonymous` without a token)",
            ),
        ),
    ),
    ServerFrame(
        name="chat",
        audience=ROOM,
        when="a message was posted (also to its sender)",
        fields=(
            _f("id", STR),
            _f("user", STR),
            _f("role", STR),
            _f("text", STR),
            _f("ts", INT, "ms"),
        ),
    ),
    ServerFrame(
        name="chat_deleted",
        audience=ROOM,
        when="a moderator removed a message",
        fields=(_f("id", STR),),
    ),
    ServerFrame(
        name="likes",
        audience=ROOM,
        when="the room's like total grew (at most every `channel.likes_interval_s`)",
        fields=(_f("total", INT),),
    ),
    ServerFrame(
        name="viewers",
        audience=ROOM,
        when="the room's viewers over all nodes changed (checked every "
        "`channel.viewers_interval_s`): on each node, each signed-in user once however "
        "many sockets it holds, plus each anonymous socket; the room's anchor and staff "
        "(moderators, admins) watching are not counted; above `channel.exact_viewers_up_to` "
        "the count is rounded to two significant digits and sent when that rounded value "
        "changes",
        fields=(_f("count", INT),),
    ),
    ServerFrame(
        name="live",
        audience=ROOM,
        when="the anchor went live (the video can be played)",
        fields=(_f("room", STR), _f("started_at", INT, "ms", nullable=True)),
    ),
    ServerFrame(
        name="offline",
        audience=ROOM,
        when="the anchor's stream stopped; the room goes on and may go live again",
        fields=(_f("room", STR),),
    ),
    ServerFrame(
        name="room_ended",
        audience=ROOM,
        when="the room ended",
        fields=(_f("room", STR),),
    ),
    ServerFrame(
        name="room_muted",
        audience=ROOM,
        when="only the anchor and moderators may chat",
        fields=(_f("until", INT, "ms (null: until lifted)", nullable=True),),
    ),
    ServerFrame(
        name="room_unmuted",
        audience=ROOM,
        when="the room mute was lifted or ran out",
    ),
    ServerFrame(
        name="muted",
        audience=USER,
        when="you were timed out",
        fields=(_f("until", INT, "ms"),),
    ),
    ServerFrame(
        name="unmuted",
        audience=USER,
        when="your timeout was lifted or ran out",
    ),
    ServerFrame(
        name="banned",
        audience=USER,
        when="you were banned (or are, when connecting): the connection closes with 4403",
    ),
    ServerFrame(
        name="unbanned",
        audience=USER,
        when="your ban was lifted (sent to your open sessions, if any)",
    ),
    ServerFrame(
        name="slow_mode",
        audience=ROOM,
        when="slow mode changed",
        fields=(_f("interval_s", INT, "0 = off"),),
    ),
    ServerFrame(
        name="resync",
        audience=ROOM,
        when="this node lost its link to the store for a while and may have missed "
        "events: reconnect with `resume`",
    ),
    ServerFrame(
        name="pong",
        audience=SENDER,
        when="answer to `ping`",
        fields=(_f("ts", INT, "ms"),),
    ),
    ServerFrame(
        name="error",
        audience=SENDER,
        when="a frame was refused, or the connection is about to close (see [Errors](#errors))",
        fields=(
            _f("code", STR),
            _f("message", STR),
            _f("until", INT, "ms", optional=True),
            _f(
                "key",
                STR,
                "the refused `buy`'s, `claim`'s, `bid`'s or keyed `enter`'s key",
                optional=True,
            ),
        ),
    ),
    ServerFrame(
        name="buy_result",
        audience=SENDER,
        when="answer to `buy`",
        fields=(
            _f("key", STR),
            _f("ok", BOOL),
            _f("order", STR, "when ok", optional=True),
            _f("expires_at", INT, "ms, pay before it (when ok)", optional=True),
            _f(
                "reason",
                STR,
                "when not ok, one of `sold_out`, `not_enough_stock`, `limit_reached`, "
                "`sale_ended`, `sale_not_started`, `sale_not_found`, `banned`, "
                "`voucher_not_usable`, `min_spend_not_met`",
                optional=True,
            ),
        ),
    ),
    ServerFrame(
        name="order",
        audience=USER,
        when="the buyer's order changed",
        fields=(_f("id", STR), _f("status", STR, "`paid`, `cancelled` or `expired`")),
    ),
    ServerFrame(
        name="sale_started",
        audience=ROOM,
        when="a flash sale opened",
        fields=(_f("sale", MAP, "as in the API"),),
    ),
    ServerFrame(
        name="sale_ended",
        audience=ROOM,
        when="a flash sale ended",
        fields=(_f("sale", MAP, "as in the API"),),
    ),
    ServerFrame(
        name="sale_stock",
        audience=ROOM,
        when="a sale's stock changed (at most every `commerce.stock_interval_s` per node)",
        fields=(_f("sale", STR, "its id"), _f("left", INT)),
    ),
    ServerFrame(
        name="sold_out",
        audience=ROOM,
        when="the last unit of a sale was reserved",
        fields=(_f("sale", STR, "its id"),),
    ),
    ServerFrame(
        name="chat_sampling",
        audience=ROOM,
        when="this node started or stopped sampling viewer chat for you (after `welcome` "
        "when it is on): the room's viewers chat faster than `channel.sampling_chat_rate`, "
        "so you get a fair sample of at most `per_s` other viewers' lines a second; your "
        "own lines, the anchor's and staff lines and every other frame still all arrive",
        fields=(_f("on", BOOL), _f("per_s", INT, "`channel.viewer_chat_rate`")),
    ),
    ServerFrame(
        name="product_pinned",
        audience=ROOM,
        when="the anchor pinned a product",
        fields=(_f("product", MAP, "as in the API"),),
    ),
)

CLIENT_FRAMES: tuple[ClientFrame, ...] = (
    ClientFrame(
        name="chat",
        when="needs a token; cleaned per [Chat text](#chat-text), then "
        "1..`channel.max_chat_chars` characters",
        fields=(_f("text", STR),),
    ),
    ClientFrame(
        name="like",
        when="needs a token; within the user's [like budget](#likes), summed and "
        "broadcast as totals",
        fields=(_f("count", INT, "1..`channel.max_likes_per_frame` (default 1)", optional=True),),
    ),
    ClientFrame(name="ping", when="answered with `pong`"),
    ClientFrame(
        name="buy",
        when="needs a token; answered with `buy_result` (see [Commerce](#commerce))",
        fields=(
            _f("sale", STR, "the sale's id"),
            _f("qty", INT, "1..1000 (default 1)", optional=True),
            _f(
                "key",
                STR,
                "the buyer's idempotency key, 1..128 printable characters (the same "
                "user's same key on the same sale always gets the same answer, on any node)",
            ),
            _f(
                "voucher_claim",
                STR,
                "a voucher claim's id, or `best` for your claim worth most on this buy "
                "(see [formats.md](formats.md))",
                optional=True,
            ),
        ),
    ),
)
