"""Trickle ICE (RFC 8840 SDP fragments, as WHIP/WHEP PATCH bodies carry them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiortc import RTCIceCandidate, RTCPeerConnection
from aiortc.sdp import candidate_from_sdp

from media.offer import CandidateKey, candidate_key

MAX_FRAGMENT_BYTES = 16 * 1024
# foundation component transport priority address port "typ" type (RFC 8839 §5.1)
CANDIDATE_FIELDS = 8


class FragmentError(ValueError):
    """The fragment cannot be read; ``str()`` is a sentence for the client."""


class IceRestartError(FragmentError):
    """The fragment carries new ICE credentials: an ICE restart, which we do not do."""


class TooManyCandidatesError(FragmentError):
    """The session already has as many remote candidates as it accepts."""


@dataclass
class SdpFragment:
    """The parts of an ``application/trickle-ice-sdpfrag`` body we use."""

    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    candidates: list[tuple[str | None, RTCIceCandidate]] = field(default_factory=list)
    end_of_candidates: bool = False


def parse_fragment(text: str) -> SdpFragment:
    """Read the fragment; raise :class:`FragmentError` naming the bad line."""
    if len(text) > MAX_FRAGMENT_BYTES:
        raise FragmentError(f"The SDP fragment is larger than {MAX_FRAGMENT_BYTES} bytes.")
    fragment = SdpFragment()
    mid: str | None = None
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            continue
        if len(line) < 2 or line[1] != "=":
            raise FragmentError(f"The line {line[:60]!r} is not of the form 'x=value'.")
        if not line.startswith("a="):
            continue
        name, _, value = line[2:].partition(":")
        if name == "ice-ufrag":
            fragment.ice_ufrag = value
        elif name == "ice-pwd":
            fragment.ice_pwd = value
        elif name == "mid":
            mid = value
        elif name == "end-of-candidates":
            fragment.end_of_candidates = True
        elif name == "candidate":
            if len(value.split()) < CANDIDATE_FIELDS:
                raise FragmentError(f"The candidate {value[:80]!r} is malformed: too few fields.")
            try:
                candidate = candidate_from_sdp(value)
            except (ValueError, IndexError, KeyError) as exc:
                raise FragmentError(f"The candidate {value[:80]!r} is malformed: {exc}.") from None
            fragment.candidates.append((mid, candidate))
    return fragment


@dataclass
class RemoteIce:
    """A session's remote ICE credentials and the candidates it has been given.

    ``limit`` bounds the distinct candidates of the offer and of every trickled
    fragment together: each one is a destination the node sends connectivity
    checks to (a candidate sent again, e.g. once per bundled section, counts once).
    """

    ufrag: str = ""
    pwd: str = ""
    candidates: set[CandidateKey] = field(default_factory=set)
    limit: int = 20

    async def apply(self, pc: RTCPeerConnection, fragment: SdpFragment) -> None:
        """Add the fragment's candidates to ``pc``; a fragment over the limit adds none."""
        if (fragment.ice_ufrag not in (None, self.ufrag)) or (
            fragment.ice_pwd not in (None, self.pwd)
        ):
            raise IceRestartError("ICE restarts are not supported; start a new session.")
        new = {
            candidate_key(c.component, c.protocol, c.ip, c.port) for _, c in fragment.candidates
        } - self.candidates
        if len(self.candidates) + len(new) > self.limit:
            raise TooManyCandidatesError(
                f"This session already has {len(self.candidates)} ICE candidates and the"
                f" fragment adds {len(new)}; at most {self.limit} are accepted."
            )
        self.candidates |= new
        await apply_fragment(pc, fragment)


async def apply_fragment(pc: RTCPeerConnection, fragment: SdpFragment) -> None:
    """Add the fragment's candidates to ``pc`` (credentials already checked)."""
    transceivers = pc.getTransceivers()
    first_mid = transceivers[0].mid if transceivers else None
    for mid, candidate in fragment.candidates:
        # Everything is bundled on the first transport; aiortc wants a mid or index.
        candidate.sdpMid = mid or first_mid
        candidate.sdpMLineIndex = 0
        await pc.addIceCandidate(candidate)
    if fragment.end_of_candidates:
        await pc.addIceCandidate(None)
