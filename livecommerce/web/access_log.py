"""The access log (logger ``aiohttp.access``), one line per request, without credentials.

A line is in the shape of aiohttp's default, with the client's address (as
``server.trusted_proxies`` tells it) and the time taken::

    203.0.113.7 "GET /ws/rooms/r1?token=REDACTED&format=json HTTP/1.1" 101 0 "-" "curl" 0.004s

The value of every query parameter whose name looks like a credential (``token``,
``secret``, ``password``, ``signature``, ``key``, ``auth``, ``credential``, ``session``…)
is replaced by ``REDACTED``, in the request line and in the ``Referer``. Browsers
cannot put headers on a WebSocket, so the channel takes its token in the query
string; it must never reach a log file. So is the session part of a WHIP/WHEP
session URL (``/whep/ROOM/REDACTED``): whoever holds a WHEP session's URL may end
it (RFC 9725).

Each line also carries its parts as ``extra=`` fields (``client``, ``method``,
``path``, ``status``, ``bytes``, ``duration_s``, ``referer``, ``user_agent``),
redacted the same way, which ``log.format = "json"`` writes as fields of their own.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from livecommerce.web.client_address import TrustedProxies

REDACTED = "REDACTED"
# Parameter names (any case, anywhere in the name) whose values are credentials.
CREDENTIAL_NAME = re.compile(r"token|secret|passw|pwd|sig|key|auth|cred|session|jwt", re.I)
PAIR_SEPARATOR = re.compile(r"([&;])")
SESSION_PATH = re.compile(r"^(/(?:whip|whep)/[^/?#]+/)[^/?#]+")


def redact_query(query: str) -> str:
    """``query`` (raw, percent-encoded) with credential-like values replaced.

    Pairs are split at ``;`` as well as ``&``: some parsers split there, so a value
    hidden behind a ``;`` is treated as a parameter of its own.
    """
    parts = PAIR_SEPARATOR.split(query)
    for index in range(0, len(parts), 2):
        name, equals, _ = parts[index].partition("=")
        if equals and CREDENTIAL_NAME.search(unquote_plus(name)):
            parts[index] = f"{name}={REDACTED}"
    return "".join(parts)


def redact_target(target: str) -> str:
    """A request target with its media session id and its query redacted
    (:func:`redact_query`); a full URL (a ``Referer``) keeps its path."""
    head, question, query = target.partition("?")
    head = SESSION_PATH.sub(rf"\g<1>{REDACTED}", head)
    if not question:
        return head
    query, hash_, fragment = query.partition("#")
    return f"{head}?{redact_query(query)}{hash_}{fragment}"


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def redacting_access_logger(proxies: TrustedProxies) -> type[AbstractAccessLogger]:
    """The access logger class for a node that trusts ``proxies``' forwarded-for headers."""

    class RedactingAccessLogger(AbstractAccessLogger):
        """One line per request (see the module's docstring); credentials never logged."""

        @property
        def enabled(self) -> bool:
            return self.logger.isEnabledFor(logging.INFO)

        def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
            client = proxies.client_of(
                request.remote, request.headers.getall("X-Forwarded-For", [])
            )
            version = f"HTTP/{request.version.major}.{request.version.minor}"
            target = redact_target(request.path_qs)
            line = f"{request.method} {target} {version}"
            referer = redact_target(request.headers.get("Referer", "-"))
            agent = request.headers.get("User-Agent", "-")
            fields = {
                "client": client,
                "method": request.method,
                "path": target,
                "status": response.status,
                "bytes": response.body_length,
                "duration_s": round(time, 6),
                "referer": referer,
                "user_agent": agent,
            }
            self.logger.info(
                '%s "%s" %s %s "%s" "%s" %.3fs',
                client,
                _quoted(line),
                response.status,
                response.body_length,
                _quoted(referer),
                _quoted(agent),
                time,
                extra=fields,
            )

    return RedactingAccessLogger
