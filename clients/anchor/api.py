"""The anchor's calls to the HTTP API: products, pin, sales, room stats."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp

HTTP_TIMEOUT_S = 10.0


class AnchorApiError(Exception):
    """The server refused a call (``code``/``message`` from its error body) or was unreachable."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class AnchorApi:
    """One room's commerce endpoints, called with the anchor's token."""

    def __init__(self, http: aiohttp.ClientSession, server: str, token: str, room: str) -> None:
        self._http = http
        self._server = server.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._room_path = f"/api/rooms/{quote(room, safe='')}"

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
    ) -> Any:
        headers = dict(self._headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        try:
            async with self._http.request(
                method,
                self._server + path,
                json=body,
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S),
            ) as response:
                text = await response.text()
                if response.status >= 400:
                    raise _failure(response.status, text)
                return json.loads(text or "{}")
        except (aiohttp.ClientError, TimeoutError) as error:
            reason = str(error) or type(error).__name__
            raise AnchorApiError(
                0, "unreachable", f"cannot reach {self._server}: {reason}"
            ) from None
        except ValueError:
            raise AnchorApiError(0, "bad_answer", "the server's answer is not JSON") from None

    async def products(self) -> list[dict[str, Any]]:
        answer = await self._call("GET", f"{self._room_path}/products")
        return list(answer["products"])

    async def add_product(
        self, sku: str, title: str, price_cents: int, currency: str
    ) -> dict[str, Any]:
        body = {"sku": sku, "title": title, "price_cents": price_cents, "currency": currency}
        return dict(await self._call("POST", f"{self._room_path}/products", body))

    async def pin(self, product_id: str) -> dict[str, Any]:
        answer = await self._call("POST", f"{self._room_path}/pin", {"product_id": product_id})
        return dict(answer["pinned_product"])

    async def start_sale(self, terms: dict[str, Any]) -> dict[str, Any]:
        return dict(await self._call("POST", f"{self._room_path}/sales", terms))

    async def stop_sale(self, sale_id: str) -> dict[str, Any]:
        path = f"{self._room_path}/sales/{quote(sale_id, safe='')}/stop"
        return dict(await self._call("POST", path))

    async def sale(self, sale_id: str) -> dict[str, Any]:
        return dict(await self._call("GET", f"{self._room_path}/sales/{quote(sale_id, safe='')}"))

    async def format_call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A voucher, auction or giveaway call: ``path`` below the room, or from ``/api/``."""
        full = path if path.startswith("/api/") else self._room_path + path
        return dict(await self._call(method, full, body or None))

    async def stats(self) -> dict[str, Any]:
        return dict(await self._call("GET", f"{self._room_path}/stats"))

    async def upload_image(self, product_id: str, image: bytes) -> dict[str, Any]:
        """Send an image for a product (the server decides its kind by its bytes)."""
        path = f"{self._room_path}/products/{quote(product_id, safe='')}/image"
        return dict(
            await self._call("POST", path, data=image, content_type="application/octet-stream")
        )

    async def media(self) -> dict[str, Any]:
        return dict(await self._call("GET", f"{self._room_path}/media"))

    async def moderate(self, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        path = f"{self._room_path}/moderation/{quote(action, safe='')}"
        return dict(await self._call("POST", path, body or {}))

    async def delete_message(self, message_id: str) -> dict[str, Any]:
        path = f"{self._room_path}/messages/{quote(message_id, safe='')}"
        return dict(await self._call("DELETE", path))


def _failure(status: int, text: str) -> AnchorApiError:
    try:
        error = json.loads(text)["error"]
        return AnchorApiError(status, str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        return AnchorApiError(status, "http_error", f"HTTP {status}: {text.strip()[:200]}")
