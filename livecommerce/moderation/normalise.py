"""Chat text as automod reads it: one spelling for every way of writing the same thing.

:func:`normalise` gives three forms of a message, each built from the one before:

* ``skeleton``: compatibility-decomposed (NFKD: full-width ``ｗｗｗ``, circled ``①``
  and mathematical ``𝐰𝐰𝐰`` become plain letters and digits), combining marks and
  format characters (zero-width space and joiners, bidi controls, soft hyphen) dropped,
  every character that Unicode's confusables data says looks like an ASCII letter,
  digit or link/handle mark replaced by it (Cyrillic ``а`` → ``a``), case-folded, runs
  of white space made one space;
* ``despaced``: the skeleton with runs of three or more one-character words joined
  (``s c a m`` → ``scam``), for term lists;
* ``compact``: the skeleton with ``(dot)``, ``[dot]`` and `` dot `` written ``.``, the
  same for ``at`` and ``@``, and all white space removed (``w w w . x . com`` →
  ``www.x.com``), for links and addresses.

The confusables table (``confusables.json`` beside this module) is generated from
Unicode's ``confusables.txt`` by ``scripts/gen_confusables.py``; see that script for why
it is a generated table and not a run-time dependency.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
SPACES = re.compile(r"\s+")
SPELLED_DOT = re.compile(r"\s*(?:[(\[{]\s*dot\s*[)\]}]|\bdot\b)\s*")
SPELLED_AT = re.compile(r"\s*(?:[(\[{]\s*at\s*[)\]}]|\bat\b)\s*")
# Three or more one-character words in a row: "s c a m", "w.w.w" stays as it is.
SPACED_LETTERS = re.compile(r"(?<!\S)(?:\S[ ._*-]){2,}\S(?!\S)")
SPACERS = re.compile(r"[ ._*-]")
SPACER_CHARS = frozenset("._*-")


@lru_cache(maxsize=1)
def confusables_table() -> dict[int, str]:
    """``str.translate`` table: code point → the ASCII character it looks like."""
    raw = files("livecommerce.moderation").joinpath("confusables.json").read_text("utf-8")
    return {ord(char): target for char, target in json.loads(raw).items()}


@dataclass(frozen=True)
class Normalised:
    skeleton: str
    despaced: str
    compact: str
    lookalikes: bool  # a character was replaced by the ASCII one it looks like


def skeleton(text: str) -> tuple[str, bool]:
    """The skeleton form (see the module docstring) and whether lookalikes were replaced."""
    if text.isascii():
        return SPACES.sub(" ", text.lower()).strip(), False
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if unicodedata.category(c) not in DROPPED_CATEGORIES)
    table = confusables_table()
    mapped = kept.translate(table)
    folded = mapped.casefold().translate(table)
    lookalikes = any(_mixed(word, table) for word in kept.casefold().split())
    return SPACES.sub(" ", folded).strip(), lookalikes


def _mixed(word: str, table: dict[int, str]) -> bool:
    """A word with ASCII letters and look-alikes of them from another script."""
    ascii_letter = any("a" <= c <= "z" for c in word)
    return ascii_letter and any(not c.isascii() and ord(c) in table for c in word)


def normalise(text: str) -> Normalised:
    """The three forms of ``text`` automod's rules read."""
    plain, lookalikes = skeleton(text)
    despaced = plain
    if _may_be_spaced(plain):
        despaced = SPACED_LETTERS.sub(lambda m: SPACERS.sub("", m.group(0)), plain)
    compact = SPELLED_DOT.sub(".", plain) if "dot" in plain else plain
    compact = SPELLED_AT.sub("@", compact) if "at" in compact else compact
    return Normalised(plain, despaced, compact.replace(" ", ""), lookalikes)


def _may_be_spaced(plain: str) -> bool:
    """Whether :data:`SPACED_LETTERS` can match: a one-character word, or a separator
    inside a word (most lines have neither, and the regular expression is the costly
    part of normalising)."""
    return any(len(word) == 1 or SPACER_CHARS & set(word) for word in plain.split(" "))


def fingerprint_text(form: Normalised) -> str:
    """What two messages must share to count as the same message: letters and digits of
    the skeleton (``BUY NOW!!!`` and ``buy now`` are one)."""
    return "".join(c for c in form.skeleton if c.isalnum())
