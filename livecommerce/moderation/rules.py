"""Automod's text rules: each reads the normalised forms of a message and says whether
it matches. Pure functions, no store; docs/moderation.md lists them with examples and
tests/unit/test_automod_rules.py shows what each one catches and lets through.

| rule          | matches                                                              |
|---------------|----------------------------------------------------------------------|
| ``link``      | a web address: ``http(s)://``, ``www.``, or name.TLD for a common    |
|               | TLD, read from the compact form, outside the room's allowed domains  |
| ``email``     | an e-mail address (``(at)``/``[at]``/`` at `` count as ``@``) not at |
|               | one of the room's allowed domains                                    |
| ``phone``     | seven or more digits in a row, separators (space . - ( ) /) allowed, |
|               | digits spelled as words or letters o l i s b between digits read as |
|               | digits                                                               |
| ``payment``   | a payment handle or service: ``$cashtag``, venmo, paypal.me, zelle,  |
|               | cash app, wechat pay, alipay, revolut, western union, crypto wallets |
| ``off_platform`` | "dm me", "pm me", "text me", "whatsapp", "telegram", …: taking     |
|               | the buyer off the platform                                           |
| ``lookalikes``| letters from another script that look like Latin ones were used     |
| ``term``      | one of the room's held (or blocked) terms, in the skeleton or        |
|               | despaced form                                                        |
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from livecommerce.moderation.normalise import Normalised

TLDS = (
    "com|net|org|info|biz|io|co|me|shop|store|xyz|top|online|site|club|vip|live|app|link|"
    "ly|gg|tv|cc|to|be|us|uk|de|fr|ru|cn|in|br|jp|kr|au|ca|es|it|nl|pl|ph|id|my|sg|vn|th|"
    "tk|ml|ga|cf|gq|buzz|fun|icu|click|page|art|store|website|space|life|world|today|ws|"
    "su|ai|dev|pro|mobi|name|asia|tw|hk|mx|ar|cl|ng|za|ae|sa|tr|ua|kz|ir|pk|bd"
)
LINK = re.compile(
    r"(?:https?://|www\.)[^\s]+"
    r"|(?<![a-z0-9@.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + TLDS + r"))"
    r"(?![a-z0-9-])"
)
HOST = re.compile(r"(?:https?://)?(?:www\.)?([a-z0-9.-]+)")
EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
PHONE_DIGITS = 7
NUMBER_WORDS = {
    word: str(digit)
    for digit, word in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
} | {"oh": "0"}
NUMBER_WORD = re.compile(r"\b(?:" + "|".join(NUMBER_WORDS) + r")\b")
DIGIT_LETTERS = {"o": "0", "l": "1", "i": "1", "s": "5", "b": "8"}
# A letter that stands for a digit when digits surround it (separators allowed): 555-o12.
DIGIT_LOOKALIKE = re.compile(
    r"(?<=[0-9])[olisb](?=[\s.\-]?[0-9])|(?<=[0-9][\s.\-])[olisb](?=[0-9])"
)
NO_DIGITS = str.maketrans("", "", "0123456789")
PHONE = re.compile(r"(?<!\d)\+?\d(?:[\s().\-/]{0,3}\d){6,}(?!\d)")
PAYMENT = re.compile(
    r"(?<![a-z0-9])\$[a-z][a-z0-9_-]{1,19}"
    r"|\b(?:venmo|paypal\s*\.?\s*me|paypal|zelle|cash\s*app|cashapp|wechat\s*pay|alipay|"
    r"revolut|western\s*union|moneygram|usdt|bitcoin|btc\s*wallet|crypto\s*wallet|"
    r"gift\s*cards?)\b"
)
OFF_PLATFORM = re.compile(
    r"\b(?:dm|pm|inbox|message|msg|text|call|contact|add|whatsapp|wa)\s+me\b"
    r"|\b(?:whats\s*app|whatsapp|telegram|signal\s+me|wechat|line\s+id|kik|snap(?:chat)?)\b"
    r"|\bcheaper\s+(?:price\s+)?(?:outside|off|elsewhere|direct)"
)


def domain_allowed(host: str, allowed: Iterable[str]) -> bool:
    """``host`` is one of ``allowed`` or a subdomain of one."""
    return any(host == domain or host.endswith("." + domain) for domain in allowed)


def _without_allowed(text: str, allowed: tuple[str, ...]) -> str:
    for domain in allowed:
        text = text.replace(domain, " ")
    return text


def has_link(form: Normalised, allowed: tuple[str, ...] = ()) -> bool:
    """A web address outside ``allowed`` in the skeleton (spaces kept) or the compact form
    (spaces removed, spelled dots written)."""
    compact = form.compact
    if "." not in compact and "www" not in compact and "http" not in compact:
        return False  # every form of a link has one of these (cheap test first)
    for text in (form.skeleton, compact):
        for match in LINK.finditer(_without_allowed(text, allowed)):
            host_match = HOST.match(match.group(0))
            host = host_match.group(1).strip(".") if host_match else ""
            if not domain_allowed(host, allowed):
                return True
    return False


def has_email(form: Normalised, allowed: tuple[str, ...] = ()) -> bool:
    """An e-mail address whose domain is not one of ``allowed`` (the shop's own)."""
    if "@" not in form.compact:
        return False
    for text in (form.skeleton, form.compact):
        for match in EMAIL.finditer(text):
            if not domain_allowed(match.group(0).rpartition("@")[2], allowed):
                return True
    return False


def has_phone(form: Normalised) -> bool:
    """A phone number in the skeleton, digits spelled as words (``five five five``) or
    letters standing in for digits between digits (``555-O12``) read as digits."""
    text = form.skeleton
    if NUMBER_WORD.search(text) is not None:
        text = NUMBER_WORD.sub(lambda m: NUMBER_WORDS[m.group(0)], text)
    if len(text) - len(text.translate(NO_DIGITS)) < PHONE_DIGITS:
        return False  # too few digits for a number (cheap test first)
    text = DIGIT_LOOKALIKE.sub(lambda m: DIGIT_LETTERS[m.group(0)], text)
    return PHONE.search(text) is not None


def _search(pattern: re.Pattern[str], form: Normalised) -> bool:
    """``pattern`` in the skeleton, or in the despaced form when that differs."""
    if pattern.search(form.skeleton) is not None:
        return True
    return form.despaced != form.skeleton and pattern.search(form.despaced) is not None


def has_payment_handle(form: Normalised) -> bool:
    return _search(PAYMENT, form)


def has_off_platform(form: Normalised) -> bool:
    return _search(OFF_PLATFORM, form)


def first_term(form: Normalised, terms: tuple[str, ...]) -> str | None:
    """The first of ``terms`` (each given in skeleton form) in the skeleton or the
    despaced form of the message."""
    for term in terms:
        if term in form.skeleton or term in form.despaced:
            return term
    return None
