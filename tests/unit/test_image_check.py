"""The image checker on real files and on garbage: every answer is an ImageInfo or an
ImageError, never another exception."""

from __future__ import annotations

import contextlib
import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecommerce.commerce.image_check import PNG_SIGNATURE, ImageError, inspect_image
from tests import image_samples as samples

PREFIXES = [PNG_SIGNATURE, b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WEBP", b""]


@functools.cache
def real_images() -> tuple[bytes, ...]:
    return samples.png(), samples.jpeg(), samples.webp()


@pytest.mark.parametrize(
    ("make", "kind"), [(samples.png, "png"), (samples.jpeg, "jpeg"), (samples.webp, "webp")]
)
def test_real_images_give_their_kind_and_size(make: object, kind: str) -> None:
    assert callable(make)
    info = inspect_image(make(96, 40))
    assert (info.kind, info.width, info.height) == (kind, 96, 40)


@settings(max_examples=300, deadline=None)
@given(prefix=st.sampled_from(PREFIXES), tail=st.binary(max_size=300))
def test_garbage_after_a_signature_is_an_image_error(prefix: bytes, tail: bytes) -> None:
    with contextlib.suppress(ImageError):  # any other exception fails the test
        inspect_image(prefix + tail)


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0, max_value=4000), flip=st.integers(min_value=0, max_value=255))
def test_cut_or_damaged_real_images_are_refused_cleanly(cut: int, flip: int) -> None:
    for image in real_images():
        at = cut % len(image)
        for damaged in (
            image[:at],
            image[:at] + bytes([image[at] ^ (flip or 1)]) + image[at + 1 :],
        ):
            with contextlib.suppress(ImageError):
                inspect_image(damaged)
