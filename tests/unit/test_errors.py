"""The error catalogue and the API error body."""

from __future__ import annotations

import json
import re

import pytest

from livecommerce.errors import ApiError, ErrorCode, error_for_status

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda code: code.name)
def test_every_code_answers_with_a_4xx_or_5xx_status(code: ErrorCode) -> None:
    assert 400 <= code.spec.status <= 599


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda code: code.name)
def test_every_code_has_a_websocket_close_code_in_range(code: ErrorCode) -> None:
    assert 1000 <= code.spec.close_code <= 4999


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda code: code.name)
def test_every_code_has_a_sentence_ending_in_a_full_stop(code: ErrorCode) -> None:
    message = code.spec.message
    assert message.strip() == message
    assert message[:1].isupper()
    assert message.endswith(".")


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda code: code.name)
def test_every_code_name_is_snake_case(code: ErrorCode) -> None:
    assert SNAKE_CASE.match(code.name), code.name


def test_no_code_is_an_alias_of_another() -> None:
    # Two entries with identical specs would make the second an Enum alias that reports
    # the first one's name to clients.
    assert list(ErrorCode.__members__) == [code.name for code in ErrorCode]


def test_api_error_body_has_code_and_default_message() -> None:
    error = ApiError(ErrorCode.room_not_found)

    assert error.body() == {"error": {"code": "room_not_found", "message": "No such room."}}
    assert error.status == 404


def test_api_error_custom_message_replaces_the_default() -> None:
    error = ApiError(ErrorCode.invalid_field, "title must be 1-140 characters.")

    assert error.body() == {
        "error": {"code": "invalid_field", "message": "title must be 1-140 characters."}
    }
    assert error.message == "title must be 1-140 characters."


def test_api_error_details_are_added_beside_code_and_message() -> None:
    error = ApiError(ErrorCode.invalid_field, field="title", max_chars=140)

    assert error.body() == {
        "error": {
            "code": "invalid_field",
            "message": "A field has a bad value.",
            "field": "title",
            "max_chars": 140,
        }
    }


def test_api_error_body_is_json_serialisable() -> None:
    body = ApiError(ErrorCode.rate_limited, retry_after_s=2).body()

    assert json.loads(json.dumps(body)) == body


def test_api_error_str_names_the_code_and_message() -> None:
    error = ApiError(ErrorCode.token_expired)

    assert str(error) == "token_expired: The token has expired."


def test_api_error_headers_default_to_empty_and_stay_out_of_the_body() -> None:
    assert ApiError(ErrorCode.unauthorized).headers == {}
    error = ApiError(ErrorCode.rate_limited, headers={"Retry-After": "2"})
    assert error.headers == {"Retry-After": "2"}
    assert "Retry-After" not in error.body()["error"]


@pytest.mark.parametrize("status", [400, 404, 405, 413, 415, 429, 503])
def test_framework_status_maps_to_a_code_with_that_status(status: int) -> None:
    assert error_for_status(status).spec.status == status


@pytest.mark.parametrize("status", [418, 500, 502])
def test_unmapped_framework_status_is_internal_error(status: int) -> None:
    assert error_for_status(status) is ErrorCode.internal_error
