"""Access tokens: HS256 JWTs carrying a role, a user and optionally a room.

Claims: ``sub`` (user id), ``role``, ``room`` (optional: the token is then
valid for that room only), ``iat``, ``exp`` (always present). The signing
secret comes from ``auth.secret`` or, when that is empty, from a file the
first start generates in the data dir (see :func:`resolve_secret`).
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import jwt

from livecommerce.errors import ApiError, ErrorCode

ALGORITHM = "HS256"
SECRET_FILE_NAME = "auth_secret"
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}$")


class Role(StrEnum):
    viewer = "viewer"
    anchor = "anchor"
    moderator = "moderator"
    admin = "admin"
    backend = "backend"


@dataclass(frozen=True)
class Principal:
    """Who is calling, as proven by a verified token."""

    user: str
    role: Role
    room: str | None = None
    expires_at: int = 0

    def reaches_room(self, room_id: str) -> bool:
        """False when the token is limited to another room (CONTRACT "Tokens and rooms")."""
        return self.room is None or self.room == room_id

    def may_act_on_room(self, room_id: str, room_anchor: str) -> bool:
        """True when this principal is the anchor of the room (and not limited to another)."""
        if self.room is not None and self.room != room_id:
            return False
        return self.role is Role.anchor and self.user == room_anchor


def valid_identifier(value: str) -> bool:
    """User and room ids: 1-128 of letters, digits and ``_.@:-``, starting alphanumeric."""
    return bool(IDENTIFIER.match(value))


def issue_token(
    secret: str,
    role: Role,
    user: str,
    room: str | None = None,
    ttl_s: int = 3600,
    now: float | None = None,
) -> str:
    """Sign a token; raises ValueError for a bad user, room or ttl."""
    if not valid_identifier(user):
        raise ValueError(f"user id {user!r} must be 1-128 of letters, digits and _.@:-")
    if room is not None and not valid_identifier(room):
        raise ValueError(f"room id {room!r} must be 1-128 of letters, digits and _.@:-")
    if ttl_s <= 0:
        raise ValueError("ttl must be greater than 0 seconds")
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "sub": user,
        "role": role.value,
        "iat": issued,
        "exp": issued + ttl_s,
    }
    if room is not None:
        claims["room"] = room
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    """Check signature, expiry and claims; raises :class:`ApiError` (401) when any fails."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "role"]}
        )
    except jwt.ExpiredSignatureError:
        raise ApiError(ErrorCode.token_expired) from None
    except jwt.InvalidTokenError as exc:
        raise ApiError(ErrorCode.token_invalid, f"The token is not valid: {exc}.") from None
    user, role, room = claims.get("sub"), claims.get("role"), claims.get("room")
    if not isinstance(user, str) or not valid_identifier(user):
        raise ApiError(ErrorCode.token_invalid, "The token's user (sub) is not valid.")
    if not isinstance(role, str) or role not in Role.__members__:
        raise ApiError(ErrorCode.token_invalid, f"The token's role {role!r} is not known.")
    if room is not None and (not isinstance(room, str) or not valid_identifier(room)):
        raise ApiError(ErrorCode.token_invalid, "The token's room is not valid.")
    return Principal(user=user, role=Role(role), room=room, expires_at=int(claims["exp"]))


@dataclass(frozen=True)
class ResolvedSecret:
    value: str
    source: str
    generated: bool


def resolve_secret(configured: str, data_dir: str | Path) -> ResolvedSecret:
    """The configured secret, else the one in ``DATA_DIR/auth_secret``, generating it once.

    A generated secret is written with mode 0600 and reported through
    ``generated`` so the caller can say so; the server never signs with a
    well-known default. An exclusive lock on ``DATA_DIR/.auth_secret.lock``
    makes concurrent first starts agree on one secret; an empty secret file
    (a crash mid-write) is replaced.
    """
    if configured:
        return ResolvedSecret(configured, "auth.secret", generated=False)
    directory = Path(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / SECRET_FILE_NAME
    lock_descriptor = os.open(
        directory / f".{SECRET_FILE_NAME}.lock", os.O_RDWR | os.O_CREAT, 0o600
    )
    try:
        fcntl.flock(lock_descriptor, fcntl.LOCK_EX)
        try:
            existing = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            existing = ""
        if existing:
            return ResolvedSecret(existing, str(path), generated=False)
        value = secrets.token_urlsafe(48)
        staging = path.with_name(f".{SECRET_FILE_NAME}.{os.getpid()}")
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, path)
        return ResolvedSecret(value, str(path), generated=True)
    finally:
        os.close(lock_descriptor)
