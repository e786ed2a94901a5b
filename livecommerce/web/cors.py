"""Cross-origin access: which other sites' pages may use this node from a browser.

One policy, built once from the settings (:class:`CrossOrigin`):

- ``/api/…``: CORS for the origins in ``server.cors_origins`` (none by default:
  this node's own pages only). A preflight from such an origin is answered here
  with 204 whatever the path; a preflight from any other origin gets 403
  ``origin_not_allowed``. Actual requests from other origins are served without
  CORS headers, so their page cannot read the answer (tokens are Bearer
  headers, never cookies: nothing ambient rides along).
- ``/whip/…`` and ``/whep/…``: CORS for ``media.cors_origins`` (``*`` by
  default) plus ``server.cors_origins``; their ``OPTIONS`` routes answer the
  preflight, this module adds the headers to every answer, errors included.
- the room channel (a WebSocket, which CORS does not cover):
  :func:`require_allowed_origin` refuses an ``Origin`` that is neither this
  node's nor in ``server.cors_origins`` with 403 before the upgrade. A client
  that sends no ``Origin`` (not a browser) is not refused.
- ``/sdk/…``: public code, ``Access-Control-Allow-Origin: *`` (set by its handler).

"This node's own" origin is the ``Host`` the request was sent to, the right-most
``X-Forwarded-Host`` when a trusted proxy (``server.trusted_proxies``) sent the request
(the value that proxy wrote; values further left come from the client), or the host of
``server.public_url``. A browser always sends the page's real origin and cannot add
headers to a WebSocket, so another site cannot pass for this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from livecommerce.config import Settings
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.web.access import Handler
from livecommerce.web.client_address import TRUSTED_PROXIES
from livecommerce.web.errors import error_response

ANY: Final = "*"
API_PREFIX: Final = "/api/"
MEDIA_PREFIXES: Final = ("/whip/", "/whep/")
MEDIA_METHODS: Final = "POST, DELETE, PATCH, OPTIONS"
MEDIA_HEADERS: Final = "Authorization, Content-Type, If-Match"
MEDIA_EXPOSE: Final = "Location, ETag, Link, Accept-Post, Accept-Patch"
API_METHODS: Final = "GET, POST, PUT, PATCH, DELETE"
API_HEADERS: Final = "Authorization, Content-Type"
API_EXPOSE: Final = "Location, Retry-After"
# How long a browser may reuse a preflight answer, in seconds.
MAX_AGE: Final = "86400"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_key(origin: str) -> str | None:
    """``scheme://host[:port]`` in the form browsers send (lower case, no default
    port), or None when ``origin`` is not an origin (``null``, garbage)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{port}"
    return f"{parts.scheme.lower()}://{host}"


@dataclass(frozen=True)
class OriginRule:
    """A set of allowed origins, or any origin."""

    any: bool
    origins: frozenset[str]

    @classmethod
    def of(cls, *lists: tuple[str, ...]) -> OriginRule:
        values = [value for values in lists for value in values]
        keys = (origin_key(value) for value in values if value != ANY)
        return cls(ANY in values, frozenset(key for key in keys if key is not None))

    def allows(self, origin: str) -> bool:
        if self.any:
            return True
        key = origin_key(origin)
        return key is not None and key in self.origins


@dataclass(frozen=True)
class CrossOrigin:
    """The node's cross-origin policy (see the module docstring)."""

    api: OriginRule
    media: OriginRule
    own_hosts: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> CrossOrigin:
        public = urlsplit(settings.server.public_url).netloc.lower()
        return cls(
            api=OriginRule.of(settings.server.cors_origins),
            media=OriginRule.of(settings.server.cors_origins, settings.media.cors_origins),
            own_hosts=frozenset({public} if public else ()),
        )

    def same_site(self, request: web.Request, origin: str) -> bool:
        """Whether ``origin`` is this node itself (see the module docstring)."""
        try:
            host = urlsplit(origin.strip()).netloc.lower()
        except ValueError:
            return False
        if not host:
            return False
        return host == request.host.lower() or host in self.own_hosts or host == _proxied(request)

    def admits(self, request: web.Request, rule: OriginRule) -> bool:
        origin = request.headers.get("Origin")
        return origin is None or self.same_site(request, origin) or rule.allows(origin)


def _proxied(request: web.Request) -> str | None:
    """The host a trusted proxy says the client asked for, if one sent this request."""
    forwarded = request.headers.getall("X-Forwarded-Host", [])
    proxies = request.app.get(TRUSTED_PROXIES)
    if not forwarded or proxies is None or request.remote is None:
        return None
    if not proxies.trusts(request.remote):
        return None
    return forwarded[-1].rsplit(",", 1)[-1].strip().lower() or None


CROSS_ORIGIN = web.AppKey("cross_origin", CrossOrigin)


def require_allowed_origin(request: web.Request) -> None:
    """Refuse (403 ``origin_not_allowed``) a request whose ``Origin`` is another site
    not in ``server.cors_origins``; no ``Origin`` at all is a non-browser client."""
    policy = request.app[CROSS_ORIGIN]
    if not policy.admits(request, policy.api):
        origin = request.headers.get("Origin", "")
        raise ApiError(
            ErrorCode.origin_not_allowed,
            f"Pages from {origin[:100]!r} may not use this server (server.cors_origins).",
        )


def _allow(response: web.StreamResponse, rule: OriginRule, origin: str) -> None:
    if rule.any:
        response.headers["Access-Control-Allow-Origin"] = ANY
    else:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")


def _is_preflight(request: web.Request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def middleware(policy: CrossOrigin) -> web.middleware:  # type: ignore[valid-type]
    """CORS on ``/api`` (preflights answered here) and on WHIP/WHEP answers, errors included."""

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith(API_PREFIX):
            return await _api(request, handler, policy)
        response = await handler(request)
        origin = request.headers.get("Origin", "")
        if path.startswith(MEDIA_PREFIXES) and policy.media.allows(origin):
            _allow(response, policy.media, origin)
            response.headers["Access-Control-Expose-Headers"] = MEDIA_EXPOSE
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = MEDIA_METHODS
                response.headers["Access-Control-Allow-Headers"] = MEDIA_HEADERS
                response.headers["Access-Control-Max-Age"] = MAX_AGE
        return response

    return cors


async def _api(request: web.Request, handler: Handler, policy: CrossOrigin) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    if origin is None or policy.same_site(request, origin):
        return await handler(request)
    if _is_preflight(request):
        if not policy.api.allows(origin):
            message = f"Pages from {origin[:100]!r} may not call this API (server.cors_origins)."
            return error_response(ApiError(ErrorCode.origin_not_allowed, message))
        answer = web.Response(status=204)
        _allow(answer, policy.api, origin)
        answer.headers["Access-Control-Allow-Methods"] = API_METHODS
        answer.headers["Access-Control-Allow-Headers"] = API_HEADERS
        answer.headers["Access-Control-Max-Age"] = MAX_AGE
        return answer
    response = await handler(request)
    if policy.api.allows(origin):
        _allow(response, policy.api, origin)
        response.headers["Access-Control-Expose-Headers"] = API_EXPOSE
    return response
