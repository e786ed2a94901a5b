"""Product image uploads: only whole PNG, JPEG and WebP files, within limits, by the room's
anchor; files served as immutable images. Each refusal is a JSON error from the catalogue."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from tests import image_samples as samples
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster

MAX_BYTES = 60_000
MAX_SIDE = 1000
UPLOADS_PER_MINUTE = 8


@pytest.fixture
async def site(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    images = {
        "max_bytes": MAX_BYTES,
        "max_width": MAX_SIDE,
        "max_height": MAX_SIDE,
        "uploads_per_minute": UPLOADS_PER_MINUTE,
    }
    sections = {"images": images}
    async for cluster in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections
    ):
        yield cluster


async def product(site: Cluster, anchor: str = "alice") -> tuple[str, str]:
    room = await site.room(anchor=anchor)
    body = {"sku": "TEA-1", "title": "Oolong", "price_cents": 1800, "currency": "EUR"}
    status, answer = await site.api(
        "POST", f"/api/rooms/{room}/products", site.token("anchor", anchor), body
    )
    assert status == 201, answer
    return room, str(answer["id"])


async def upload(
    site: Cluster,
    room: str,
    product_id: str,
    data: Any,
    token: str | None,
    content_type: str = "image/png",
) -> tuple[int, Any]:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = f"{site.urls[0]}/api/rooms/{room}/products/{product_id}/image"
    async with site.http.post(url, data=data, headers=headers) as response:
        return response.status, await response.json()


def error_code(answer: Any) -> str:
    return str(answer["error"]["code"])


@pytest.mark.parametrize(
    ("make", "kind", "extension"),
    [(samples.png, "image/png", "png"), (samples.jpeg, "image/jpeg", "jpg"),
     (samples.webp, "image/webp", "webp")],
)  # fmt: skip
async def test_an_image_is_stored_named_on_the_product_and_served_immutable(
    site: Cluster, tmp_path: Path, make: Any, kind: str, extension: str
) -> None:
    room, product_id = await product(site)
    data = make()
    # The declared type is not what decides: octet-stream works as well.
    status, answer = await upload(
        site, room, product_id, data, site.token("anchor", "alice"), "application/octet-stream"
    )
    assert status == 200, answer
    name = f"{hashlib.sha256(data).hexdigest()}.{extension}"
    assert answer["image_url"] == f"/images/{name}"
    assert (tmp_path / "images" / name).read_bytes() == data

    status, listed = await site.api("GET", f"/api/rooms/{room}/products", node=1)
    assert [p["image_url"] for p in listed["products"]] == [f"/images/{name}"]

    async with site.http.get(site.urls[0] + answer["image_url"]) as response:
        assert response.status == 200
        assert await response.read() == data
        assert response.headers["Content-Type"] == kind
        assert "immutable" in response.headers["Cache-Control"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        etag = response.headers["ETag"]
    headers = {"If-None-Match": etag}
    async with site.http.get(site.urls[0] + answer["image_url"], headers=headers) as response:
        assert response.status == 304


HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
ZIP = b"PK\x03\x04" + b"\x14\x00" * 10 + b"evil.js" + b"PK\x05\x06" + b"\x00" * 18


def refused_files() -> list[tuple[str, bytes, str, str]]:
    """(case, body, Content-Type, the words the refusal's message must contain)."""
    png, jpeg, webp = samples.png(), samples.jpeg(), samples.webp()
    jpeg_comment = jpeg[:2] + b"\xff\xfe" + (len(HTML) + 2).to_bytes(2, "big") + HTML + jpeg[2:]
    riff_grown = webp[:4] + (len(webp) - 8 + len(HTML)).to_bytes(4, "little") + webp[8:] + HTML
    return [
        ("html as png", HTML, "image/png", "not a PNG, JPEG or WebP"),
        ("gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/png", "not a PNG, JPEG or WebP"),
        ("empty", b"", "image/png", "not a PNG, JPEG or WebP"),
        ("truncated png", png[: len(png) // 2], "image/png", "PNG"),
        ("png with a bad crc", png[:-5] + bytes([png[-5] ^ 1]) + png[-4:], "image/png", "CRC"),
        ("png + zip", png + ZIP, "image/png", "follow the PNG"),
        ("png + html", png + HTML, "image/png", "follow the PNG"),
        ("png with a script chunk", samples.png_with_chunk(png, b"tEXt", b"c\x00<script>1"),
         "image/png", "<script"),
        ("jpeg + html", jpeg + HTML, "image/jpeg", "follow the JPEG"),
        ("jpeg with an html comment", jpeg_comment, "image/jpeg", "<!doctype"),
        ("truncated jpeg", jpeg[: len(jpeg) - 40], "image/jpeg", "JPEG"),
        ("webp + html", webp + HTML, "image/webp", "WebP says"),
        ("webp with an html chunk", riff_grown, "image/webp", "WebP"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "body", "content_type", "words"), refused_files(), ids=lambda v: str(v)[:24]
)
async def test_files_that_are_not_a_whole_image_are_refused(
    site: Cluster, tmp_path: Path, case: str, body: bytes, content_type: str, words: str
) -> None:
    room, product_id = await product(site)
    status, answer = await upload(
        site, room, product_id, body, site.token("anchor", "alice"), content_type
    )
    assert (status, error_code(answer)) == (400, "image_invalid"), (case, answer)
    assert words in answer["error"]["message"], (case, answer)
    assert not (tmp_path / "images").exists() or not any((tmp_path / "images").iterdir())
    status, listed = await site.api("GET", f"/api/rooms/{room}/products")
    assert listed["products"][0]["image_url"] is None


@pytest.mark.parametrize(
    "content_type",
    ["image/svg+xml", "text/html", "application/json", "multipart/form-data; boundary=x"],
)
async def test_other_content_types_are_refused_before_reading(
    site: Cluster, content_type: str
) -> None:
    room, product_id = await product(site)
    status, answer = await upload(
        site, room, product_id, samples.png(), site.token("anchor", "alice"), content_type
    )
    assert (status, error_code(answer)) == (415, "unsupported_media_type")


async def test_oversize_uploads_are_refused_declared_or_streamed(site: Cluster) -> None:
    room, product_id = await product(site)
    token = site.token("anchor", "alice")
    big = samples.png_with_chunk(samples.png(), b"zzZz", b"\x00" * MAX_BYTES)
    status, answer = await upload(site, room, product_id, big, token)
    assert (status, error_code(answer)) == (413, "body_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while reading
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    status, answer = await upload(site, room, product_id, chunks(), token)
    assert (status, error_code(answer)) == (413, "body_too_large")


async def test_images_past_the_dimensions_are_refused(site: Cluster) -> None:
    room, product_id = await product(site)
    token = site.token("anchor", "alice")
    for wide in (samples.png(MAX_SIDE + 1, 8), samples.jpeg(16, MAX_SIDE + 8)):
        status, answer = await upload(site, room, product_id, wide, token, "image/jpeg")
        assert (status, error_code(answer)) == (422, "image_dimensions")
    status, _ = await upload(site, room, product_id, samples.png(MAX_SIDE, 8), token)
    assert status == 200


async def test_only_the_rooms_anchor_may_upload_to_its_own_products(site: Cluster) -> None:
    room, product_id = await product(site, "alice")
    other_room, other_product = await product(site, "bob")
    data = samples.png()
    cases = [
        (None, room, product_id, 401, "unauthorized"),
        (site.token("viewer", "carol"), room, product_id, 403, "forbidden_role"),
        (site.token("moderator", "mo"), room, product_id, 403, "forbidden_role"),
        (site.token("anchor", "bob"), room, product_id, 403, "not_your_room"),
        (site.token("anchor", "alice", room=other_room), room, product_id, 403, "not_your_room"),
        (site.token("anchor", "alice"), room, other_product, 404, "product_not_found"),
        (site.token("anchor", "alice"), room, "p_" + "x" * 200, 404, "product_not_found"),
        (site.token("anchor", "alice"), "nosuchroom", product_id, 404, "room_not_found"),
    ]
    for token, target_room, target_product, want_status, want_code in cases:
        status, answer = await upload(site, target_room, target_product, data, token)
        assert (status, error_code(answer)) == (want_status, want_code), (token, answer)
    status, listed = await site.api("GET", f"/api/rooms/{other_room}/products")
    assert listed["products"][0]["image_url"] is None


async def test_uploads_per_user_are_rate_limited(site: Cluster) -> None:
    room, product_id = await product(site)
    token = site.token("anchor", "alice")
    statuses = [
        (await upload(site, room, product_id, samples.png(8 + i, 8), token))[0]
        for i in range(UPLOADS_PER_MINUTE + 1)
    ]
    assert statuses == [200] * UPLOADS_PER_MINUTE + [429]


@pytest.mark.parametrize(
    "name",
    ["../config.toml", "..%2f..%2fetc%2fpasswd", "a" * 64 + ".png", "A" * 64 + ".png",
     "0" * 64 + ".svg", "0" * 64 + ".png%00.html", "0" * 64 + ".png%0a", ".upload-x"],
)  # fmt: skip
async def test_only_stored_image_names_are_served(site: Cluster, name: str) -> None:
    async with site.http.get(f"{site.urls[0]}/images/{name}") as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] in ("not_found",)
