"""The JSON schemas of the OpenAPI document: the error body from the catalogue, and the
objects the API answers with.

Object schemas name the fields every answer carries (``required``) and leave room for
more (``additionalProperties`` is not closed): a field added to an answer is not a
breaking change, a field dropped is. Integration tests validate real answers against them.
"""

from __future__ import annotations

from typing import Any

from livecommerce.errors import ErrorCode

Schema = dict[str, Any]

# Codes only the room channel answers (error frames and close codes, docs/channel.md).
CHANNEL_ONLY = frozenset(
    {
        ErrorCode.sign_in_required,
        ErrorCode.slow_mode,
        ErrorCode.banned,
        ErrorCode.room_muted,
        ErrorCode.muted,
        ErrorCode.blocked_term,
        ErrorCode.message_too_long,
        ErrorCode.bad_frame,
        ErrorCode.unknown_type,
        ErrorCode.too_many_bad_frames,
        ErrorCode.slow_consumer,
    }
)

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
OBJECT: Schema = {"type": "object"}
MS: Schema = {"type": "integer", "description": "milliseconds since the Unix epoch"}
MS_OR_NULL: Schema = {"type": ["integer", "null"], "description": MS["description"]}
STRING_OR_NULL: Schema = {"type": ["string", "null"]}
ID: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 128,
    "pattern": "^[A-Za-z0-9][A-Za-z0-9_.@:-]*$",
}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """An object with these fields; ``required`` ones are always present."""
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


def nullable(schema: Schema) -> Schema:
    """``schema`` or null (the server reads an optional field sent as null as left out)."""
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return schema


def closed(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """A request body: these fields and no others (the server refuses unknown fields);
    optional ones may be null."""
    loose = {name: nullable(schema) for name, schema in (optional or {}).items()}
    return {**obj(required, loose), "additionalProperties": False}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def http_codes() -> list[ErrorCode]:
    """Every error code an HTTP client can get, in catalogue order."""
    return [code for code in ErrorCode if code not in CHANNEL_ONLY]


def http_statuses() -> list[int]:
    return sorted({code.spec.status for code in http_codes()})


def error_schema(status: int | None = None) -> Schema:
    """``{"error": {"code", "message", "field"?}}``; ``code`` one of the catalogue's codes
    (those answered with ``status`` when given)."""
    codes = [c.name for c in http_codes() if status is None or c.spec.status == status]
    return obj(
        {
            "error": obj(
                {"code": {"type": "string", "enum": codes}, "message": STRING},
                {"field": {"type": "string", "description": "the body field at fault"}},
            )
        }
    )


ROOM = obj(
    {
        "id": ID,
        "title": STRING,
        "description": STRING,
        "anchor": ID,
        "status": {"type": "string", "enum": ["scheduled", "live", "ended"]},
        "created_at": MS,
        "started_at": MS_OR_NULL,
        "ended_at": MS_OR_NULL,
        "cover_url": STRING_OR_NULL,
        "viewers": INTEGER,
    },
    {"discovery": OBJECT},
)
PRODUCT = obj(
    {
        "id": STRING,
        "room": ID,
        "sku": STRING,
        "title": STRING,
        "price_cents": INTEGER,
        "currency": STRING,
        "image_url": STRING_OR_NULL,
    }
)
SALE = obj(
    {
        "id": STRING,
        "room": ID,
        "product_id": STRING,
        "price_cents": INTEGER,
        "currency": STRING,
        "quantity": INTEGER,
        "per_user_limit": INTEGER,
        "starts_at": MS,
        "ends_at": MS,
        "status": {"type": "string", "enum": ["scheduled", "open", "sold_out", "ended"]},
        "left": INTEGER,
        "reserved": INTEGER,
        "sold": INTEGER,
        "stopped_at": MS_OR_NULL,
    }
)
ORDER = obj(
    {
        "id": STRING,
        "room": ID,
        "product_id": STRING_OR_NULL,
        "user": ID,
        "qty": INTEGER,
        "unit_price_cents": INTEGER,
        "amount_cents": INTEGER,
        "currency": STRING_OR_NULL,
        "status": {"type": "string", "enum": ["reserved", "paid", "cancelled", "expired"]},
        "created_at": MS,
        "expires_at": MS,
        "paid_at": MS_OR_NULL,
        "cancelled_at": MS_OR_NULL,
        "expired_at": MS_OR_NULL,
    },
    {
        "sale": STRING_OR_NULL,
        "source": {"type": "string", "enum": ["sale", "auction", "giveaway", "replay"]},
        "ref": STRING_OR_NULL,
        "voucher": STRING_OR_NULL,
        "voucher_claim": STRING_OR_NULL,
        "discount_cents": INTEGER,
        "auction": STRING,
        "giveaway": STRING,
        "replay": STRING,
    },
)
AUDIT_ENTRY = obj(
    {"id": STRING, "ts": MS, "actor": ID, "action": STRING},
    {"actor_role": STRING, "target": STRING_OR_NULL, "reason": STRING_OR_NULL},
)
REPLAY = obj(
    {
        "id": STRING,
        "room": ID,
        "status": {"type": "string", "enum": ["recording", "ready"]},
    },
    {
        "started_at": MS_OR_NULL,
        "playback_url": STRING_OR_NULL,
        "page_url": STRING,
        "video_codec": STRING,
    },
)
NUMBER_OR_NULL: Schema = {"type": ["integer", "null"]}
VOUCHER = obj(
    {
        "id": STRING,
        "room": ID,
        "title": STRING,
        "discount_cents": NUMBER_OR_NULL,
        "percent_off": NUMBER_OR_NULL,
        "quantity": INTEGER,
        "left": INTEGER,
        "claimed": INTEGER,
        "per_user_limit": INTEGER,
        "status": {"type": "string", "enum": ["ready", "live", "claimed_out", "ended"]},
        "created_at": MS,
    }
)
AUCTION = obj(
    {
        "id": STRING,
        "room": ID,
        "product_id": STRING,
        "currency": STRING,
        "start_price_cents": INTEGER,
        "has_reserve": BOOLEAN,
        "reserve_met": BOOLEAN,
        "starts_at": MS,
        "ends_at": MS,
        "status": STRING,
        "amount_cents": NUMBER_OR_NULL,
        "leader": STRING_OR_NULL,
        "bids": INTEGER,
        "min_next_cents": INTEGER,
    }
)
GIVEAWAY = obj(
    {
        "id": STRING,
        "room": ID,
        "title": STRING,
        "winners_wanted": INTEGER,
        "eligibility": OBJECT,
        "commitment": STRING,
        "algorithm": STRING,
        "status": STRING,
        "created_at": MS,
        "ends_at": MS,
        "seed": STRING_OR_NULL,
        "winners": {"type": ["array", "null"]},
    }
)
NODE = obj({"id": STRING, "url": STRING, "started_at": MS, "seen_at": MS, "expires_at": MS})

COMPONENTS: dict[str, Schema] = {
    "Error": error_schema(),
    "Room": ROOM,
    "Product": PRODUCT,
    "Sale": SALE,
    "Order": ORDER,
    "AuditEntry": AUDIT_ENTRY,
    "Replay": REPLAY,
    "Node": NODE,
    "Voucher": VOUCHER,
    "Auction": AUCTION,
    "Giveaway": GIVEAWAY,
}
