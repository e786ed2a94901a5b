"""Automod's detection table: for each text rule, what it catches (evasions included:
spaced letters, spelled dots, full-width digits, zero-width characters, homoglyphs) and
what it lets through. docs/moderation.md shows the same rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from livecommerce.errors import ApiError
from livecommerce.moderation import rules
from livecommerce.moderation.automod import (
    PRESETS,
    AutomodConfig,
    hold_rule,
    screen_text,
    term_form,
)
from livecommerce.moderation.normalise import normalise

ROOT = Path(__file__).resolve().parents[2]
SHOP = ("myshop.com",)
ZWJ, ZWSP, ZWNJ = "\u200d", "\u200b", "\u200c"

LINKS = [
    ("see evil.com now", True),
    ("http://evil.example/x", True),
    ("w w w . x . com", True),  # spaced out
    ("visit x dot com", True),  # spelled dot
    ("evil [dot] shop", True),
    ("ＷＷＷ．ＥＶＩＬ．ＣＯＭ", True),  # full width
    (f"evil{ZWSP}.{ZWJ}com", True),  # zero-width inside
    ("gооgle.com", True),  # Cyrillic o
    ("myshop.com/p/1 is ours", False),  # allowed domain
    ("shop.myshop.com", False),  # its subdomain
    ("it is 3.5 inches", False),
    ("price is $20 for 2", False),
    ("love it!!! so good", False),
]
PHONES = [
    ("call 555-123-4567", True),
    ("call +44 7700 900123", True),
    ("call ５５５１２３４５６７", True),  # full-width digits
    (f"555 1{ZWSP}23 4{ZWJ}567", True),  # zero-width inside
    ("(555) 123.4567", True),
    ("five five five one two three four five six seven", True),  # spelled out
    ("555-O12-3456", True),  # a letter O for a zero
    ("555 l23 4567", True),  # a letter l for a one
    ("one or two, not five", False),
    ("size 10 also 12", False),
    ("order 12345", False),
    ("2 for 1999", False),
    ("sizes 36 38 40", False),
]
EMAILS = [
    ("mail bob@gmail.com", True),
    ("bob (at) gmail (dot) com", True),
    ("bob at gmail dot com", True),
    ("ｂｏｂ＠ｇｍａｉｌ．ｃｏｍ", True),
    ("meet me at noon", False),
    ("@anchor love this", False),
]
PAYMENTS = [
    ("pay $bobcash", True),
    ("venmo me", True),
    ("paypal.me/bob", True),
    ("раураl me", True),  # Cyrillic р, а, у
    ("v e n m o", True),  # spaced
    ("price is $20", False),
    ("is it paid?", False),
]
OFF_PLATFORM = [
    ("dm me for a cheaper price", True),
    ("D\u200bM ME", True),
    ("add me on telegram", True),
    ("whats app me", True),
    ("cheaper price outside the app", True),
    ("dm the anchor?", False),
    ("me too", False),
]
LOOKALIKES = [
    ("this is а sсam", True),  # Cyrillic а and с in Latin words
    ("gооd price", True),
    ("привет всем", False),  # all Cyrillic: a language, not a disguise
    ("café crème", False),  # accents
    ("hello", False),
]


def _forms(text: str) -> rules.Normalised:
    return normalise(text)


@pytest.mark.parametrize(("text", "caught"), LINKS)
def test_the_link_rule(text: str, caught: bool) -> None:
    assert rules.has_link(_forms(text), SHOP) is caught


@pytest.mark.parametrize(("text", "caught"), PHONES)
def test_the_phone_rule(text: str, caught: bool) -> None:
    assert rules.has_phone(_forms(text)) is caught


@pytest.mark.parametrize(("text", "caught"), EMAILS)
def test_the_email_rule(text: str, caught: bool) -> None:
    assert rules.has_email(_forms(text)) is caught


@pytest.mark.parametrize(("text", "caught"), PAYMENTS)
def test_the_payment_handle_rule(text: str, caught: bool) -> None:
    assert rules.has_payment_handle(_forms(text)) is caught


@pytest.mark.parametrize(("text", "caught"), OFF_PLATFORM)
def test_the_off_platform_rule(text: str, caught: bool) -> None:
    assert rules.has_off_platform(_forms(text)) is caught


@pytest.mark.parametrize(("text", "caught"), LOOKALIKES)
def test_the_lookalike_rule(text: str, caught: bool) -> None:
    assert _forms(text).lookalikes is caught


TERMS = [
    ("this is a scam", True),
    ("SCAM!!", True),
    ("s c a m", True),  # spaced
    ("ｓｃａｍ", True),  # full width
    (f"sc{ZWJ}am", True),  # zero-width joiner
    (f"sc{ZWNJ}a{ZWSP}m", True),
    ("ѕсаm", True),  # Cyrillic ѕ, с, а
    ("scampi for dinner", True),  # a term matches inside words: choose terms with care
    ("it's cam time", False),  # spaces between words are not removed for terms
    ("sca m", False),
]


@pytest.mark.parametrize(("text", "caught"), TERMS)
def test_the_term_rule(text: str, caught: bool) -> None:
    assert (rules.first_term(_forms(text), (term_form("scam"),)) is not None) is caught


def test_each_level_holds_what_its_preset_says() -> None:
    samples = {
        "phone": "call 555-123-4567",
        "email": "bob@gmail.com",
        "payment": "venmo me",
        "off_platform": "dm me",
        "link": "evil.com",
        "lookalikes": "gооd price",
    }
    expected = {
        0: set(),
        1: {"phone", "email", "payment", "off_platform"},
        2: {"phone", "email", "payment", "off_platform", "link"},
        3: {"phone", "email", "payment", "off_platform", "link", "lookalikes"},
    }
    for level in range(4):
        config = AutomodConfig(level=level)
        held = {rule for rule, text in samples.items() if hold_rule(config, normalise(text))}
        assert held == expected[level], level
    assert [p.spam for p in PRESETS] == [False, False, True, True]
    assert [p.first_time for p in PRESETS] == [False, False, False, True]


def test_explicit_switches_override_the_level() -> None:
    quiet = AutomodConfig(level=3, hold_links=False, hold_contacts=False)
    assert hold_rule(quiet, normalise("evil.com call 555-123-4567")) == ""
    loud = AutomodConfig(level=0, hold_links=True)
    assert hold_rule(loud, normalise("evil.com")) == "link"


def test_blocked_terms_are_refused_and_held_terms_held_at_level_zero() -> None:
    config = AutomodConfig(blocked_terms=(term_form("fake"),), held_terms=(term_form("refund"),))
    with pytest.raises(ApiError) as refused:
        screen_text(config, "ｆａｋｅ goods", 12)
    assert refused.value.code.name == "blocked_term"
    assert screen_text(config, "r e f u n d please", 12).hold_rule == "held_term"
    assert screen_text(config, "lovely", 12).hold_rule == ""


def test_spam_fingerprints_ignore_case_punctuation_and_disguises() -> None:
    config = AutomodConfig(level=2)
    first = screen_text(config, "BUY NOW at the best price!!!", 12)
    second = screen_text(config, "buy now at the best price", 12)
    third = screen_text(config, "buy nоw at the bеst price", 12)  # Cyrillic о, е
    assert first.fingerprint == second.fingerprint == third.fingerprint != ""
    assert first.copy_paste
    short = screen_text(config, "want!", 12)
    assert short.fingerprint
    assert not short.copy_paste
    assert screen_text(AutomodConfig(level=1), "BUY NOW at the best price", 12).fingerprint == ""


def test_the_confusables_table_is_the_generators_output() -> None:
    table = json.loads((ROOT / "livecommerce/moderation/confusables.json").read_text())
    assert table["\u0430"] == "a"
    assert table["\u0455"] == "s"
    assert all(len(k) == 1 and not k.isascii() and v.isascii() for k, v in table.items())
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts/gen_confusables.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
