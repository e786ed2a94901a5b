"""The HTTP side of a WHEP client (RFC 9725), for pulls between nodes."""

from __future__ import annotations

from typing import Final

import aiohttp
from yarl import URL

from media.pull import PullError

HTTP_TIMEOUT_S: Final = 10.0
DELETE_TIMEOUT_S: Final = 3.0


class AiohttpWhepClient:
    """POSTs offers and DELETEs sessions with aiohttp."""

    async def post_offer(self, url: str, offer: str) -> tuple[str, str]:
        """Returns (answer SDP, session URL); raises :class:`PullError`."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)) as http,
                http.post(
                    url, data=offer.encode(), headers={"Content-Type": "application/sdp"}
                ) as reply,
            ):
                body = await reply.text()
                if reply.status != 201:
                    raise PullError(f"the origin answered {reply.status}: {body[:200]}")
                return body, str(reply.url.join(URL(reply.headers["Location"])))
        except (aiohttp.ClientError, TimeoutError, KeyError) as exc:
            raise PullError(f"cannot reach the origin at {url}: {exc!r}") from None

    async def delete(self, session_url: str) -> None:
        """End the session (errors ignored: the origin ends it anyway when we close)."""
        try:
            async with (
                aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=DELETE_TIMEOUT_S)
                ) as http,
                http.delete(session_url),
            ):
                pass
        except (aiohttp.ClientError, TimeoutError):
            pass
