"""``livecommerce-mod ROOM review | approve ID | deny ID [--timeout 10m] | shield on|off |
automod [...]``: the review queue, shield mode and automod settings."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from clients.moderator.api import ModerationApi
from clients.moderator.durations import parse_duration

ACTIONS = ("review", "approve", "deny", "shield", "automod")
SWITCH = {"on": True, "off": False, "default": None}


def add_parsers(actions: Any) -> None:
    actions.add_parser("review", help="list the messages waiting for review, oldest first")
    approve = actions.add_parser("approve", help="publish a held message (or keep a reported one)")
    approve.add_argument("item_id")
    deny = actions.add_parser("deny", help="drop a held message (or delete a reported one)")
    deny.add_argument("item_id")
    deny.add_argument("--timeout", help="also time the author out, e.g. 10m")
    shield = actions.add_parser("shield", help="shield mode: strict chat rules on or off")
    shield.add_argument("state", choices=("on", "off"))
    automod = actions.add_parser(
        "automod", help="show automod settings, or change those given (docs/moderation.md)"
    )
    automod.add_argument("--level", type=int, choices=range(4), help="0 off .. 3 high")
    automod.add_argument("--held", nargs="*", metavar="TERM", help="held terms (replaces)")
    automod.add_argument("--blocked", nargs="*", metavar="TERM", help="blocked terms (replaces)")
    automod.add_argument("--allow", nargs="*", metavar="DOMAIN", help="allowed link domains")
    for flag, help_text in (
        ("--hold-links", "hold links: on, off or default (the level's choice)"),
        ("--hold-contacts", "hold phones, e-mails, payment handles: on, off or default"),
        ("--first-time", "hold first-time chatters: on or off"),
        ("--buyers-only", "only the room's buyers may chat: on or off"),
    ):
        automod.add_argument(flag, choices=tuple(SWITCH), help=help_text)


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if args.level is not None:
        changes["level"] = args.level
    for option, field in (
        ("held", "held_terms"),
        ("blocked", "blocked_terms"),
        ("allow", "allowed_domains"),
    ):
        if getattr(args, option) is not None:
            changes[field] = getattr(args, option)
    for option, field in (("hold_links", "hold_links"), ("hold_contacts", "hold_contacts")):
        if getattr(args, option) is not None:
            changes[field] = SWITCH[getattr(args, option)]
    for option, field in (("first_time", "hold_first_time"), ("buyers_only", "buyers_only")):
        value = getattr(args, option)
        if value is not None:
            if value == "default":
                raise ValueError(f"--{option.replace('_', '-')} is on or off")
            changes[field] = SWITCH[value]
    return changes


def _item_line(item: dict[str, Any]) -> str:
    when = time.strftime("%H:%M:%S", time.localtime(item["ts"] / 1000))
    state = "shown" if item["visible"] else "held"
    reports = f" reports={item['reports']}" if item["reports"] else ""
    return (
        f"{item['id']}  {when}  {item['user']}  [{item['rule']}, {state}{reports}]  {item['text']}"
    )


def _settings_lines(settings: dict[str, Any]) -> list[str]:
    effective = ", ".join(name for name, on in settings["effective"].items() if on) or "nothing"
    shield = " — shield on" if settings["shield"] else ""
    return [
        f"level {settings['level']} ({settings['level_name']}){shield}",
        f"holds: {effective}",
        f"held terms: {', '.join(settings['held_terms']) or '-'}",
        f"blocked terms: {', '.join(settings['blocked_terms']) or '-'}",
        f"allowed domains: {', '.join(settings['allowed_domains']) or '-'}",
        f"buyers only: {'yes' if settings['buyers_only'] else 'no'}",
    ]


def run(args: argparse.Namespace, api: ModerationApi) -> int:
    """Run one of :data:`ACTIONS`; prints a line per result (or the JSON with --json)."""
    if args.action == "review":
        answer = api.review(args.room)
        lines = [_item_line(item) for item in answer["items"]] or [
            f"nothing waits for review in room {args.room}"
        ]
    elif args.action in ("approve", "deny"):
        body: dict[str, Any] = {}
        if args.action == "deny" and args.timeout:
            body["timeout_s"] = parse_duration(args.timeout)
        answer = api.decide(args.room, args.item_id, args.action, body)
        done = "approved" if args.action == "approve" else "denied"
        lines = [
            f"ok: {done} {args.item_id}" + (f" as {answer['chat_id']}" if answer["chat_id"] else "")
        ]
    elif args.action == "shield":
        answer = api.shield(args.room, args.state == "on")
        note = "" if answer["changed"] else " (it already was)"
        lines = [f"ok: shield {args.state}{note}; slow mode {answer['slow_mode_s']} s"]
        lines += _settings_lines(answer["settings"])
    else:
        answer = api.automod(args.room, _changes(args))
        lines = _settings_lines(answer["settings"])
    print(json.dumps(answer, indent=2) if args.json else "\n".join(lines))
    return 0
