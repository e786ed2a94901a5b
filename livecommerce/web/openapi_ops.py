"""What the OpenAPI document says of one route that the router cannot: its summary, who
may call it in words, its query, body and answers.

The router gives the paths, methods and path parameters; ``@admits`` gives the roles
(``security``); the error catalogue gives the error answers. An :class:`Op` holds the rest,
one per ``"METHOD /path"`` in :data:`livecommerce.web.openapi_routes.OPERATIONS` (``GET``
stands for ``HEAD`` too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from livecommerce.web.openapi_schemas import INTEGER, OBJECT, STRING, Schema

JSON = "application/json"
SDP = "application/sdp"
SDP_FRAGMENT = "application/trickle-ice-sdpfrag"
HTML = "text/html"


@dataclass(frozen=True)
class Query:
    name: str
    schema: Schema
    description: str = ""


@dataclass(frozen=True)
class Reply:
    """One successful answer: its description, media type and schema, and headers."""

    description: str
    media: str | None = JSON
    schema: Schema = field(default_factory=lambda: OBJECT)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Body:
    """A request body: media types → schema, and whether it may be left out."""

    media: Mapping[str, Schema]
    required: bool = True


@dataclass(frozen=True, kw_only=True)
class Op:
    summary: str
    tag: str
    who: str = "anyone"
    query: tuple[Query, ...] = ()
    body: Body | None = None
    replies: Mapping[int, Reply] = field(default_factory=lambda: {200: Reply("OK")})
    # Error statuses beyond those every route of its kind can answer (see openapi.py).
    errors: tuple[int, ...] = ()
    description: str = ""


def ok(schema: Schema = OBJECT, description: str = "OK", **headers: str) -> Mapping[int, Reply]:
    return MappingProxyType({200: Reply(description, schema=schema, headers=headers)})


def created(schema: Schema, **headers: str) -> Mapping[int, Reply]:
    return MappingProxyType({201: Reply("Created", schema=schema, headers=headers)})


def json_body(schema: Schema, required: bool = True) -> Body:
    return Body({JSON: schema}, required)


def limit(high: int, default: str) -> Query:
    return Query(
        "limit", {**INTEGER, "minimum": 1, "maximum": high}, f"1–{high}, default {default}"
    )


def file_reply(description: str, media: str = "application/octet-stream") -> Mapping[int, Reply]:
    schema = {"type": "string", "format": "binary"}
    return MappingProxyType({200: Reply(description, media, schema)})


PAGE = MappingProxyType({200: Reply("The page", HTML, STRING)})
