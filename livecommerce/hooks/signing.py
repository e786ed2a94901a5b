"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``
keyed with the base64-decoded part of a ``whsec_…`` secret; with several
secrets (a rotation) the signatures are space-separated and a receiver that
knows any one of the secrets accepts the message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

# The settings decode the secrets (into EndpointConfig.keys); one decoder for both.
from livecommerce.config_values import webhook_key as decode_secret

__all__ = ["decode_secret", "signature", "signature_headers"]


def signature(key: bytes, msg_id: str, timestamp_s: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature."""
    content = f"{msg_id}.{timestamp_s}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(
    keys: Sequence[bytes], msg_id: str, timestamp_s: int, body: bytes
) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (one per key)."""
    if not keys:
        raise ValueError("signing needs at least one key")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp_s),
        "webhook-signature": " ".join(signature(k, msg_id, timestamp_s, body) for k in keys),
    }
