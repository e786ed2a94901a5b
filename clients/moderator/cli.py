"""``livecommerce-mod --server URL --token T ROOM ACTION [ARGS]``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from clients.moderator import review_commands
from clients.moderator.api import ModerationApi, ModerationApiError
from clients.moderator.durations import parse_duration

EXIT_USAGE = 2
EXIT_REFUSED = 1
# LIVECOMMERCE_MOD_*: a prefix the server's settings can never use (see livecommerce/config.py).
TOKEN_ENV = "LIVECOMMERCE_MOD_TOKEN"
SERVER_ENV = "LIVECOMMERCE_MOD_SERVER"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livecommerce-mod",
        description="Moderate a livecommerce room: mutes, bans, deletions, slow mode, audit log, "
        "the review queue, shield mode and automod.",
    )
    parser.add_argument(
        "--server",
        default=os.environ.get(SERVER_ENV) or "http://127.0.0.1:8080",
        help=f"server URL (or env {SERVER_ENV}; default http://127.0.0.1:8080)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"moderator, admin or the room's anchor (or env {TOKEN_ENV}, which other "
        "users of this machine cannot read, unlike a command line)",
    )
    parser.add_argument("--json", action="store_true", help="print the server's JSON answer")
    parser.add_argument("room")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    mute_room = actions.add_parser("mute-room", help="only the anchor and moderators may chat")
    mute_room.add_argument("--for", dest="duration", help="e.g. 10m; without it, until unmute-room")
    actions.add_parser("unmute-room", help="everyone may chat again")
    mute_user = actions.add_parser("mute-user", help="a timeout for one user")
    mute_user.add_argument("user")
    mute_user.add_argument("--for", dest="duration", default="10m", help="default 10m")
    unmute_user = actions.add_parser("unmute-user", help="end a user's timeout now")
    unmute_user.add_argument("user")
    ban = actions.add_parser("ban", help="disconnect a user and keep them out")
    ban.add_argument("user")
    unban = actions.add_parser("unban", help="let a banned user back in")
    unban.add_argument("user")
    delete = actions.add_parser("delete", help="remove a chat message for everyone")
    delete.add_argument("message_id")
    slow = actions.add_parser(
        "slow-mode", help="seconds between a viewer's messages; 0 turns it off"
    )
    slow.add_argument("seconds", type=int)
    log = actions.add_parser("log", help="show the audit log, newest first")
    log.add_argument("--limit", type=int, default=50)
    review_commands.add_parsers(actions)
    for sub in (
        mute_room,
        actions.choices["unmute-room"],
        mute_user,
        unmute_user,
        ban,
        unban,
        slow,
    ):
        sub.add_argument("--reason", default=None, help="recorded in the audit log")
    return parser


def _body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if getattr(args, "user", None):
        body["user"] = args.user
    if getattr(args, "duration", None):
        body["duration_s"] = parse_duration(args.duration)
    if args.action == "slow-mode":
        body["interval_s"] = args.seconds
    if getattr(args, "reason", None):
        body["reason"] = args.reason
    return body


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    if ms < 0:
        return "until lifted"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def _describe(entry: dict[str, Any]) -> str:
    parts = [_when(entry["ts"]), f"{entry['actor']} ({entry['actor_role']})", entry["action"]]
    if entry.get("target"):
        parts.append(str(entry["target"]))
    if entry.get("duration_s"):
        parts.append(f"for {entry['duration_s']}s")
    if entry.get("until"):
        parts.append(f"until {_when(entry['until'])}")
    if entry.get("rule") and entry.get("rule") != entry.get("reason"):
        parts.append(f"rule {entry['rule']}")
    if entry.get("reason"):
        parts.append(f"— {entry['reason']}")
    return "  ".join(parts)


def run(args: argparse.Namespace, api: ModerationApi) -> int:
    if args.action in review_commands.ACTIONS:
        return review_commands.run(args, api)
    if args.action == "log":
        answer = api.log(args.room, args.limit)
        if args.json:
            print(json.dumps(answer, indent=2))
        elif not answer["entries"]:
            print(f"no moderation actions in room {args.room}")
        for entry in answer["entries"] if not args.json else []:
            print(_describe(entry))
        return 0
    if args.action == "delete":
        answer = api.delete_message(args.room, args.message_id)
    else:
        answer = api.act(args.room, args.action, _body(args))
    print(json.dumps(answer, indent=2) if args.json else f"ok: {_describe(answer['entry'])}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.token:
        parser.error(f"a token is needed: --token T or env {TOKEN_ENV}")
    try:
        return run(args, ModerationApi(args.server, args.token))
    except ValueError as error:
        print(f"livecommerce-mod: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ModerationApiError as failure:
        print(f"livecommerce-mod: {failure.code}: {failure.message}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
