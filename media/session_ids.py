"""Session ids (the capability in a session's URL) and the labels shown instead of them.

A session id is the application's prefix (it names the node holding the
session) and 128 bits from the OS's secure random source. Whoever knows it
may PATCH or DELETE a viewer's session (RFC 9725: the session URL is the
capability), so it is given only to the client that created the session:
stats and logs show :func:`session_label` instead, from which the id cannot
be recovered.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

SECRET_BYTES: Final = 16
LABEL_HEX_DIGITS: Final = 12
# Between the prefix and the random part of an id; the random part never has it.
SEPARATOR: Final = "."


def new_session_id(prefix: str = "") -> str:
    """``prefix`` and 128 bits from the OS's secure random source, URL-safe."""
    return prefix + secrets.token_urlsafe(SECRET_BYTES)


def session_label(session_id: str) -> str:
    """A stable, non-secret name of a session for stats and logs: its prefix (the node),
    then the start of a SHA-256 digest of the whole id."""
    prefix, separator, _ = session_id.rpartition(SEPARATOR)
    digest = hashlib.sha256(session_id.encode()).hexdigest()[:LABEL_HEX_DIGITS]
    return f"{prefix}{separator}{digest}"
