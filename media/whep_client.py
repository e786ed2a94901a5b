"""The HTTP side of a WHEP client (RFC 9725), for pulls between nodes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import aiohttp
from yarl import URL

from media.pull import PullError

HTTP_TIMEOUT_S: Final = 10.0
DELETE_TIMEOUT_S: Final = 3.0
# (method, url, body) -> headers proving who asks (the application signs node requests).
Signer = Callable[[str, str, bytes], Mapping[str, str]]


def _unsigned(method: str, url: str, body: bytes) -> Mapping[str, str]:
    return {}


class AiohttpWhepClient:
    """POSTs offers and DELETEs sessions with aiohttp, each signed by ``sign``."""

    def __init__(self, sign: Signer = _unsigned) -> None:
        self._sign = sign

    async def post_offer(self, url: str, offer: str) -> tuple[str, str]:
        """Returns (answer SDP, session URL); raises :class:`PullError`.

        Redirects are not followed: a node pulls only from the origin the room names.
        """
        body = offer.encode()
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)) as http,
                http.post(
                    url,
                    data=body,
                    headers={"Content-Type": "application/sdp", **self._sign("POST", url, body)},
                    allow_redirects=False,
                ) as reply,
            ):
                answer = await reply.text()
                if reply.status != 201:
                    raise PullError(f"the origin answered {reply.status}: {answer[:200]}")
                return answer, str(reply.url.join(URL(reply.headers["Location"])))
        except (aiohttp.ClientError, TimeoutError, KeyError) as exc:
            raise PullError(f"cannot reach the origin at {url}: {exc!r}") from None

    async def delete(self, session_url: str) -> None:
        """End the session (errors ignored: the origin ends it anyway when we close)."""
        try:
            async with (
                aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=DELETE_TIMEOUT_S)
                ) as http,
                http.delete(session_url, headers=dict(self._sign("DELETE", session_url, b""))),
            ):
                pass
        except (aiohttp.ClientError, TimeoutError):
            pass
