"""Strings from clients: what an identifier may hold and how chat text is cleaned.

The chat rule (docs/channel.md, "Chat text"):

* refused with ``invalid_field``: control characters (Unicode ``Cc``: C0 other
  than tab and newline, DEL, C1) and lone surrogates — no honest client sends them;
* U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR become a newline;
* removed: format characters (``Cf``: bidi embeddings, overrides, isolates and
  marks, zero-width space, word joiner, byte-order mark, soft hyphen, tag
  characters, …), except U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH
  JOINER, which Persian and Indic scripts and emoji sequences need;
* then trimmed; a message with no visible character left (letters, digits,
  punctuation, symbols) is refused with ``invalid_field``.
"""

from __future__ import annotations

import unicodedata

from livecommerce.channel.wire import ProtocolError

JOINERS = frozenset("\u200c\u200d")
KEPT_CONTROLS = frozenset("\n\t")
LINE_SEPARATORS = frozenset("\u2028\u2029")
# Letters and symbols that render as nothing: used to post "empty" messages or names.
BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_printable_identifier(value: str, max_chars: int) -> bool:
    """1..``max_chars`` characters, none of them a control, format, separator
    (other than the space) or surrogate character."""
    return 1 <= len(value) <= max_chars and value.isprintable()


def clean_chat_text(raw: str, max_chars: int) -> str:
    """The text as stored and shown, per the module's rule; :class:`ProtocolError` if refused."""
    text = raw if raw.isprintable() else _strip_invisible(raw)
    text = text.strip()
    if not _visible(text):
        raise ProtocolError("invalid_field", "A chat message must have a visible character.")
    if len(text) > max_chars:
        raise ProtocolError(
            "message_too_long", f"A chat message may have at most {max_chars} characters."
        )
    return text


def _strip_invisible(raw: str) -> str:
    kept: list[str] = []
    for char in raw:
        if char in KEPT_CONTROLS or char in JOINERS:
            kept.append(char)
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs"):
            raise ProtocolError(
                "invalid_field",
                f"A chat message must not contain control characters (U+{ord(char):04X}).",
            )
        if char in LINE_SEPARATORS:
            kept.append("\n")
        elif category != "Cf":
            kept.append(char)
    return "".join(kept)


def _visible(text: str) -> bool:
    if text.isascii():
        return bool(text)  # stripped printable ASCII: every character shows
    return any(
        char not in BLANK_LOOKALIKES
        and (unicodedata.category(char)[0] in "LNPS" or unicodedata.category(char) in ("Co", "Cn"))
        for char in text
    )


def folded(text: str) -> str:
    """``text`` as compared with blocked terms: NFKC, case-folded, joiners removed, so
    ``ｓｃａｍ`` or ``sc\u200dam`` still match ``scam``."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in normal if char not in JOINERS)
