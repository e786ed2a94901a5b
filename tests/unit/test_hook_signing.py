"""Webhook signing, event parsing, endpoints and retry timing: pure functions."""

from __future__ import annotations

import ast
import base64
import email.utils
import json
import re
import time
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from livecommerce.config import EndpointConfig
from livecommerce.hooks.delivery import backoff_delay, parse_retry_after
from livecommerce.hooks.endpoints import endpoint_id, endpoints_of
from livecommerce.hooks.events import OutboxEvent, iso_timestamp, parse_entry, webhook_body
from livecommerce.hooks.signing import decode_secret, signature, signature_headers

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
OTHER = "whsec_" + base64.b64encode(b"another secret, rotated in......").decode()
BODY = b'{"type":"order.paid","timestamp":"2026-11-25T18:00:00.123Z","data":{"id":"o1"}}'


def test_signature_verifies_with_the_official_library() -> None:
    now = int(time.time())
    headers = signature_headers([decode_secret(SECRET)], "evt_o1_paid", now, BODY)
    assert headers["webhook-id"] == "evt_o1_paid"
    assert headers["webhook-timestamp"] == str(now)
    assert Webhook(SECRET).verify(BODY, headers) == json.loads(BODY)


def test_signature_matches_the_specification_example() -> None:
    # The example of the Standard Webhooks specification (and its reference libraries).
    key = decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    assert (
        signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_several_secrets_sign_once_each_and_either_verifies() -> None:
    now = int(time.time())
    headers = signature_headers([decode_secret(OTHER), decode_secret(SECRET)], "evt_1", now, BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (SECRET, OTHER):
        Webhook(secret).verify(BODY, headers)
    stranger = "whsec_" + base64.b64encode(b"nobody knows me").decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(BODY, headers)


def test_a_changed_body_or_id_does_not_verify() -> None:
    now = int(time.time())
    headers = signature_headers([decode_secret(SECRET)], "evt_1", now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY.replace(b"o1", b"o2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY, {**headers, "webhook-id": "evt_2"})


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with 'whsec_'"),
        ("whsec_not*base64!", "must be base64"),
        ("whsec_", "must not be empty"),
    ],
)
def test_bad_secrets_are_refused(secret: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_secret(secret)


def test_unpadded_secrets_are_accepted() -> None:
    assert decode_secret("whsec_YWJj") == b"abc"
    assert decode_secret("whsec_YWI") == b"ab"


def test_body_is_type_iso_timestamp_and_data() -> None:
    event = OutboxEvent("evt_1", "order.created", 1_795_629_600_123, {"id": "o1", "qty": 2})
    assert json.loads(webhook_body(event)) == {
        "type": "order.created",
        "timestamp": "2026-11-25T18:00:00.123Z",
        "data": {"id": "o1", "qty": 2},
    }
    assert webhook_body(event) == webhook_body(event)  # same bytes on every attempt
    assert iso_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert iso_timestamp(5) == "1970-01-01T00:00:00.005Z"


GOOD = {"id": "evt_o1_created", "type": "order.created", "timestamp": "1795629600123", "data": "{}"}


def test_a_good_entry_parses() -> None:
    assert parse_entry(GOOD) == OutboxEvent("evt_o1_created", "order.created", 1795629600123, {})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "field 'id' is missing"),
        ({"id": ""}, "field 'id' must be 1 to 256 printable ASCII"),
        ({"id": "evt\r\nX-Evil: 1"}, "field 'id' must be 1 to 256 printable ASCII"),
        ({"type": None}, "field 'type' is missing"),
        ({"type": "order.refunded"}, "field 'type' is 'order.refunded', not one of"),
        ({"timestamp": None}, "field 'timestamp' is missing"),
        ({"timestamp": "-5"}, "field 'timestamp' must be milliseconds"),
        ({"timestamp": "1.5e12"}, "field 'timestamp' must be milliseconds"),
        ({"timestamp": "99999999999999999"}, "field 'timestamp' is after the year 9999"),
        ({"data": None}, "field 'data' is missing"),
        ({"data": "{"}, "field 'data' is not valid JSON"),
        ({"data": "null"}, "field 'data' must be a JSON object"),
    ],
)
def test_bad_entries_name_the_field(change: dict[str, str | None], message: str) -> None:
    fields = {**GOOD, **{k: v for k, v in change.items() if v is not None}}
    for key in [k for k, v in change.items() if v is None]:
        del fields[key]
    with pytest.raises(ValueError, match=message):
        parse_entry(fields)


def test_endpoints_get_stable_short_ids_and_keys() -> None:
    endpoints = endpoints_of(
        [
            EndpointConfig("https://a.example/hooks", (SECRET,)),
            EndpointConfig("https://b.example/hooks", (OTHER, SECRET)),
        ]
    )
    assert [e.id for e in endpoints] == [
        endpoint_id("https://a.example/hooks"),
        endpoint_id("https://b.example/hooks"),
    ]
    assert len(endpoints[0].id) == 12
    assert endpoints[0].id == endpoint_id("https://a.example/hooks")
    assert endpoints[0].group == f"hooks:{endpoints[0].id}"
    assert endpoints[1].keys == (decode_secret(OTHER), decode_secret(SECRET))
    assert "keys" not in repr(endpoints[1])


def test_an_endpoint_listed_twice_is_refused() -> None:
    endpoint = EndpointConfig("https://a.example/hooks", (SECRET,))
    with pytest.raises(
        ValueError, match=re.escape("endpoint 2: https://a.example/hooks is listed twice")
    ):
        endpoints_of([endpoint, endpoint])


def test_an_endpoint_config_holds_the_decoded_keys_and_never_prints_its_secrets() -> None:
    endpoint = EndpointConfig("https://a.example/hooks", (OTHER, SECRET))
    assert endpoint.keys == (decode_secret(OTHER), decode_secret(SECRET))
    assert SECRET.removeprefix("whsec_") not in repr(endpoint)


@pytest.mark.parametrize("secrets", [(), ("whsec_",), ("whsec_not*base64!",), ("abc",)])
def test_an_endpoint_config_without_a_usable_secret_cannot_be_made(
    secrets: tuple[str, ...],
) -> None:
    with pytest.raises(ValueError, match="secret"):
        EndpointConfig("https://a.example/hooks", secrets)


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    now = time.time()
    assert parse_retry_after("120", now) == 120.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    delay = parse_retry_after(date, now)
    assert delay is not None
    assert 28.0 <= delay <= 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-1", now) is None


def test_backoff_doubles_with_full_jitter_and_is_capped() -> None:
    highest = lambda low, high: high  # noqa: E731 - the jitter's upper bound
    assert [backoff_delay(n, 0.5, 5.0, rng=highest) for n in range(1, 7)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        5.0,
        5.0,
    ]
    assert backoff_delay(10_000, 0.5, 5.0, rng=highest) == 5.0
    assert all(0.0 <= backoff_delay(3, 0.5, 5.0) <= 2.0 for _ in range(100))
    assert backoff_delay(1, 0.5, 5.0, retry_after_s=3.0) == 3.0
    assert backoff_delay(1, 0.5, 5.0, retry_after_s=3600.0) == 5.0


def test_the_hooks_package_never_imports_aiohttp_web() -> None:
    # import-linter cannot forbid a subpackage of an external package, so look here.
    package = Path(__file__).resolve().parents[2] / "livecommerce" / "hooks"
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [f"{node.module}.{a.name}" for a in node.names]
                if isinstance(node, ast.ImportFrom) and node.module
                else []
            )
            assert not [n for n in names if n.startswith("aiohttp.web")], module.name
