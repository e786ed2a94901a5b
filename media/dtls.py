"""DTLS with peers whose certificate is RSA (GStreamer 1.22's default, some SDKs).

aiortc 1.16 offers only ECDHE-ECDSA cipher suites. When the server is the
DTLS client (it answers an ``actpass`` offer as ``active``) and the publisher
holds an RSA certificate, the publisher cannot pick any suite and the
handshake fails. Adding the ECDHE-RSA suites after the ECDSA ones fixes that;
when we are the DTLS server our certificate is ECDSA, so those suites are
simply never chosen. Applied process-wide, once.
"""

from __future__ import annotations

from typing import Any, Final

from aiortc.rtcdtlstransport import RTCCertificate

CIPHERS: Final = (
    b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
    b"ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
    b"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    b"ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA"
)
_PATCHED = "_livecommerce_rsa_suites"


def allow_rsa_peers() -> None:
    """Let aiortc's DTLS contexts also offer ECDHE-RSA suites (idempotent)."""
    original = RTCCertificate._create_ssl_context
    if getattr(original, _PATCHED, False):
        return

    def create_ssl_context(self: RTCCertificate, srtp_profiles: Any) -> Any:
        context = original(self, srtp_profiles)
        context.set_cipher_list(CIPHERS)
        return context

    setattr(create_ssl_context, _PATCHED, True)
    RTCCertificate._create_ssl_context = create_ssl_context  # type: ignore[method-assign]
