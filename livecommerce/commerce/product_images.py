"""An anchor's image for a product: checked by content, stored, named on the product."""

from __future__ import annotations

from dataclasses import dataclass

from livecommerce.commerce.catalog import Catalog
from livecommerce.commerce.image_check import ImageError, inspect_image
from livecommerce.commerce.image_store import ImageStore
from livecommerce.commerce.models import Product
from livecommerce.errors import ApiError, ErrorCode


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_width: int
    max_height: int


class ProductImages:
    """Checks an upload (kind by its bytes, whole structure, no polyglot, dimensions),
    stores it and sets the product's ``image_url``. The size limit is the caller's to
    apply while reading (a body is never read past ``limits.max_bytes``)."""

    def __init__(self, *, catalog: Catalog, store: ImageStore, limits: ImageLimits) -> None:
        self._catalog = catalog
        self.store = store
        self.limits = limits

    async def attach(self, room_id: str, product_id: str, data: bytes) -> Product:
        await self._catalog.get(room_id, product_id)  # 404 before any work on the file
        try:
            info = inspect_image(data)
        except ImageError as error:
            raise ApiError(ErrorCode.image_invalid, f"Not accepted: {error}.") from None
        if info.width > self.limits.max_width or info.height > self.limits.max_height:
            raise ApiError(
                ErrorCode.image_dimensions,
                f"The image is {info.width}×{info.height} pixels; the most is "
                f"{self.limits.max_width}×{self.limits.max_height}.",
            )
        name = await self.store.save(data, info)
        return await self._catalog.set_image(room_id, product_id, self.store.url(name))
