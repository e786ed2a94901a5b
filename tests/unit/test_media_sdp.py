"""Offer checks and trickle fragments at the edge: exact messages for bad input."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media.offer import (
    MalformedOfferError,
    OfferError,
    UnprocessableOfferError,
    check_offer,
)
from media.trickle import FragmentError, parse_fragment

DATA = Path(__file__).parents[1] / "data" / "sdp"
OBS_OFFER = (DATA / "obs_whip_offer.sdp").read_text().replace("\n", "\r\n")


def test_an_obs_offer_passes_with_its_kinds_credentials_and_codecs() -> None:
    summary = check_offer(OBS_OFFER, "publish")

    assert summary.kinds == ("audio", "video")
    assert summary.ice_ufrag == "FQiB"
    assert not summary.has_candidates
    assert summary.codecs["video"][0].parameters["profile-level-id"] == "640c1f"


def test_a_publish_offer_is_not_a_play_offer() -> None:
    with pytest.raises(UnprocessableOfferError, match="sendonly; it must receive media"):
        check_offer(OBS_OFFER, "play")


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda s: s.replace("a=rtcp-mux\r\n", ""), UnprocessableOfferError, "a=rtcp-mux"),
        (
            lambda s: s.replace("a=group:BUNDLE 0 1\r\n", ""),
            UnprocessableOfferError,
            "BUNDLE",
        ),
        (
            lambda s: s.replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0"),
            UnprocessableOfferError,
            "BUNDLE",
        ),
        (
            lambda s: s.replace("m=audio", "m=video").replace("opus/48000/2", "VP8/90000"),
            UnprocessableOfferError,
            "more than one video section",
        ),
        (
            lambda s: s.replace("packetization-mode=1", "packetization-mode=0"),
            UnprocessableOfferError,
            "no codec this server forwards",
        ),
        (lambda s: s.replace("a=ice-pwd:", "a=x-pwd:"), MalformedOfferError, "ice-pwd"),
        (lambda s: s.replace("v=0", "v=1"), MalformedOfferError, "must start with 'v=0'"),
        (lambda s: s + "garbage\r\n", MalformedOfferError, "'garbage'"),
        (lambda s: s.split("m=audio")[0], MalformedOfferError, "no media section"),
        (lambda s: s + "a=x" * 30000, MalformedOfferError, "larger than"),
    ],
    ids=[
        "no-rtcp-mux",
        "no-bundle",
        "partial-bundle",
        "two-video",
        "h264-mode-0",
        "no-ice-pwd",
        "bad-version",
        "bad-line",
        "no-media",
        "too-large",
    ],
)
def test_bad_offers_are_refused_with_a_reason(change, error, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        check_offer(change(OBS_OFFER), "publish")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_no_text_makes_the_checker_fail_other_than_with_an_offer_error(text: str) -> None:
    with contextlib.suppress(OfferError):
        check_offer("v=0\r\n" + text, "publish")


def test_a_fragment_yields_its_credentials_candidates_and_end() -> None:
    fragment = parse_fragment(
        "a=ice-ufrag:FQiB\r\na=ice-pwd:wRXC0ZCA3GSqr4gNV6fycP\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n"
        "a=candidate:1 1 UDP 2130706431 192.0.2.7 50000 typ host\r\na=end-of-candidates\r\n"
    )

    assert fragment.ice_ufrag == "FQiB"
    assert fragment.end_of_candidates
    ((mid, candidate),) = fragment.candidates
    assert mid == "0"
    assert (candidate.ip, candidate.port, candidate.type) == ("192.0.2.7", 50000, "host")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a=candidate:1 1 UDP", "is malformed"),
        ("not a line", "not of the form"),
        ("a=x" * 10000, "larger than"),
    ],
)
def test_bad_fragments_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(FragmentError, match=message):
        parse_fragment(text)
