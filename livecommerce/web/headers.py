"""Headers every response carries, and the Content-Security-Policy of the pages.

Every response (API, pages, files, errors, WebSocket upgrades) gets:

- ``Server: livecommerce``: no framework or Python version for a scanner to match;
- ``X-Content-Type-Options: nosniff``: a body is only ever what its type says;
- ``Referrer-Policy: no-referrer``: room URLs never leak to image hosts;
- a Content-Security-Policy: the pages' own (:func:`page_policy`), set by their
  handlers; anything else gets :data:`NOTHING_POLICY`, so an API answer or a file
  opened as a document can neither run nor load anything, nor be framed.
"""

from __future__ import annotations

from aiohttp import web

from livecommerce.config import ServerSettings

SERVER = "livecommerce"
REFERRER_POLICY = "no-referrer"
CSP = "Content-Security-Policy"
NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

PAGE_POLICY = web.AppKey("page_policy", str)


def page_policy(settings: ServerSettings) -> str:
    """The pages' policy: scripts, styles and fonts from this node only, nothing inline.

    Images may come from any http(s) host (covers and product images are URLs
    anchors give). The pages talk to this node (REST, WHEP, the channel's
    WebSocket; CSP Level 3's ``'self'`` covers ws:/wss: of the same host) and to
    ``server.connect_origins`` (other nodes a WHEP answer may redirect to).
    WebRTC media needs no source: ``srcObject`` is not fetched; HLS (replays, the
    live fallback) plays through Media Source Extensions, a ``blob:`` URL. Who may frame
    the pages is :func:`frame_ancestors`.
    """
    connect = " ".join(["'self'", *settings.connect_origins])
    ancestors = " ".join(frame_ancestors(settings))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' http: https:; media-src 'self' blob:; "
        f"connect-src {connect}; base-uri 'none'; form-action 'self'; object-src 'none'; "
        f"frame-ancestors {ancestors}"
    )


def frame_ancestors(settings: ServerSettings) -> list[str]:
    """``server.frame_ancestors`` and the sites of ``server.cors_origins`` (a site that may
    embed the SDK may also frame a room), unless framing is off (``'none'``)."""
    sources = list(settings.frame_ancestors)
    if sources == ["'none'"]:
        return sources
    return sources + [origin for origin in settings.cors_origins if origin not in sources]


# Sent on every response; a response without a policy of its own also gets NOTHING_POLICY.
COMMON_HEADERS = {
    "Server": SERVER,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": REFERRER_POLICY,
}


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(COMMON_HEADERS)
    response.headers.setdefault(CSP, NOTHING_POLICY)


def add_headers(app: web.Application, settings: ServerSettings) -> None:
    """Compute the pages' policy once and add the common headers to every response."""
    app[PAGE_POLICY] = page_policy(settings)
    app.on_response_prepare.append(_add_headers)
