"""Each remote ICE candidate is a destination the node sends STUN checks to: an offer or a
session may name only so many, counted once each however often they are repeated."""

from __future__ import annotations

from pathlib import Path

import pytest

from media.offer import MalformedOfferError, check_offer
from media.trickle import RemoteIce, TooManyCandidatesError, parse_fragment

OBS_OFFER = (
    (Path(__file__).parents[1] / "data" / "sdp" / "obs_whip_offer.sdp")
    .read_text()
    .replace("\n", "\r\n")
)


def candidate(i: int, port: int = 40000) -> str:
    return f"a=candidate:{i} 1 udp {2130706431 - i} 198.51.100.{i % 250 + 1} {port + i} typ host"


def with_candidates(sdp: str, lines: list[str], every_section: bool = False) -> str:
    out: list[str] = []
    sections = 0
    for line in sdp.split("\r\n"):
        out.append(line)
        if line.startswith("a=mid:"):
            sections += 1
            if sections == 1 or every_section:
                out.extend(lines)
    return "\r\n".join(out)


def test_an_offer_over_the_limit_is_refused_whole() -> None:
    offer = with_candidates(OBS_OFFER, [candidate(i) for i in range(200)])
    with pytest.raises(MalformedOfferError, match="has 200 ICE candidates; at most 20"):
        check_offer(offer, "publish", max_candidates=20)
    assert len(check_offer(offer, "publish").candidates) == 200  # no limit asked


def test_the_same_candidate_in_every_bundled_section_counts_once() -> None:
    offer = with_candidates(OBS_OFFER, [candidate(i) for i in range(12)], every_section=True)
    assert len(check_offer(offer, "publish", max_candidates=12).candidates) == 12


def test_a_line_too_short_to_read_still_counts() -> None:
    offer = with_candidates(OBS_OFFER, [candidate(i) for i in range(2)])
    offer = offer.replace("v=0\r\n", "v=0\r\na=candidate:x 1\r\n", 1)
    with pytest.raises(MalformedOfferError, match="has 3 ICE candidates"):
        check_offer(offer, "publish", max_candidates=2)


async def test_a_fragment_over_the_sessions_budget_adds_nothing() -> None:
    ice = RemoteIce("u", "p", limit=3)
    ice.candidates |= {("1", "udp", f"198.51.100.{i + 1}", str(40000 + i)) for i in range(2)}
    fragment = parse_fragment("a=mid:0\r\n" + "\r\n".join(candidate(i) for i in range(5, 7)))
    with pytest.raises(TooManyCandidatesError, match="already has 2 ICE candidates and the"):
        await ice.apply(None, fragment)  # type: ignore[arg-type]  # refused before any use
    assert len(ice.candidates) == 2
