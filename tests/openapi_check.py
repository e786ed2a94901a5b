"""Every answer of the test app checked against the app's own ``/openapi.json``.

``check_answers(app)`` puts a middleware outside all others (it sees the final answer,
errors included) that validates each JSON, text or SDP answer with openapi-core: its
status must be documented for the operation, its media type and body must match the
schema; and each JSON request the server took (2xx) must match the request schema.
Files, streams and WebSocket upgrades are not buffered and are left out, as are HEAD
answers (no body), the 404/405 of paths no route answers, and paths whose parameter
holds a "/" (``/static/{path}``; OpenAPI templates cannot match them). Breaches are
collected on the app; :func:`breaches` hands them to the fixture that fails the test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from openapi_core import Config, OpenAPI
from openapi_core.contrib.aiohttp import AIOHTTPOpenAPIWebRequest, AIOHTTPOpenAPIWebResponse

from livecommerce.web.openapi import openapi_document

BREACHES = web.AppKey("openapi_breaches", list[str])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_specs: dict[frozenset[str], OpenAPI] = {}


def _text(data: bytes) -> str:
    return data.decode()


# Text bodies openapi-core does not know: SDP answers, CSV, Prometheus' text format.
TEXT_TYPES = ("application/sdp", "application/trickle-ice-sdpfrag", "text/csv", "text/html")


def _spec(app: web.Application) -> OpenAPI:
    """The app's document as openapi-core reads it, built once per set of routes."""
    key = frozenset(f"{r.method} {r.resource.canonical}" for r in app.router.routes() if r.resource)
    if key not in _specs:
        config = Config(extra_media_type_deserializers=dict.fromkeys(TEXT_TYPES, _text))
        _specs[key] = OpenAPI.from_dict(openapi_document(app), config=config)
    return _specs[key]


def check_answers(app: web.Application) -> web.Application:
    """``app`` with its answers checked against its OpenAPI document."""
    app[BREACHES] = []

    @web.middleware
    async def checked(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if request.content_type == "application/json" and response.status < 300:
            await _check_request(request)
        routed = request.match_info.http_exception is None  # not a 404/405 of no route
        # OpenAPI's path templates cannot match a parameter holding "/" (/static/{path}).
        templated = not any("/" in value for value in request.match_info.values())
        if routed and templated and type(response) is web.Response and request.method != "HEAD":
            try:
                _spec(request.app).validate_response(
                    AIOHTTPOpenAPIWebRequest(request, body=None),
                    AIOHTTPOpenAPIWebResponse(response),
                )
            except Exception as breach:  # openapi-core raises one of many error types
                detail = _describe(breach)
                request.app[BREACHES].append(
                    f"{request.method} {request.path} → {response.status}: {detail[:600]}"
                )
        return response

    app.middlewares.insert(0, checked)
    return app


async def _check_request(request: web.Request) -> None:
    """A JSON request the server took (2xx) must be one the document allows: a document
    stricter than the server would make generated clients refuse good requests."""
    try:
        body = await request.read()
        _spec(request.app).validate_request(AIOHTTPOpenAPIWebRequest(request, body=body))
    except Exception as breach:  # openapi-core raises one of many error types
        detail = _describe(breach)
        request.app[BREACHES].append(f"request {request.method} {request.path}: {detail[:600]}")


def _describe(breach: Exception) -> str:
    """The breach and its cause in words; some of openapi-core's errors cannot say
    themselves (a body that is not UTF-8 fails inside their ``__str__``)."""
    parts = []
    for error in (breach, getattr(breach, "__cause__", None)):
        if error is None:
            continue
        try:
            parts.append(str(error))
        except Exception:  # its own __str__ failed
            parts.append(type(error).__name__)
    return ": ".join(parts)


def breaches(app: web.Application) -> list[str]:
    return list(app.get(BREACHES, []))
