"""Automod: a room's settings, its level presets, and the verdict on a message's text.

Levels (docs/moderation.md has the table with examples):

| level | name   | holds, beyond the room's held terms                                 |
|-------|--------|---------------------------------------------------------------------|
| 0     | off    | nothing                                                             |
| 1     | low    | contacts: phone numbers, e-mail addresses, payment handles,         |
|       |        | off-platform asks ("dm me", whatsapp, telegram)                     |
| 2     | medium | level 1, links outside the allowed domains, one user's repeated     |
|       |        | message, the same message from several users (copy-paste)           |
| 3     | high   | level 2, look-alike letters from other scripts, first-time chatters |

``hold_links`` and ``hold_contacts`` override the level's choice when set; blocked terms
are refused and held terms held at every level. The room's anchor and staff are never
screened.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from livecommerce.errors import ApiError, ErrorCode
from livecommerce.moderation import rules
from livecommerce.moderation.normalise import Normalised, fingerprint_text, normalise, skeleton

LEVEL_NAMES = ("off", "low", "medium", "high")
LIST_FIELDS = ("held_terms", "blocked_terms", "allowed_domains")
FLAG_FIELDS = ("hold_links", "hold_contacts", "hold_first_time", "buyers_only")


@dataclass(frozen=True)
class Preset:
    contacts: bool
    links: bool
    spam: bool
    lookalikes: bool
    first_time: bool


PRESETS = (
    Preset(contacts=False, links=False, spam=False, lookalikes=False, first_time=False),
    Preset(contacts=True, links=False, spam=False, lookalikes=False, first_time=False),
    Preset(contacts=True, links=True, spam=True, lookalikes=False, first_time=False),
    Preset(contacts=True, links=True, spam=True, lookalikes=True, first_time=True),
)


def term_form(term: str) -> str:
    """A held or blocked term as the rules compare it (the skeleton form)."""
    return skeleton(term)[0]


def domain_form(domain: str) -> str:
    """An allowed domain as compared: the skeleton, without a scheme, ``www.`` or path."""
    plain = term_form(domain).removeprefix("https://").removeprefix("http://")
    return plain.removeprefix("www.").split("/", 1)[0].strip(".")


@dataclass(frozen=True)
class AutomodConfig:
    """A room's automod settings as stored (``P{r:ROOM}:automod``)."""

    level: int = 0
    held_terms: tuple[str, ...] = ()
    blocked_terms: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    hold_links: bool | None = None
    hold_contacts: bool | None = None
    hold_first_time: bool = False
    buyers_only: bool = False
    shield: bool = False

    @property
    def preset(self) -> Preset:
        return PRESETS[self.level]

    @property
    def links_held(self) -> bool:
        return self.preset.links if self.hold_links is None else self.hold_links

    @property
    def contacts_held(self) -> bool:
        return self.preset.contacts if self.hold_contacts is None else self.hold_contacts

    @property
    def first_time_held(self) -> bool:
        return self.hold_first_time or self.preset.first_time

    @property
    def screens(self) -> bool:
        """Whether any rule can act: a room at level 0 with no terms costs nothing."""
        return bool(
            self.level
            or self.held_terms
            or self.blocked_terms
            or self.links_held
            or self.contacts_held
            or self.first_time_held
            or self.buyers_only
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "level_name": LEVEL_NAMES[self.level],
            "held_terms": list(self.held_terms),
            "blocked_terms": list(self.blocked_terms),
            "allowed_domains": list(self.allowed_domains),
            "hold_links": self.hold_links,
            "hold_contacts": self.hold_contacts,
            "hold_first_time": self.hold_first_time,
            "buyers_only": self.buyers_only,
            "shield": self.shield,
            "effective": {
                "links": self.links_held,
                "contacts": self.contacts_held,
                "spam": self.preset.spam,
                "lookalikes": self.preset.lookalikes,
                "first_time": self.first_time_held,
            },
        }

    @classmethod
    def from_hash(cls, fields: dict[str, str], default_level: int) -> AutomodConfig:
        """The settings from the stored hash; fields never set take the defaults."""

        def flag(name: str) -> bool | None:
            value = fields.get(name)
            return None if value is None else value == "1"

        def terms(name: str) -> tuple[str, ...]:
            raw = fields.get(name)
            return tuple(json.loads(raw)) if raw else ()

        level = int(fields.get("level", default_level))
        return cls(
            level=min(max(level, 0), 3),
            held_terms=terms("held_terms"),
            blocked_terms=terms("blocked_terms"),
            allowed_domains=terms("allowed_domains"),
            hold_links=flag("hold_links"),
            hold_contacts=flag("hold_contacts"),
            hold_first_time=flag("hold_first_time") or False,
            buyers_only=flag("buyers_only") or False,
            shield=flag("shield") or False,
        )


def hash_fields(changes: dict[str, Any]) -> list[str]:
    """Field, value pairs for ``moderation_automod.lua`` ('' removes a field)."""
    pairs: list[str] = []
    for name, value in changes.items():
        if name == "level":
            text = str(value)
        elif name in LIST_FIELDS:
            text = json.dumps(list(value), ensure_ascii=False) if value else ""
        elif value is None:
            text = ""
        else:
            text = "1" if value else "0"
        pairs += [name, text]
    return pairs


@dataclass(frozen=True)
class TextVerdict:
    """What the text rules decided: the rule that holds it ('' none) and the fingerprint
    for the spam rules ('' when they are off)."""

    hold_rule: str = ""
    fingerprint: str = ""
    copy_paste: bool = False


def screen_text(config: AutomodConfig, text: str, copy_paste_min_chars: int) -> TextVerdict:
    """The text rules' verdict; :class:`ApiError` ``blocked_term`` for a blocked term."""
    form = normalise(text)
    if rules.first_term(form, config.blocked_terms) is not None:
        raise ApiError(ErrorCode.blocked_term)
    fingerprint = ""
    copy_paste = False
    if config.preset.spam:
        letters = fingerprint_text(form)
        fingerprint = hashlib.blake2b(letters.encode(), digest_size=8).hexdigest()
        copy_paste = len(letters) >= copy_paste_min_chars
    verdict = TextVerdict("", fingerprint, copy_paste)
    rule = hold_rule(config, form)
    return replace(verdict, hold_rule=rule) if rule else verdict


def hold_rule(config: AutomodConfig, form: Normalised) -> str:
    """The first text rule that holds the message, or ''."""
    if rules.first_term(form, config.held_terms) is not None:
        return "held_term"
    if config.contacts_held:
        if rules.has_phone(form):
            return "phone"
        if rules.has_email(form, config.allowed_domains):
            return "email"
        if rules.has_payment_handle(form):
            return "payment"
        if rules.has_off_platform(form):
            return "off_platform"
    if config.links_held and rules.has_link(form, config.allowed_domains):
        return "link"
    if config.preset.lookalikes and form.lookalikes:
        return "lookalikes"
    return ""
