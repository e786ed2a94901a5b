"""Only a node holding the deployment's secret can sign a node-to-node request, and a
signature proves only the request it was made for, for a short while."""

from __future__ import annotations

import pytest

from livecommerce.nodes.signing import MAX_SKEW_S, NodeCall, node_key, sign, verify

KEY = node_key("deployment-secret-0123456789abcdef")
NOW = 1_700_000_000.0
PATH = "/whep/room-1/0a1b2c3d4e5f.abc"


def signed(client: str | None = "203.0.113.7", body: bytes = b"a=x") -> str:
    return sign(KEY, "0a1b2c3d4e5f", "PATCH", PATH, body, client, now=NOW)


def test_a_signature_proves_the_node_and_the_client_it_acts_for() -> None:
    assert verify(KEY, signed(), "PATCH", PATH, b"a=x", now=NOW + 5) == NodeCall(
        "0a1b2c3d4e5f", "203.0.113.7"
    )
    own = sign(KEY, "0a1b2c3d4e5f", "POST", "/whep/r", b"v=0", None, now=NOW)
    assert verify(KEY, own, "POST", "/whep/r", b"v=0", now=NOW) == NodeCall("0a1b2c3d4e5f", None)


@pytest.mark.parametrize(
    ("method", "path", "body", "now"),
    [
        ("DELETE", PATH, b"a=x", NOW),  # another method
        ("PATCH", "/whep/room-2/0a1b2c3d4e5f.abc", b"a=x", NOW),  # another session
        ("PATCH", PATH, b"a=y", NOW),  # another body
        ("PATCH", PATH, b"a=x", NOW + MAX_SKEW_S + 1),  # too late
        ("PATCH", PATH, b"a=x", NOW - MAX_SKEW_S - 1),  # from the future
    ],
)
def test_a_signature_does_not_carry_over_to_another_request(
    method: str, path: str, body: bytes, now: float
) -> None:
    assert verify(KEY, signed(), method, path, body, now=now) is None


def test_another_secret_or_an_edited_field_proves_nothing() -> None:
    header = signed()
    assert verify(node_key("another-secret-0123456789abcdef"), header, "PATCH", PATH, b"a=x",
                  now=NOW) is None  # fmt: skip
    version, node, at, client, mac = header.split(" ")
    for edited in (
        f"{version} 0badc0ffee00 {at} {client} {mac}",
        f"{version} {node} {at} - {mac}",  # claim to act for itself
        f"{version} {node} {at} 198.51.100.1 {mac}",
        f"v2 {node} {at} {client} {mac}",
        f"{version} {node} {at} {client}",
        f"{version} {node} soon {client} {mac}",
        "",
    ):
        assert verify(KEY, edited, "PATCH", PATH, b"a=x", now=NOW) is None


def test_the_node_key_is_not_the_token_secret() -> None:
    secret = "deployment-secret-0123456789abcdef"
    assert node_key(secret) != secret.encode()
    assert len(node_key(secret)) == 32
