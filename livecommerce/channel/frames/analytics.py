"""The frames of seller analytics: ``view_product`` (a viewer opened a product card)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from livecommerce.channel.frame_types import STR, ClientFrame, ServerFrame
from livecommerce.channel.frame_types import field as _f
from livecommerce.channel.text import is_printable_identifier
from livecommerce.channel.wire import ProtocolError

MAX_PRODUCT_CHARS = 64

SERVER_FRAMES: tuple[ServerFrame, ...] = ()

CLIENT_FRAMES: tuple[ClientFrame, ...] = (
    ClientFrame(
        name="view_product",
        when="a viewer opened or tapped a product card (anonymous viewers too); counted "
        "as a product view for the room's analytics, at most `analytics.views_burst` at "
        "once then `analytics.views_per_s` a second per socket; no answer unless refused",
        fields=(_f("product", STR, "the product's id (one of the room's products)"),),
    ),
)


@dataclass(frozen=True)
class ViewProduct:
    product: str


def parse_view_product(frame: Mapping[str, object]) -> ViewProduct:
    """A ``view_product`` frame's product id, checked; :class:`ProtocolError` otherwise."""
    product = frame.get("product")
    if product is None:
        raise ProtocolError("missing_field", "'view_product' needs a 'product' field.")
    if not isinstance(product, str) or not is_printable_identifier(product, MAX_PRODUCT_CHARS):
        raise ProtocolError(
            "invalid_field",
            f"'product' of 'view_product' must be 1 to {MAX_PRODUCT_CHARS} printable characters.",
        )
    return ViewProduct(product)
