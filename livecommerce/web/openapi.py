"""The OpenAPI 3.1 document of an app, built from its router.

Paths, methods and path parameters come from ``app.router``; ``security`` and
``x-roles`` from each handler's ``@admits``; error answers from the error catalogue;
the rest from the :class:`~livecommerce.web.openapi_ops.Op` rows of
``openapi_routes_api`` and ``openapi_routes_web``. A route without a row still appears,
marked ``x-undocumented`` (a test refuses that), so the document never hides a route.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from aiohttp import web

from livecommerce import __version__
from livecommerce.auth import Role
from livecommerce.web.access import ADMITS_ATTRIBUTE, ANYONE
from livecommerce.web.openapi_ops import JSON, Op, Reply
from livecommerce.web.openapi_routes_api import OPERATIONS as API_OPERATIONS
from livecommerce.web.openapi_routes_web import OPERATIONS as WEB_OPERATIONS
from livecommerce.web.openapi_schemas import (
    COMPONENTS,
    ID,
    STRING,
    Schema,
    error_schema,
    http_statuses,
)

OPERATIONS: dict[str, Op] = {**API_OPERATIONS, **WEB_OPERATIONS}
PARAMETER = re.compile(r"{(\w+)}")
UNDOCUMENTED = "x-undocumented"
# Statuses any route can answer: a malformed request (400), a bad token (401), a token
# for another room or a refused origin (403), nothing there (404), a wrong method (405),
# too many connections or requests (429), a failure (500), the store away (503).
ALWAYS = (400, 401, 403, 404, 405, 429, 500, 503)
BODY_ERRORS = (400, 413, 415)
RETRY_AFTER = "seconds to wait (429, 503, and 409 room_not_live)"


def route_key(method: str, path: str) -> str:
    """``"METHOD /path"``, the key of :data:`OPERATIONS` (HEAD is its GET's row)."""
    return f"{'GET' if method == 'HEAD' else method} {path}"


def router_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """``(METHOD, path template, handler)`` of every route in the app's router."""
    found = []
    for route in app.router.routes():
        assert route.resource is not None
        found.append((route.method, route.resource.canonical, route.handler))
    return found


def _security(handler: Any) -> tuple[list[dict[str, list[str]]], list[str] | str]:
    admits: frozenset[Role] | str = getattr(handler, ADMITS_ATTRIBUTE, ANYONE)
    if isinstance(admits, str):
        return [{}, {"bearer": []}], ANYONE
    return [{"bearer": []}], sorted(role.value for role in admits)


def _reply(reply: Reply) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": reply.description}
    if reply.media is not None:
        answer["content"] = {reply.media: {"schema": reply.schema}}
    if reply.headers:
        answer["headers"] = {
            name: {"description": text, "schema": STRING} for name, text in reply.headers.items()
        }
    return answer


def _error_statuses(op: Op) -> list[int]:
    statuses = {*ALWAYS, *op.errors}
    if op.body is not None:
        statuses |= set(BODY_ERRORS)
    return sorted(statuses & set(http_statuses()))


def operation(method: str, path: str, handler: Any) -> dict[str, Any]:
    """One operation object of the document."""
    op = OPERATIONS.get(route_key(method, path))
    security, roles = _security(handler)
    if op is None:
        return {
            "summary": "(no row in OPERATIONS)",
            UNDOCUMENTED: True,
            "security": security,
            "x-roles": roles,
            "responses": {"default": {"$ref": "#/components/responses/Error"}},
        }
    who = f"**Who:** {op.who}."
    responses: dict[str, Any] = {str(s): _reply(r) for s, r in op.replies.items()}
    if method == "HEAD":
        responses = {s: {"description": r["description"]} for s, r in responses.items()}
    for status in _error_statuses(op):
        responses.setdefault(str(status), {"$ref": f"#/components/responses/Error{status}"})
    responses["default"] = {"$ref": "#/components/responses/Error"}
    answer: dict[str, Any] = {
        "operationId": f"{method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', path).rstrip('_')}",
        "summary": op.summary,
        "description": f"{who}\n\n{op.description}".strip(),
        "tags": [op.tag],
        "security": security,
        "x-roles": roles,
        "responses": responses,
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": ID if name != "path" else STRING}
        for name in PARAMETER.findall(path)
    ]
    parameters += [
        {
            "name": q.name,
            "in": "query",
            "required": False,
            "schema": q.schema,
            "description": q.description,
        }
        for q in op.query
    ]
    if parameters:
        answer["parameters"] = parameters
    if op.body is not None and method != "HEAD":
        answer["requestBody"] = {
            "required": op.body.required,
            "content": {media: {"schema": schema} for media, schema in op.body.media.items()},
        }
    return answer


def _error_responses() -> dict[str, Any]:
    def response(status: int | None) -> dict[str, Any]:
        text = "An error from the catalogue (livecommerce/errors.py)"
        return {
            "description": text if status is None else f"{text}, status {status}",
            "headers": {"Retry-After": {"description": RETRY_AFTER, "schema": STRING}},
            "content": {JSON: {"schema": error_schema(status)}},
        }

    answers = {f"Error{status}": response(status) for status in http_statuses()}
    return {"Error": response(None), **answers}


def openapi_document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route in ``app``'s router: a structure of its
    own, so a caller may change it without changing the shared schemas it is built from."""
    return copy.deepcopy(_document(app))


def _document(app: web.Application) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler in router_routes(app):
        paths.setdefault(path, {})[method.lower()] = operation(method, path, handler)
    schemas: dict[str, Schema] = dict(COMPONENTS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "livecommerce",
            "version": __version__,
            "description": "The HTTP API of a livecommerce node; the guide is docs/api.md, the "
            "room channel's frames are in /asyncapi.json.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "responses": _error_responses(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
