"""The frames of the selling formats: vouchers, auctions and giveaways."""

from __future__ import annotations

from livecommerce.channel.frame_types import (
    BOOL,
    INT,
    LIST,
    MAP,
    ROOM,
    SENDER,
    STR,
    ClientFrame,
    ServerFrame,
)
from livecommerce.channel.frame_types import field as _f

KEY_NOTE = (
    "the client's idempotency key, 1..128 printable characters (the same user's same key "
    "on the same {thing} always gets the same answer, on any node)"
)

SERVER_FRAMES: tuple[ServerFrame, ...] = (
    ServerFrame(
        name="voucher_dropped",
        audience=ROOM,
        when="the anchor dropped a voucher: it can be claimed",
        fields=(_f("voucher", MAP, "as in the API"),),
    ),
    ServerFrame(
        name="voucher_pinned",
        audience=ROOM,
        when="the anchor pinned a voucher",
        fields=(_f("voucher", MAP, "as in the API"),),
    ),
    ServerFrame(
        name="voucher_ended",
        audience=ROOM,
        when="the anchor ended a voucher: no more claims (claims taken stay usable)",
        fields=(_f("voucher", MAP, "as in the API"),),
    ),
    ServerFrame(
        name="voucher_stock",
        audience=ROOM,
        when="a voucher's units left changed (at most every `formats.tick_s` per node)",
        fields=(_f("voucher", STR, "its id"), _f("left", INT)),
    ),
    ServerFrame(
        name="claim_result",
        audience=SENDER,
        when="answer to `claim`",
        fields=(
            _f("key", STR),
            _f("ok", BOOL),
            _f(
                "claim", STR, "the claim's id, for `buy`'s `voucher_claim` (when ok)", optional=True
            ),
            _f(
                "reason",
                STR,
                "when not ok, one of `sold_out`, `limit_reached`, `watch_time_short`, "
                "`voucher_not_dropped`, `voucher_ended`, `voucher_not_found`, `banned`",
                optional=True,
            ),
        ),
    ),
    ServerFrame(
        name="auction_started",
        audience=ROOM,
        when="the anchor started an auction",
        fields=(_f("auction", MAP, "as in the API"),),
    ),
    ServerFrame(
        name="auction_bid",
        audience=ROOM,
        when="an auction's price, leader or end moved (at most every "
        "`formats.bid_broadcast_interval_s` per auction, over all nodes)",
        fields=(
            _f("auction", STR, "its id"),
            _f("leader", STR),
            _f("amount_cents", INT, "the price now"),
            _f("ends_at", INT, "ms (an anti-snipe extension moves it)"),
            _f("bids", INT, "bids accepted so far"),
            _f("min_next_cents", INT, "the least bid taken now"),
        ),
    ),
    ServerFrame(
        name="auction_ended",
        audience=ROOM,
        when="an auction closed",
        fields=(
            _f("auction", STR, "its id"),
            _f("winner", STR, "null when nothing was sold", nullable=True),
            _f("amount_cents", INT, "the final price"),
            _f("order", STR, "the winner's order (reserved, to be paid)", nullable=True),
            _f(
                "reason", STR, "`no_bids` or `reserve_not_met` when nothing was sold", optional=True
            ),
        ),
    ),
    ServerFrame(
        name="bid_result",
        audience=SENDER,
        when="answer to `bid`, at once",
        fields=(
            _f("key", STR),
            _f("auction", STR),
            _f("ok", BOOL, "the bid was accepted"),
            _f("leading", BOOL, "you lead now"),
            _f("amount_cents", INT, "the price after the bid (when ok)", optional=True),
            _f(
                "reason",
                STR,
                "`outbid` (accepted, but another bidder's maximum is higher), or when not ok "
                "`bid_too_low`, `auction_ended`, `already_leading`, `auction_not_found`, `banned`",
                optional=True,
            ),
            _f("min_cents", INT, "the least bid taken (with `bid_too_low`)", optional=True),
        ),
    ),
    ServerFrame(
        name="giveaway_started",
        audience=ROOM,
        when="the anchor started a giveaway (with its `commitment`)",
        fields=(_f("giveaway", MAP, "as in the API"),),
    ),
    ServerFrame(
        name="giveaway_ended",
        audience=ROOM,
        when="a giveaway's winners were drawn",
        fields=(
            _f("giveaway", STR, "its id"),
            _f("winners", LIST, "user ids, in draw order"),
            _f("seed", STR, "the secret seed, revealed (64 hex digits)"),
            _f("commitment", STR, "SHA-256 of the seed, as published at the start"),
            _f(
                "entrants",
                LIST,
                "the entrants' user ids, sorted (the draw's pool), when there are at most "
                "`formats.giveaway_ended_entrants_max`; left out above it",
                optional=True,
            ),
            _f("entrants_count", INT, "how many entered"),
            _f(
                "entrants_truncated",
                BOOL,
                "true when `entrants` is left out: the list is `GET /api/giveaways/{id}/entrants`",
                optional=True,
            ),
        ),
    ),
    ServerFrame(
        name="enter_result",
        audience=SENDER,
        when="answer to `enter`",
        fields=(
            _f("giveaway", STR),
            _f("key", STR, "the `enter` frame's key, when it had one", optional=True),
            _f("ok", BOOL, "you are entered (now or before)"),
            _f("entrants", INT, "entrants so far (when ok)", optional=True),
            _f(
                "reason",
                STR,
                "when not ok, one of `watch_time_short`, `buyers_only`, `keyword_required`, "
                "`giveaway_ended`, `giveaway_not_found`, `banned`",
                optional=True,
            ),
        ),
    ),
)

CLIENT_FRAMES: tuple[ClientFrame, ...] = (
    ClientFrame(
        name="claim",
        when="needs a token; answered with `claim_result` (see [formats.md](formats.md))",
        fields=(
            _f("voucher", STR, "the voucher's id"),
            _f("key", STR, KEY_NOTE.format(thing="voucher")),
        ),
    ),
    ClientFrame(
        name="bid",
        when="needs a token; answered with `bid_result` at once",
        fields=(
            _f("auction", STR, "the auction's id"),
            _f("amount_cents", INT, "1..10^10; at least the auction's `min_next_cents`"),
            _f(
                "max_cents",
                INT,
                "a proxy maximum: the server bids for you up to it, one step at a time",
                optional=True,
            ),
            _f("key", STR, KEY_NOTE.format(thing="auction")),
        ),
    ),
    ClientFrame(
        name="enter",
        when="needs a token; answered with `enter_result`",
        fields=(
            _f("giveaway", STR, "the giveaway's id"),
            _f(
                "key",
                STR,
                "1..128 printable characters, echoed in `enter_result` (and in an `error` "
                "answering it); entering is idempotent with or without it",
                optional=True,
            ),
        ),
    ),
)
