"""Product images: the anchor's upload and the files, served as immutable.

``POST /api/rooms/{room}/products/{product}/image`` takes the image itself as
the body (``Content-Type`` image/png, image/jpeg, image/webp or
application/octet-stream; the kind is decided by the bytes, never by the
header). ``GET /images/{name}`` serves a stored file: its name is its SHA-256,
so it never changes and is cached for a year (``immutable``, with an ETag).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from livecommerce.auth import Role
from livecommerce.commerce.image_store import ImageStore
from livecommerce.commerce.product_images import ImageLimits, ProductImages
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.web.access import admits, admits_anyone, caller
from livecommerce.web.commerce import own_open_room
from livecommerce.web.rate import KeyedBuckets
from livecommerce.web.state import CATALOG, SETTINGS

PRODUCT_IMAGES = web.AppKey("product_images", ProductImages)
UPLOAD_LIMITER = web.AppKey("image_upload_limiter", KeyedBuckets)
UPLOAD_TYPES = {"image/png", "image/jpeg", "image/webp", "application/octet-stream"}
IMMUTABLE = "public, max-age=31536000, immutable"
READ_CHUNK = 65_536
MAX_PRODUCT_ID_CHARS = 64


async def read_limited(request: web.Request, max_bytes: int) -> bytes:
    """The body, refused with 413 as soon as it is known to pass ``max_bytes``."""
    too_large = ApiError(ErrorCode.body_too_large, f"An image may have at most {max_bytes} bytes.")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(READ_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


@admits(Role.anchor)
async def upload_image(request: web.Request) -> web.Response:
    """Check, store and attach an image to a product of the caller's room: the product."""
    room = await own_open_room(request)
    product_id = request.match_info["product"]
    if len(product_id) > MAX_PRODUCT_ID_CHARS:
        raise ApiError(ErrorCode.product_not_found)
    if request.content_type not in UPLOAD_TYPES:
        raise ApiError(
            ErrorCode.unsupported_media_type,
            "Send the image itself with Content-Type image/png, image/jpeg or image/webp.",
        )
    limiter = request.app.get(UPLOAD_LIMITER)
    if limiter is not None and not limiter.take(caller(request).user):
        raise ApiError(ErrorCode.rate_limited, "Too many image uploads; wait a minute.")
    images = request.app[PRODUCT_IMAGES]
    data = await read_limited(request, images.limits.max_bytes)
    product = await images.attach(room.id, product_id, data)
    return web.json_response(product.to_json())


@admits_anyone
async def image_file(request: web.Request) -> web.StreamResponse:
    """A stored image, cached for good (its name is its content's hash)."""
    name = request.match_info["name"]
    store = request.app[PRODUCT_IMAGES].store
    path = store.path(name)
    if path is None:
        raise ApiError(ErrorCode.not_found, "No such image.")
    etag = f'"{name.split(".")[0]}"'
    headers = {"Content-Type": store.content_type(name), "Cache-Control": IMMUTABLE, "ETag": etag}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.FileResponse(path, headers=headers)


def images_directory(data_dir: str, configured: str) -> Path:
    return Path(configured) if configured else Path(data_dir) / "images"


async def _build(app: web.Application) -> None:
    settings = app[SETTINGS]
    images = settings.images
    store = ImageStore(images_directory(settings.store.data_dir, images.dir))
    limits = ImageLimits(images.max_bytes, images.max_width, images.max_height)
    app[PRODUCT_IMAGES] = ProductImages(catalog=app[CATALOG], store=store, limits=limits)
    if images.uploads_per_minute > 0:
        per_minute = images.uploads_per_minute
        app[UPLOAD_LIMITER] = KeyedBuckets(per_minute, per_minute / 60)


def add_routes(app: web.Application) -> None:
    app.on_startup.append(_build)
    app.router.add_post("/api/rooms/{room}/products/{product}/image", upload_image)
    app.router.add_get("/images/{name}", image_file)
