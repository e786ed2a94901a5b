"""The OpenAPI rows of the JSON API under ``/api``: one :class:`Op` per ``"METHOD /path"``
as the router spells it (``GET`` stands for ``HEAD`` too). A route without a row fails
``tests/unit/test_openapi.py``; docs/architecture.md says where a new one goes."""

from __future__ import annotations

from livecommerce.web.openapi_ops import Body, Op, Query, Reply, created, json_body, limit, ok
from livecommerce.web.openapi_schemas import (
    BOOLEAN,
    ID,
    INTEGER,
    MS,
    OBJECT,
    STRING,
    array,
    closed,
    obj,
    ref,
)

STAFF = "the room's anchor, moderator, admin"
ITS_STAFF = "its anchor, moderator, admin"
MOD = "moderators and admins on every room; an anchor on its own rooms"
TEXT = {"type": "string", "minLength": 1}
CENTS = {"type": "integer", "minimum": 0}
COUNT = {"type": "integer", "minimum": 1}
SECONDS = {"type": "integer", "minimum": 0}
LIST_50 = "the newest 50"
ROOM_LIST = obj({"rooms": array(ref("Room"))})
PRODUCT_BODY = closed(
    {"sku": TEXT, "title": TEXT, "price_cents": CENTS, "currency": TEXT},
    {"image_url": STRING},
)
SALE_BODY = closed(
    {
        "product_id": TEXT,
        "price_cents": CENTS,
        "quantity": COUNT,
        "per_user_limit": COUNT,
        "duration_s": COUNT,
        "reservation_ttl_s": COUNT,
    },
    {"starts_at": MS},
)
VOUCHER_BODY = closed(
    {"title": TEXT, "quantity": COUNT, "per_user_limit": COUNT},
    {
        "discount_cents": CENTS,
        "percent_off": COUNT,
        "min_spend_cents": CENTS,
        "watch_s_required": SECONDS,
        "expires_at": MS,
        "drop": BOOLEAN,
    },
)
AUCTION_BODY = closed(
    {"product_id": TEXT, "start_price_cents": CENTS, "duration_s": COUNT},
    {
        "reserve_price_cents": CENTS,
        "increment_table": array(
            {
                **array(INTEGER),
                "minItems": 2,
                "maxItems": 2,
                "description": "[from_cents, step_cents]",
            }
        ),
        "anti_snipe_s": SECONDS,
        "sudden_death": BOOLEAN,
    },
)
GIVEAWAY_BODY = closed(
    {"title": TEXT, "winners": COUNT, "duration_s": COUNT},
    {
        "product_id": TEXT,
        "eligibility": closed({}, {"watch_s": SECONDS, "buyers_only": BOOLEAN, "keyword": STRING}),
    },
)
MODERATION_BODY = closed(
    {},
    {"user": ID, "duration_s": SECONDS, "interval_s": SECONDS, "reason": STRING},
)
AUTOMOD_BODY = closed(
    {},
    {
        "level": {"type": "integer", "minimum": 0, "maximum": 3},
        "held_terms": array(STRING),
        "blocked_terms": array(STRING),
        "allowed_domains": array(STRING),
        "hold_links": {"type": ["boolean", "null"]},
        "hold_contacts": {"type": ["boolean", "null"]},
        "hold_first_time": BOOLEAN,
        "buyers_only": BOOLEAN,
    },
)
NUMBER = {"type": "number"}
DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
STATS = obj(
    {
        "room": ID,
        "viewers": INTEGER,
        "peak_viewers": INTEGER,
        "likes": INTEGER,
        "chat_messages": INTEGER,
        "orders": INTEGER,
        "paid_orders": INTEGER,
        "buyers": INTEGER,
        "gmv_cents": {"type": "object", "additionalProperties": INTEGER},
        "conversion": NUMBER,
    }
)
ANALYTICS = obj(
    {
        "room": ID,
        "status": STRING,
        "generated_at": MS,
        "frozen": BOOLEAN,
        "funnel": OBJECT,
        "conversion": array(OBJECT),
        "watch": OBJECT,
        "retention": array(OBJECT),
        "orders": array(OBJECT),
        "peak_viewers": INTEGER,
        "gmv_cents": INTEGER,
        "products": array(OBJECT),
        "markers": array(OBJECT),
    }
)
DAB = {
    "anyOf": [
        obj({"date": DATE, "daily_active_buyers": INTEGER}),
        obj({"from": DATE, "to": DATE, "days": array(OBJECT)}),
    ]
}
EMPTY = json_body(closed({}), required=False)
ROOM_STATUS = Query("status", {"type": "string", "enum": ["scheduled", "live", "ended"]})
IDEMPOTENT = "Idempotent: settling an order twice answers as the first time."

OPERATIONS: dict[str, Op] = {
    "GET /api/nodes": Op(
        summary="The nodes of this deployment, oldest first",
        tag="operations",
        who="admin",
        replies=ok(obj({"self": STRING, "nodes": array(ref("Node"))})),
    ),
    "POST /api/demo/token": Op(
        summary="A viewer token for 24 h under a fresh guest id",
        tag="rooms",
        who="anyone, when `auth.demo_tokens` is on",
        body=json_body(closed({}, {"name": {"type": "string", "maxLength": 40}}), False),
        replies=created(
            obj({"token": STRING, "user": ID, "role": {"const": "viewer"}, "expires_at": MS})
        ),
    ),
    "POST /api/rooms": Op(
        summary="Create a room; the caller is its anchor",
        tag="rooms",
        who="anchor",
        body=json_body(
            closed(
                {"title": {"type": "string", "minLength": 1, "maxLength": 140}},
                {"description": {"type": "string", "maxLength": 2000}, "cover_url": STRING},
            )
        ),
        replies=created(ref("Room"), Location="/api/rooms/{id}"),
    ),
    "GET /api/rooms": Op(
        summary="Live rooms ranked by discovery, then the others, newest first",
        tag="rooms",
        query=(ROOM_STATUS, limit(200, "`rooms.list_limit`")),
        replies=ok(ROOM_LIST),
    ),
    "GET /api/rooms/{room}": Op(
        summary="A room with its viewers, pinned product, active sales and live HLS",
        tag="rooms",
        replies=ok(ref("Room")),
    ),
    "POST /api/rooms/{room}/end": Op(
        summary="End the room (ending an ended room changes nothing)",
        tag="rooms",
        who=STAFF,
        body=EMPTY,
        replies=ok(ref("Room")),
    ),
    "GET /api/rooms/{room}/media": Op(
        summary="The stream's counters on this node",
        tag="media",
        who=STAFF,
        replies=ok(obj({"room": ID, "live_here": BOOLEAN})),
    ),
    "GET /api/rooms/{room}/moderation/log": Op(
        summary="The room's audit log, newest first",
        tag="moderation",
        who=MOD,
        query=(limit(1000, "100"),),
        replies=ok(obj({"room": ID, "entries": array(ref("AuditEntry"))})),
    ),
    "GET /api/rooms/{room}/moderation/automod": Op(
        summary="The room's automod settings", tag="moderation", who=MOD
    ),
    "POST /api/rooms/{room}/moderation/automod": Op(
        summary="Change some automod settings",
        tag="moderation",
        who=MOD,
        body=json_body(AUTOMOD_BODY),
    ),
    "POST /api/rooms/{room}/moderation/shield": Op(
        summary="Shield mode on or off",
        tag="moderation",
        who=MOD,
        body=json_body(closed({"on": BOOLEAN})),
    ),
    "POST /api/rooms/{room}/moderation/{action}": Op(
        summary="Mute, unmute, ban, unban or slow mode",
        tag="moderation",
        who=MOD,
        description="`action`: mute-room, unmute-room, mute-user, unmute-user, ban, unban, "
        "slow-mode; each takes the fields docs/moderation.md lists.",
        body=json_body(MODERATION_BODY, required=False),
        replies=ok(obj({"room": ID, "entry": ref("AuditEntry")})),
        errors=(409,),
    ),
    "DELETE /api/rooms/{room}/messages/{message}": Op(
        summary="Remove a chat message from the history and every client",
        tag="moderation",
        who=MOD,
        replies=ok(obj({"room": ID, "entry": ref("AuditEntry")})),
    ),
    "GET /api/rooms/{room}/review": Op(
        summary="The review queue, oldest first",
        tag="moderation",
        who=MOD,
        query=(limit(1000, "1000"),),
        replies=ok(obj({"room": ID, "items": array(OBJECT)})),
    ),
    "POST /api/rooms/{room}/review/{message}/{decision}": Op(
        summary="Approve or deny a held or reported message",
        tag="moderation",
        who=MOD,
        description="`decision`: approve or deny (deny takes `{timeout_s?}`).",
        body=json_body(closed({}, {"timeout_s": SECONDS}), required=False),
    ),
    "GET /api/rooms/{room}/users/{user}": Op(
        summary="The moderator console's user card", tag="moderation", who=MOD
    ),
    "POST /api/rooms/{room}/products": Op(
        summary="Add a product",
        tag="commerce",
        who="its anchor",
        body=json_body(PRODUCT_BODY),
        replies=created(ref("Product")),
        errors=(409,),
    ),
    "GET /api/rooms/{room}/products": Op(
        summary="The room's products",
        tag="commerce",
        replies=ok(obj({"room": ID, "products": array(ref("Product"))})),
    ),
    "POST /api/rooms/{room}/pin": Op(
        summary="Pin a product for every viewer",
        tag="commerce",
        who="its anchor",
        body=json_body(closed({"product_id": TEXT})),
        errors=(409,),
    ),
    "POST /api/rooms/{room}/sales": Op(
        summary="Start (or schedule) a flash sale",
        tag="commerce",
        who="its anchor",
        body=json_body(SALE_BODY),
        replies=created(ref("Sale")),
        errors=(409,),
    ),
    "GET /api/rooms/{room}/sales/{sale}": Op(
        summary="A sale and its stock", tag="commerce", replies=ok(ref("Sale"))
    ),
    "POST /api/rooms/{room}/sales/{sale}/stop": Op(
        summary="End a sale; open reservations stay payable",
        tag="commerce",
        who="its anchor, moderator",
        body=EMPTY,
    ),
    "GET /api/rooms/{room}/stats": Op(
        summary="The room's counters", tag="commerce", who=ITS_STAFF, replies=ok(STATS)
    ),
    "GET /api/stats/dab": Op(
        summary="Daily active buyers of a UTC day, or of a range of days",
        tag="commerce",
        who="admin",
        replies=ok(DAB),
        query=(Query("date", DATE), Query("from", DATE), Query("to", DATE)),
    ),
    "POST /api/orders/{order}/paid": Op(
        summary="The backend confirms payment",
        tag="commerce",
        who="backend",
        description=IDEMPOTENT,
        body=EMPTY,
        replies=ok(ref("Order")),
        errors=(409,),
    ),
    "POST /api/orders/{order}/cancel": Op(
        summary="Cancel a reservation; stock returns",
        tag="commerce",
        who="backend, the buyer",
        description=IDEMPOTENT,
        body=EMPTY,
        replies=ok(ref("Order")),
        errors=(409,),
    ),
    "GET /api/orders/{order}": Op(
        summary="An order",
        tag="commerce",
        who="the buyer, backend, admin",
        replies=ok(ref("Order")),
    ),
    "POST /api/rooms/{room}/vouchers": Op(
        summary="Create a voucher (dropped at once unless `drop: false`)",
        tag="formats",
        who="its anchor",
        body=json_body(VOUCHER_BODY),
        replies=created(ref("Voucher"), Location="/api/rooms/{room}/vouchers/{id}"),
        errors=(409,),
    ),
    "GET /api/rooms/{room}/vouchers": Op(
        summary=f"The room's vouchers ({LIST_50})",
        tag="formats",
        replies=ok(obj({"room": ID, "vouchers": array(ref("Voucher"))})),
    ),
    "GET /api/rooms/{room}/vouchers/{voucher}": Op(
        summary="A voucher", tag="formats", replies=ok(ref("Voucher"))
    ),
    "POST /api/rooms/{room}/vouchers/{voucher}/drop": Op(
        summary="Open a voucher for claims",
        tag="formats",
        who="its anchor",
        body=EMPTY,
        replies=ok(ref("Voucher")),
    ),
    "POST /api/rooms/{room}/vouchers/{voucher}/pin": Op(
        summary="Pin a voucher",
        tag="formats",
        who="its anchor",
        body=EMPTY,
        replies=ok(ref("Voucher")),
    ),
    "POST /api/rooms/{room}/vouchers/{voucher}/end": Op(
        summary="No more claims",
        tag="formats",
        who="its anchor, moderator",
        body=EMPTY,
        replies=ok(ref("Voucher")),
    ),
    "GET /api/rooms/{room}/claims": Op(
        summary="The caller's voucher claims",
        tag="formats",
        who="the claimer",
        replies=ok(obj({"room": ID, "claims": array(OBJECT)})),
    ),
    "POST /api/rooms/{room}/auctions": Op(
        summary="Start an auction",
        tag="formats",
        who="its anchor",
        body=json_body(AUCTION_BODY),
        replies=created(ref("Auction"), Location="/api/rooms/{room}/auctions/{id}"),
        errors=(409,),
    ),
    "GET /api/rooms/{room}/auctions": Op(
        summary=f"The room's auctions ({LIST_50})",
        tag="formats",
        replies=ok(obj({"room": ID, "auctions": array(ref("Auction"))})),
    ),
    "GET /api/rooms/{room}/auctions/{auction}": Op(
        summary="An auction", tag="formats", replies=ok(ref("Auction"))
    ),
    "POST /api/rooms/{room}/auctions/{auction}/end": Op(
        summary="Close an auction now",
        tag="formats",
        who="its anchor, moderator",
        body=EMPTY,
        replies=ok(ref("Auction")),
    ),
    "POST /api/rooms/{room}/giveaways": Op(
        summary="Start a giveaway (with its commitment)",
        tag="formats",
        who="its anchor",
        body=json_body(GIVEAWAY_BODY),
        replies=created(ref("Giveaway"), Location="/api/giveaways/{id}"),
        errors=(409,),
    ),
    "GET /api/rooms/{room}/giveaways": Op(
        summary=f"The room's giveaways ({LIST_50})",
        tag="formats",
        replies=ok(obj({"room": ID, "giveaways": array(ref("Giveaway"))})),
    ),
    "GET /api/giveaways/{giveaway}": Op(
        summary="A giveaway", tag="formats", replies=ok(ref("Giveaway"))
    ),
    "GET /api/giveaways/{giveaway}/entrants": Op(
        summary="A giveaway's entrants, sorted as the draw sorts them",
        tag="formats",
        replies=ok(obj({"giveaway": STRING, "count": INTEGER, "entrants": array(STRING)})),
    ),
    "POST /api/giveaways/{giveaway}/end": Op(
        summary="Close entries now and draw",
        tag="formats",
        who="its room's anchor, moderator",
        body=EMPTY,
        replies=ok(ref("Giveaway")),
    ),
    "POST /api/rooms/{room}/impressions": Op(
        summary="A room card was shown",
        tag="analytics",
        who="anyone (rate limited per address)",
        body=EMPTY,
        replies=ok(obj({"room": ID, "counted": BOOLEAN})),
        errors=(409,),
    ),
    "GET /api/rooms/{room}/analytics": Op(
        summary="The room's funnel, watch time, retention and products",
        tag="analytics",
        who=ITS_STAFF,
        replies=ok(ANALYTICS),
    ),
    "GET /api/rooms/{room}/analytics.csv": Op(
        summary="The room's analytics as CSV",
        tag="analytics",
        who=ITS_STAFF,
        replies={200: Reply("CSV rows: section,name,t,metric,value", "text/csv", STRING)},
    ),
    "POST /api/rooms/{room}/products/{product}/image": Op(
        summary="Upload a product image (PNG, JPEG or WebP, checked by content)",
        tag="commerce",
        who="its anchor",
        body=Body(
            {
                media: {"type": "string", "format": "binary"}
                for media in ("image/png", "image/jpeg", "image/webp", "application/octet-stream")
            }
        ),
        replies=ok(ref("Product")),
        errors=(409, 422),
    ),
    "GET /api/rooms/{room}/replays": Op(
        summary="The room's replays, newest first",
        tag="replays",
        query=(limit(100, "20"),),
        replies=ok(array(ref("Replay"))),
    ),
    "GET /api/replays": Op(
        summary="Finished replays of every room, newest first",
        tag="replays",
        query=(limit(100, "20"),),
        replies=ok(obj({"replays": array(ref("Replay"))})),
    ),
    "GET /api/replays/{replay}": Op(
        summary="A replay and its timeline", tag="replays", replies=ok(ref("Replay"))
    ),
    "DELETE /api/replays/{replay}": Op(
        summary="Delete a replay and its files",
        tag="replays",
        who="its anchor, admin",
        description="A recording in progress stops first, on whichever node records it "
        "(this answer waits for it, 10 s at most): its live HLS ends, the live goes on.",
        replies=ok(obj({"deleted": STRING})),
    ),
    "POST /api/replays/{replay}/orders": Op(
        summary="Buy a product shown in a replay",
        tag="replays",
        who="a signed-in buyer",
        description="`key` is the buyer's idempotency key: a key used before answers the "
        "first answer again.",
        body=json_body(
            closed(
                {"product_id": TEXT, "key": {"type": "string", "minLength": 1, "maxLength": 128}},
                {"qty": {"type": "integer", "minimum": 1, "maximum": 100}},
            )
        ),
        replies={
            200: Reply(
                "Refused (`reason`), or a key used before",
                schema=obj({"key": STRING, "ok": BOOLEAN}),
            ),
            201: Reply("Reserved", schema=obj({"key": STRING, "ok": BOOLEAN, "order": STRING})),
        },
    ),
}
