"""An unknown field in a JSON body is named, with what the endpoint takes instead —
or that it takes none (`POST /api/rooms/{room}/impressions` takes an empty body or `{}`)."""

from __future__ import annotations

import pytest

from livecommerce.errors import ApiError, ErrorCode
from livecommerce.web.body import reject_unknown


def refusal(body: dict[str, object], allowed: set[str]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        reject_unknown(body, allowed)
    assert caught.value.code is ErrorCode.unknown_field
    return caught.value


def test_the_unknown_field_and_the_known_ones_are_named() -> None:
    error = refusal({"title": "t", "zz": 1, "aa": 2}, {"title", "quantity"})
    assert error.message == "Unknown field 'aa'; this endpoint takes: quantity, title."
    assert error.details == {"field": "aa"}


def test_an_endpoint_that_takes_no_fields_says_so() -> None:
    error = refusal({"room": "other"}, set())
    assert error.message == "Unknown field 'room'; this endpoint takes no fields."


def test_known_fields_pass() -> None:
    reject_unknown({"title": "t"}, {"title"})
    reject_unknown({}, set())
