"""The node's HTTP connections: a deadline for each request's headers and a cap per address.

aiohttp has no header-read timeout: a client that sends its request headers one
byte at a time holds its socket until the keep-alive timer (an hour by default)
ends it, and a few thousand such clients hold every descriptor of the node. So:

- **Header deadline.** A request's headers must be complete within
  ``server.header_read_timeout_s`` of the connection opening, or of the first byte
  of the next request on a kept-alive connection; past it the connection is closed
  (no answer: nothing was asked yet). A connection idle between requests is closed
  after ``server.keepalive_timeout_s``. Bodies and WebSockets are not affected.
- **Connections per address.** A TCP peer may hold at most
  ``server.max_connections_per_address`` open connections (WebSockets included;
  0 = unlimited). One more is answered ``429 too_many_connections`` (a JSON error
  body, ``Connection: close``) without reading its request, and closed.

Only the TCP peer is known when a connection opens, before any header. A peer
that is one of ``server.trusted_proxies`` carries many clients' connections, so
it is not capped here (the proxy limits its own clients, and the per-address
limits of the channel and the media plane count the forwarded client address).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, cast

from aiohttp import web
from aiohttp.web_log import AccessLogger

from livecommerce.config import ServerSettings
from livecommerce.errors import ApiError, ErrorCode, error_for_status
from livecommerce.web.access_log import redacting_access_logger
from livecommerce.web.client_address import TrustedProxies, canonical_address
from livecommerce.web.headers import COMMON_HEADERS, CSP, NOTHING_POLICY

log = logging.getLogger("livecommerce.web.connections")

# A refused connection is closed this long after its answer at the latest (sooner when
# the client closes its side), so the client can read the answer before the close.
REFUSED_LINGER_S = 1.0
REFUSED_RETRY_AFTER_S = 10
RequestFactory = Callable[..., web.BaseRequest]


def refusal(error: ApiError) -> bytes:
    """The whole HTTP answer to a connection refused before its request was read."""
    body = json.dumps(error.body()).encode()
    reason = {429: "Too Many Requests", 503: "Service Unavailable"}.get(error.status, "Error")
    head = (
        f"HTTP/1.1 {error.status} {reason}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n"
        f"Retry-After: {REFUSED_RETRY_AFTER_S}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in COMMON_HEADERS.items())
        + f"{CSP}: {NOTHING_POLICY}\r\n\r\n"
    )
    return head.encode() + body


TOO_MANY_CONNECTIONS = refusal(ApiError(ErrorCode.too_many_connections))


class ConnectionGuard:
    """Counts open connections per TCP peer address and says whether one more may open."""

    def __init__(self, settings: ServerSettings, proxies: TrustedProxies) -> None:
        self.header_read_timeout_s = settings.header_read_timeout_s
        self._limit = settings.max_connections_per_address
        self._proxies = proxies
        self._open: dict[str, int] = {}

    def admit(self, address: str) -> bool:
        """Count a new connection from ``address``; False (not counted) when over the cap."""
        if self._limit == 0 or self._proxies.trusts(address):
            return True
        count = self._open.get(address, 0)
        if count >= self._limit:
            return False
        self._open[address] = count + 1
        return True

    def release(self, address: str) -> None:
        """A connection :meth:`admit` counted has closed."""
        count = self._open.get(address, 0)
        if count <= 1:
            self._open.pop(address, None)
        else:
            self._open[address] = count - 1

    def open_from(self, address: str) -> int:
        return self._open.get(address, 0)


def _peer_address(transport: asyncio.BaseTransport) -> str | None:
    """The peer's IP address; an IPv4 client of a dual-stack socket (``::ffff:a.b.c.d``)
    as its IPv4 address. None for a unix socket: no address to count."""
    peer = transport.get_extra_info("peername")
    if not (isinstance(peer, tuple) and peer and isinstance(peer[0], str)):
        return None
    return canonical_address(peer[0])


class GuardedRequestHandler(web.RequestHandler):
    """aiohttp's connection protocol with the header deadline and the per-address cap."""

    def __init__(self, manager: web.Server, *, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self._counted: str | None = None
        self._refused = False
        self._awaiting_headers = True
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        address = _peer_address(transport)
        if address is not None:
            if not self._guard.admit(address):
                self._refuse(transport, address)
                return
            self._counted = address
        super().connection_made(transport)
        self._arm_deadline()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._awaiting_headers and self._deadline is None:
            self._arm_deadline()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_deadline()
        if self._counted is not None:
            self._guard.release(self._counted)
            self._counted = None
        if not self._refused:
            super().connection_lost(exc)

    def headers_received(self) -> None:
        """A request's headers are complete: its deadline is met."""
        self._awaiting_headers = False
        self._cancel_deadline()

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        try:
            return await super().finish_response(request, resp, start_time)
        finally:
            self._awaiting_headers = True

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's answer to a request it could not parse or handle (logged by aiohttp),
        as a JSON error of the catalogue with the common headers: such a request reaches
        no app, so neither its middlewares nor its response signal."""
        super().handle_error(request, status, exc, message)
        text = "The request is not valid HTTP." if status == 400 else None
        error = ApiError(error_for_status(status), text)
        response = web.json_response(
            error.body(), status=status, headers={**COMMON_HEADERS, CSP: NOTHING_POLICY}
        )
        response.force_close()
        return response

    def _refuse(self, transport: asyncio.BaseTransport, address: str) -> None:
        self._refused = True
        log.debug("refused a connection from %s: it has too many open", address)
        # A stream transport (uvloop's is not an asyncio.Transport subclass, hence the cast).
        transport = cast(asyncio.Transport, transport)
        transport.write(TOO_MANY_CONNECTIONS)
        if transport.can_write_eof():
            transport.write_eof()
        self._deadline = asyncio.get_running_loop().call_later(REFUSED_LINGER_S, transport.close)

    def _arm_deadline(self) -> None:
        self._deadline = asyncio.get_running_loop().call_later(
            self._guard.header_read_timeout_s, self._headers_too_slow
        )

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        log.debug(
            "closed a connection whose request headers took over %s s",
            self._guard.header_read_timeout_s,
        )
        self.force_close()


class GuardedServer(web.Server):
    """aiohttp's server that makes :class:`GuardedRequestHandler` connections."""

    def __init__(
        self,
        handler: Any,
        *,
        request_factory: RequestFactory,
        guard: ConnectionGuard,
        loop: asyncio.AbstractEventLoop,
        **handler_kwargs: Any,
    ) -> None:
        super().__init__(handler, request_factory=request_factory, loop=loop, **handler_kwargs)
        self._make_request_of_app = request_factory
        self.request_factory = self._request_with_headers
        self._guard = guard
        self._handler_loop = loop
        self._handler_kwargs = handler_kwargs

    def _request_with_headers(self, *args: Any) -> web.BaseRequest:
        # aiohttp calls the request factory once a request's headers are parsed.
        protocol = args[2]
        if isinstance(protocol, GuardedRequestHandler):
            protocol.headers_received()
        return self._make_request_of_app(*args)

    def __call__(self) -> web.RequestHandler:
        return GuardedRequestHandler(
            self, guard=self._guard, loop=self._handler_loop, **self._handler_kwargs
        )


class NodeRunner(web.AppRunner):
    """The app's runner with guarded connections, the redacting access log and the
    keep-alive timeout of ``server`` settings."""

    def __init__(
        self, app: web.Application, settings: ServerSettings, proxies: TrustedProxies
    ) -> None:
        super().__init__(app, handle_signals=False, shutdown_timeout=settings.shutdown_timeout_s)
        self._guard = ConnectionGuard(settings, proxies)
        self._handler_kwargs: dict[str, Any] = {
            "access_log_class": redacting_access_logger(proxies),
            "access_log_format": AccessLogger.LOG_FORMAT,
            "keepalive_timeout": settings.keepalive_timeout_s,
        }

    @property
    def guard(self) -> ConnectionGuard:
        return self._guard

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()  # starts the app
        return GuardedServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            guard=self._guard,
            loop=asyncio.get_running_loop(),
            **self._handler_kwargs,
        )
