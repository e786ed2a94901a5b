"""What WHIP and WHEP share over HTTP (RFC 9725): SDP bodies and session answers
(their CORS is :mod:`livecommerce.web.cors`)."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from livecommerce.config import MediaSettings
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.live.service import SessionAnswer

SDP: Final = "application/sdp"
SDP_FRAGMENT: Final = "application/trickle-ice-sdpfrag"


async def read_text_body(request: web.Request, content_type: str, what: str) -> str:
    """The body as text when its Content-Type is ``content_type``; 415/400 otherwise."""
    if request.content_type != content_type:
        raise ApiError(
            ErrorCode.unsupported_media_type,
            f"Send Content-Type: {content_type}, not {request.content_type or 'none'!r}.",
        )
    raw = await request.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        code = ErrorCode.invalid_sdp if content_type == SDP else ErrorCode.invalid_sdp_fragment
        raise ApiError(code, f"The {what} is not UTF-8 text.") from None
    if not text.strip():
        code = ErrorCode.invalid_sdp if content_type == SDP else ErrorCode.invalid_sdp_fragment
        raise ApiError(code, f"The request body is empty; send the {what}.")
    return text


def etag_of(session_id: str) -> str:
    return f'"{session_id}"'


def check_if_match(request: web.Request, session_id: str) -> None:
    """Trickle PATCHes name the session's ETag (RFC 9725 §4.3.1); ``*`` matches any."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = {tag.strip() for tag in header.split(",")}
    if "*" not in tags and etag_of(session_id) not in tags:
        raise ApiError(ErrorCode.precondition_failed)


def ice_server_links(media: MediaSettings) -> list[str]:
    """``Link`` values announcing the configured ICE servers (RFC 9725 §4.6)."""
    links = []
    for server in media.ice_servers:
        for url in server.urls:
            link = f'<{url}>; rel="ice-server"'
            if server.username is not None:
                link += f'; username="{server.username}"'
            if server.credential is not None:
                link += f'; credential="{server.credential}"; credential-type="password"'
            links.append(link)
    return links


def session_created(answer: SessionAnswer, location: str, media: MediaSettings) -> web.Response:
    """201 with the answer, its Location and ETag, and how to trickle."""
    response = web.Response(
        status=201,
        text=answer.answer,
        content_type=SDP,
        headers={
            "Location": location,
            "ETag": etag_of(answer.session_id),
            "Accept-Patch": SDP_FRAGMENT,
        },
    )
    for link in ice_server_links(media):
        response.headers.add("Link", link)
    return response


def preflight(media: MediaSettings) -> web.Response:
    """The answer to OPTIONS on a WHIP/WHEP endpoint."""
    response = web.Response(status=204, headers={"Accept-Post": SDP})
    for link in ice_server_links(media):
        response.headers.add("Link", link)
    return response
