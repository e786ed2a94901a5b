"""Checks on an SDP offer before a peer connection sees it (RFC 9725 §4.2).

Two kinds of failure: :class:`MalformedOfferError` (not SDP we can read: HTTP 400)
and :class:`UnprocessableOfferError` (valid SDP the protocol forbids or we cannot
serve: HTTP 422). Messages are exact sentences meant for the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from aiortc import sdp
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from media.codecs import SUPPORTED_AUDIO, SUPPORTED_VIDEO, h264_profile

MAX_OFFER_BYTES: Final = 64 * 1024
# (component, transport, address, port): what ICE tells candidates apart by. The same
# candidate listed in every bundled section is one destination of connectivity checks.
CandidateKey = tuple[str, ...]
Role = Literal["publish", "play"]
# Directions a media section may have, per role: a publisher sends, a viewer receives.
ALLOWED_DIRECTIONS: Final[dict[Role, tuple[str, ...]]] = {
    "publish": ("sendonly", "sendrecv"),
    "play": ("recvonly", "sendrecv"),
}


class OfferError(ValueError):
    """The offer cannot be answered; ``str()`` is a sentence for the client."""


class MalformedOfferError(OfferError):
    """The body is not SDP that can be parsed."""


class UnprocessableOfferError(OfferError):
    """The SDP is well formed but asks for something not allowed or not supported."""


@dataclass(frozen=True)
class OfferSummary:
    """What the checks learnt about an offer."""

    kinds: tuple[str, ...]
    ice_ufrag: str
    ice_pwd: str
    has_candidates: bool
    # Distinct remote candidates, as :func:`candidate_key` names them.
    candidates: frozenset[CandidateKey]
    codecs: dict[str, list[RTCRtpCodecParameters]]


def _parse(text: str) -> sdp.SessionDescription:
    if len(text) > MAX_OFFER_BYTES:
        raise MalformedOfferError(f"The offer is larger than {MAX_OFFER_BYTES} bytes.")
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0].strip() != "v=0":
        raise MalformedOfferError("The body is not an SDP offer: it must start with 'v=0'.")
    for line in lines:
        if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
            raise MalformedOfferError(f"The SDP line {line[:60]!r} is not of the form 'x=value'.")
    try:
        return sdp.SessionDescription.parse(text)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise MalformedOfferError(f"The SDP offer cannot be parsed: {exc}.") from None


def _forwardable(codec: RTCRtpCodecParameters) -> bool:
    mime = codec.mimeType.lower()
    if mime == "video/h264":
        return (
            str(codec.parameters.get("packetization-mode", "0")) == "1"
            and h264_profile(str(codec.parameters.get("profile-level-id", "42e01f"))) is not None
        )
    return mime in SUPPORTED_VIDEO or mime in SUPPORTED_AUDIO


def _check_codecs(media: sdp.MediaDescription) -> None:
    if not any(_forwardable(c) for c in media.rtp.codecs):
        wanted = "VP8 or H.264 (packetization-mode=1)" if media.kind == "video" else "Opus"
        raise UnprocessableOfferError(
            f"The {media.kind} section offers no codec this server forwards; offer {wanted}."
        )


def candidate_key(component: object, transport: str, address: str, port: object) -> CandidateKey:
    return (str(component), transport.lower(), address.lower(), str(port))


def offered_candidates(text: str) -> frozenset[CandidateKey]:
    """The distinct ICE candidates anywhere in the SDP (a line too short to read counts
    on its own, so nothing escapes the count)."""
    keys = set()
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("a=candidate:"):
            continue
        # foundation component transport priority address port "typ" type (RFC 8839)
        fields = line.removeprefix("a=candidate:").split()
        keys.add(candidate_key(*fields[1:3], *fields[4:6]) if len(fields) >= 6 else (line,))
    return frozenset(keys)


def check_offer(text: str, role: Role, max_candidates: int | None = None) -> OfferSummary:
    """Parse and check an offer for publishing (WHIP) or playing (WHEP).

    An offer with more than ``max_candidates`` distinct ICE candidates is refused
    whole (:class:`MalformedOfferError`): none of them is tried.
    """
    description = _parse(text)
    candidates = offered_candidates(text)
    if max_candidates is not None and len(candidates) > max_candidates:
        raise MalformedOfferError(
            f"The offer has {len(candidates)} ICE candidates;"
            f" at most {max_candidates} are accepted."
        )
    if not description.media:
        raise MalformedOfferError("The SDP offer has no media section (m=).")
    kinds: list[str] = []
    for media in description.media:
        if media.kind not in ("audio", "video"):
            raise UnprocessableOfferError(
                f"The offer has a {media.kind!r} section; only audio and video are accepted."
            )
        if media.kind in kinds:
            raise UnprocessableOfferError(f"The offer has more than one {media.kind} section.")
        kinds.append(media.kind)
        if media.ice is None or not media.ice.usernameFragment or not media.ice.password:
            raise MalformedOfferError("The SDP offer lacks a=ice-ufrag or a=ice-pwd.")
        if media.dtls is None or not media.dtls.fingerprints:
            raise MalformedOfferError("The SDP offer lacks a DTLS a=fingerprint.")
        if not media.rtcp_mux:
            raise UnprocessableOfferError("The offer must use RTCP multiplexing (a=rtcp-mux).")
        direction = media.direction or "sendrecv"
        if direction not in ALLOWED_DIRECTIONS[role]:
            verb = "send" if role == "publish" else "receive"
            raise UnprocessableOfferError(
                f"The {media.kind} section is {direction}; it must {verb} media"
                f" ({' or '.join(ALLOWED_DIRECTIONS[role])})."
            )
        _check_codecs(media)
    _check_bundle(description)
    ice = description.media[0].ice
    assert ice is not None
    return OfferSummary(
        kinds=tuple(kinds),
        ice_ufrag=ice.usernameFragment or "",
        ice_pwd=ice.password or "",
        has_candidates=any(m.ice_candidates for m in description.media),
        candidates=candidates,
        codecs={m.kind: list(m.rtp.codecs) for m in description.media},
    )


def _check_bundle(description: sdp.SessionDescription) -> None:
    mids = [m.rtp.muxId for m in description.media]
    if any(not mid for mid in mids):
        raise UnprocessableOfferError("Every media section must have an a=mid.")
    bundles = [g for g in description.group if g.semantic == "BUNDLE"]
    bundled = {str(item) for g in bundles for item in g.items}
    if not bundles or not set(mids) <= bundled:
        raise UnprocessableOfferError(
            "The offer must bundle all media on one transport (a=group:BUNDLE with every mid)."
        )
