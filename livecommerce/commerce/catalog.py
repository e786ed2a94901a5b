"""Products of a room and the one pinned for every viewer."""

from __future__ import annotations

import secrets
from dataclasses import replace

from livecommerce.commerce.models import Product
from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode


class Catalog:
    def __init__(self, *, store: StoreContext) -> None:
        self._client = store.client
        self._keys = store.keys
        self._bus = store.bus

    async def add(
        self,
        room_id: str,
        sku: str,
        title: str,
        price_cents: int,
        currency: str,
        image_url: str | None,
    ) -> Product:
        product = Product(
            f"p_{secrets.token_hex(5)}", room_id, sku, title, price_cents, currency, image_url
        )
        await self._client.hset(self._keys.products(room_id), product.id, product.dumps())
        return product

    async def set_image(self, room_id: str, product_id: str, image_url: str) -> Product:
        """The product with its ``image_url`` replaced (products change in no other way)."""
        product = replace(await self.get(room_id, product_id), image_url=image_url)
        await self._client.hset(self._keys.products(room_id), product.id, product.dumps())
        return product

    async def find(self, room_id: str, product_id: str) -> Product | None:
        raw = await self._client.hget(self._keys.products(room_id), product_id)
        return Product.loads(raw) if raw else None

    async def get(self, room_id: str, product_id: str) -> Product:
        product = await self.find(room_id, product_id)
        if product is None:
            raise ApiError(ErrorCode.product_not_found, f"No product {product_id!r} in this room.")
        return product

    async def list(self, room_id: str) -> list[Product]:
        raw = await self._client.hvals(self._keys.products(room_id))
        return sorted((Product.loads(r) for r in raw), key=lambda p: p.id)

    async def pin(self, room_id: str, product_id: str) -> Product:
        """Pin the product and show it to every viewer at once."""
        product = await self.get(room_id, product_id)
        await self._client.set(self._keys.pinned_product(room_id), product.id)
        await self._bus.publish(room_id, {"type": "product_pinned", "product": product.to_json()})
        return product

    async def pinned(self, room_id: str) -> Product | None:
        product_id = await self._client.get(self._keys.pinned_product(room_id))
        if not product_id:
            return None
        return await self.find(
            room_id, product_id.decode() if isinstance(product_id, bytes) else product_id
        )
