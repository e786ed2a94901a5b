"""The bad inputs kept as data files load whole, and name real wire formats and codes."""

from __future__ import annotations

from livecommerce.errors import ErrorCode
from tests.bad_inputs import DATA, bodies, frames


def test_every_bad_frame_names_a_wire_format_and_a_catalogue_code() -> None:
    loaded = [f for path in (DATA / "channel").glob("*.txt") for f in frames(path.name)]
    assert len(loaded) >= 18
    for frame in loaded:
        assert frame.wire in ("json", "msgpack"), frame.what
        assert frame.code in ErrorCode.__members__, frame.what
        assert frame.data, frame.what


def test_every_bad_body_names_a_content_type() -> None:
    loaded = bodies("bad_bodies.txt")
    assert len(loaded) >= 10
    assert {b.content_type for b in loaded} == {"application/json", "application/sdp", "text/plain"}
    assert len({b.what for b in loaded}) == len(loaded)
