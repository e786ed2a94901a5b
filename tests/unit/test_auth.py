"""Access tokens (issue/verify), room permissions, and the generated signing secret."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jwt
import pytest

from livecommerce.auth import (
    SECRET_FILE_NAME,
    Principal,
    ResolvedSecret,
    Role,
    issue_token,
    resolve_secret,
    verify_token,
)
from livecommerce.config import build_settings
from livecommerce.errors import ApiError, ErrorCode

SECRET = "unit-test-secret-0123456789abcdefghij"
OTHER_SECRET = "another-secret-0123456789abcdefghijkl"
# HS512 wants a 64-byte key; a shorter one makes PyJWT warn, and warnings are errors.
LONG_SECRET = "long-unit-test-secret-" + "0123456789" * 5


def signed(claims: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    """A token built with PyJWT directly, bypassing issue_token's checks."""
    return jwt.encode(claims, secret, algorithm=algorithm)


def valid_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "alice", "role": "viewer", "iat": now, "exp": now + 600}
    claims.update(changes)
    return claims


def assert_rejected(token: str, code: ErrorCode, secret: str = SECRET) -> ApiError:
    with pytest.raises(ApiError) as error:
        verify_token(secret, token)
    assert error.value.code is code
    assert error.value.status == 401
    return error.value


# Round trip


def test_issued_token_verifies_to_the_same_principal() -> None:
    now = int(time.time())

    token = issue_token(SECRET, Role.anchor, "alice", room="room-1", ttl_s=600, now=now)

    assert verify_token(SECRET, token) == Principal(
        user="alice", role=Role.anchor, room="room-1", expires_at=now + 600
    )


def test_token_without_room_verifies_with_room_none() -> None:
    principal = verify_token(SECRET, issue_token(SECRET, Role.viewer, "bob"))

    assert principal.room is None
    assert principal.user == "bob"
    assert principal.role is Role.viewer


@pytest.mark.parametrize("role", list(Role))
def test_every_role_survives_the_round_trip(role: Role) -> None:
    assert verify_token(SECRET, issue_token(SECRET, role, "user-1")).role is role


def test_expiry_is_issue_time_plus_ttl() -> None:
    now = int(time.time())

    token = issue_token(SECRET, Role.viewer, "bob", ttl_s=120, now=now)

    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["iat"] == now
    assert claims["exp"] == now + 120
    assert verify_token(SECRET, token).expires_at == now + 120


def test_issued_token_header_says_hs256() -> None:
    token = issue_token(SECRET, Role.viewer, "bob")

    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_user_ids_with_all_allowed_characters_round_trip() -> None:
    user = "a1_.@:-Z"

    assert verify_token(SECRET, issue_token(SECRET, Role.viewer, user)).user == user


# Rejected tokens


def test_expired_token_is_token_expired() -> None:
    token = issue_token(SECRET, Role.viewer, "bob", ttl_s=60, now=time.time() - 3600)

    error = assert_rejected(token, ErrorCode.token_expired)

    assert error.body()["error"]["code"] == "token_expired"


def test_token_signed_with_another_secret_is_token_invalid() -> None:
    token = issue_token(OTHER_SECRET, Role.admin, "mallory")

    assert_rejected(token, ErrorCode.token_invalid)


def test_token_with_tampered_claims_is_token_invalid() -> None:
    header, _, signature = issue_token(SECRET, Role.viewer, "bob").split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps(valid_claims(sub="bob", role="admin")).encode()
    ).rstrip(b"=")

    assert_rejected(f"{header}.{forged.decode()}.{signature}", ErrorCode.token_invalid)


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "Bearer x", "...."])
def test_garbage_string_is_token_invalid(garbage: str) -> None:
    assert_rejected(garbage, ErrorCode.token_invalid)


def test_unsigned_alg_none_token_is_token_invalid() -> None:
    token = jwt.encode(valid_claims(role="admin"), None, algorithm="none")

    assert_rejected(token, ErrorCode.token_invalid)


def test_token_signed_with_hs512_is_token_invalid() -> None:
    token = signed(valid_claims(), LONG_SECRET, algorithm="HS512")

    assert_rejected(token, ErrorCode.token_invalid, secret=LONG_SECRET)


def test_correctly_signed_hand_made_token_is_accepted() -> None:
    # Control for the tests below: only the changed claim makes them fail.
    assert verify_token(SECRET, signed(valid_claims())).user == "alice"


@pytest.mark.parametrize("claim", ["exp", "sub", "role"])
def test_token_missing_a_required_claim_is_token_invalid(claim: str) -> None:
    claims = valid_claims()
    del claims[claim]

    assert_rejected(signed(claims), ErrorCode.token_invalid)


@pytest.mark.parametrize("role", ["superuser", "Admin", "", 1, None])
def test_token_with_unknown_role_is_token_invalid(role: Any) -> None:
    assert_rejected(signed(valid_claims(role=role)), ErrorCode.token_invalid)


@pytest.mark.parametrize("sub", ["", "-leading-dash", "has space", "a" * 129, "ü", 42])
def test_token_with_bad_sub_is_token_invalid(sub: Any) -> None:
    assert_rejected(signed(valid_claims(sub=sub)), ErrorCode.token_invalid)


@pytest.mark.parametrize("room", ["", "bad room", 7, ["room-1"]])
def test_token_with_bad_room_claim_is_token_invalid(room: Any) -> None:
    assert_rejected(signed(valid_claims(room=room)), ErrorCode.token_invalid)


# issue_token arguments


@pytest.mark.parametrize("user", ["", "-x", "has space", "a" * 129, "name/with/slash"])
def test_issue_token_rejects_bad_user_id(user: str) -> None:
    with pytest.raises(ValueError, match="user id"):
        issue_token(SECRET, Role.viewer, user)


@pytest.mark.parametrize("room", ["", "_x", "two words", "r" * 129])
def test_issue_token_rejects_bad_room_id(room: str) -> None:
    with pytest.raises(ValueError, match="room id"):
        issue_token(SECRET, Role.anchor, "alice", room=room)


@pytest.mark.parametrize("ttl_s", [0, -1, -3600])
def test_issue_token_rejects_non_positive_ttl(ttl_s: int) -> None:
    with pytest.raises(ValueError, match="ttl"):
        issue_token(SECRET, Role.viewer, "alice", ttl_s=ttl_s)


def test_issue_token_accepts_the_longest_user_id() -> None:
    user = "a" * 128

    assert verify_token(SECRET, issue_token(SECRET, Role.viewer, user)).user == user


# Principal.may_act_on_room


def test_anchor_of_the_room_may_act_on_it() -> None:
    principal = Principal(user="alice", role=Role.anchor)

    assert principal.may_act_on_room("room-1", room_anchor="alice") is True


def test_anchor_with_token_for_this_room_may_act_on_it() -> None:
    principal = Principal(user="alice", role=Role.anchor, room="room-1")

    assert principal.may_act_on_room("room-1", room_anchor="alice") is True


def test_anchor_of_another_room_may_not_act_on_it() -> None:
    principal = Principal(user="bob", role=Role.anchor)

    assert principal.may_act_on_room("room-1", room_anchor="alice") is False


def test_anchor_token_limited_to_another_room_may_not_act_on_own_room() -> None:
    principal = Principal(user="alice", role=Role.anchor, room="room-2")

    assert principal.may_act_on_room("room-1", room_anchor="alice") is False


@pytest.mark.parametrize("role", [Role.moderator, Role.admin, Role.viewer, Role.backend])
def test_non_anchor_role_may_not_act_even_as_the_rooms_user(role: Role) -> None:
    principal = Principal(user="alice", role=role)

    assert principal.may_act_on_room("room-1", room_anchor="alice") is False


# resolve_secret


def test_configured_secret_wins_and_writes_nothing(tmp_path: Path) -> None:
    resolved = resolve_secret(SECRET, tmp_path)

    assert resolved == ResolvedSecret(SECRET, "auth.secret", generated=False)
    assert list(tmp_path.iterdir()) == []


def test_empty_configured_secret_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    resolved = resolve_secret("", tmp_path)

    path = tmp_path / SECRET_FILE_NAME
    assert resolved.generated is True
    assert resolved.source == str(path)
    assert path.read_text(encoding="utf-8").strip() == resolved.value
    assert len(resolved.value) >= 32


def test_generated_secret_file_is_readable_by_the_owner_only(tmp_path: Path) -> None:
    resolve_secret("", tmp_path)

    mode = stat.S_IMODE((tmp_path / SECRET_FILE_NAME).stat().st_mode)
    assert mode == 0o600


def test_generated_secret_is_accepted_as_auth_secret(tmp_path: Path) -> None:
    value = resolve_secret("", tmp_path).value

    assert build_settings([("test", {"auth": {"secret": value}})]).auth.secret == value


def test_generation_creates_a_missing_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "var" / "node-1"

    resolved = resolve_secret("", str(data_dir))

    assert resolved.generated is True
    assert (data_dir / SECRET_FILE_NAME).is_file()


def test_second_call_reads_the_same_secret_without_generating(tmp_path: Path) -> None:
    first = resolve_secret("", tmp_path)

    second = resolve_secret("", tmp_path)

    assert second.value == first.value
    assert second.generated is False
    assert second.source == first.source


def test_secrets_of_different_data_dirs_differ(tmp_path: Path) -> None:
    one = resolve_secret("", tmp_path / "a")
    two = resolve_secret("", tmp_path / "b")

    assert one.value != two.value


def test_generation_leaves_no_staging_files(tmp_path: Path) -> None:
    resolve_secret("", tmp_path)

    assert sorted(os.listdir(tmp_path)) == [f".{SECRET_FILE_NAME}.lock", SECRET_FILE_NAME]


def test_concurrent_first_calls_all_get_the_same_secret(tmp_path: Path) -> None:
    workers = 8
    barrier = threading.Barrier(workers)

    def resolve() -> ResolvedSecret:
        barrier.wait(timeout=10)
        return resolve_secret("", tmp_path)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda _: resolve(), range(workers)))

    values = {result.value for result in results}
    assert len(values) == 1
    assert (tmp_path / SECRET_FILE_NAME).read_text(encoding="utf-8").strip() in values
    assert sum(result.generated for result in results) == 1
    assert sorted(os.listdir(tmp_path)) == [f".{SECRET_FILE_NAME}.lock", SECRET_FILE_NAME]


@pytest.mark.parametrize("content", ["", "\n"])
def test_empty_secret_file_never_yields_an_empty_secret(tmp_path: Path, content: str) -> None:
    (tmp_path / SECRET_FILE_NAME).write_text(content, encoding="utf-8")

    resolved = resolve_secret("", tmp_path)

    assert len(resolved.value) >= 32
