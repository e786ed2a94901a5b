"""``livecommerce hooks dead-letters | replay [ID…]``: the operator's view of the dead letters.

The commands talk to the store directly (``store.url``). Without a store URL
they use the embedded store of ``store.data_dir``: the running node's one
when it answers on its socket, else one started for the command and stopped
after (the node is not running, so its data is at rest).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from typing import Any, TextIO

import redis

from livecommerce.config import Settings
from livecommerce.hooks.dead_letters import DeadLetter, load_all, requeue, select
from livecommerce.store import client as store_client
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.store.embedded import EmbeddedStoreError, EmbeddedValkey
from livecommerce.store.keys import Keys

EXIT_OK = 0
EXIT_FAILURE = 1
ERROR_COLUMN_CHARS = 60
STORE_ERRORS: tuple[type[BaseException], ...] = (EmbeddedStoreError, *STORE_UNAVAILABLE_ERRORS)


def add_hooks_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``hooks`` to the CLI's subcommands (``commands`` from ``add_subparsers``)."""
    hooks: argparse.ArgumentParser = commands.add_parser(
        "hooks", help="webhook dead letters: list them, replay them"
    )
    _store_options(hooks, None)
    # The same options after the action too; there they default to nothing, so a value
    # given before the action stays.
    after = argparse.ArgumentParser(add_help=False)
    _store_options(after, argparse.SUPPRESS)
    actions = hooks.add_subparsers(dest="hooks_command", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "dead-letters", parents=[after], help="list deliveries that gave up"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    replay = actions.add_parser(
        "replay",
        parents=[after],
        help="deliver dead letters again (all of them when no ID is given)",
    )
    replay.add_argument(
        "ids", nargs="*", metavar="ID", help="dead-letter id, or event id (every endpoint)"
    )
    replay.add_argument("--json", action="store_true", help="print JSON instead of text")
    return hooks


def _store_options(parser: argparse.ArgumentParser, default: str | None) -> None:
    parser.add_argument(
        "--config", metavar="FILE", default=default, help="TOML file overlaid on the defaults"
    )
    parser.add_argument(
        "--redis-url", metavar="URL", default=default, help="store URL (default store.url)"
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=default,
        help="the embedded store's data dir (store.data_dir)",
    )


def run_hooks_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``hooks dead-letters`` or ``hooks replay``; the exit status."""
    embedded: EmbeddedValkey | None = None
    try:
        url, embedded = _store_url(settings)
        return asyncio.run(_run(args, settings, url, sys.stdout))
    except STORE_ERRORS as exc:
        print(f"livecommerce hooks: store unavailable: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        if embedded is not None:
            embedded.stop()


def _store_url(settings: Settings) -> tuple[str, EmbeddedValkey | None]:
    """The store to use, and the embedded store started for this command (if any)."""
    if settings.store.url:
        return settings.store.url, None
    embedded = EmbeddedValkey(settings.store.data_dir, settings.store.embedded_start_timeout_s)
    if embedded.socket_path is not None and embedded.socket_path.exists():
        probe = redis.Redis.from_url(embedded.url, socket_timeout=1, socket_connect_timeout=1)
        try:
            if probe.ping():
                return embedded.url, None  # the running node's store
        except (redis.ConnectionError, redis.TimeoutError):
            pass
        finally:
            probe.close()
    if embedded.pid_file.exists():
        raise EmbeddedStoreError(
            f"the embedded store of {embedded.data_dir} does not answer on a socket; "
            "pass --redis-url (or stop the node)"
        )
    embedded.start()  # no node runs on this data dir: its data is at rest
    return embedded.url, embedded


async def _run(args: argparse.Namespace, settings: Settings, url: str, out: TextIO) -> int:
    keys = Keys(settings.store.key_prefix)
    client = store_client.connect(
        url,
        connect_timeout_s=settings.store.connect_timeout_s,
        command_timeout_s=settings.store.command_timeout_s,
        retries=settings.store.retries,
    )
    try:
        if args.hooks_command == "dead-letters":
            letters = await load_all(client, keys)
            out.write(_as_json(letters) if args.json else format_table(letters))
            return EXIT_OK
        ids: list[str] | None = list(args.ids) or None
        chosen = select(await load_all(client, keys), ids)
        replayed = [letter for letter in chosen if await requeue(client, keys, letter)]
        report = _replay_report(ids, chosen, replayed)
        out.write(json.dumps(report, indent=2) + "\n" if args.json else _replay_text(report))
        return EXIT_OK if not report["unknown"] and not report["not_replayed"] else EXIT_FAILURE
    finally:
        await client.aclose()


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def format_table(letters: list[DeadLetter]) -> str:
    """The dead letters as a plain text table, oldest first."""
    if not letters:
        return "no dead letters\n"
    header = ("ID", "EVENT", "TYPE", "ATTEMPTS", "DIED (UTC)", "URL", "LAST ERROR")
    rows = [header] + [
        (
            letter.id,
            letter.event_id or "-",
            letter.type or "-",
            str(letter.attempts),
            _iso(letter.dead_at_ms),
            letter.url,
            _shorten(letter.error),
        )
        for letter in letters
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + f"\n{len(letters)} dead letter(s)\n"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_COLUMN_CHARS else text[: ERROR_COLUMN_CHARS - 1] + "…"


def _as_json(letters: list[DeadLetter]) -> str:
    return json.dumps([asdict(letter) for letter in letters], indent=2, ensure_ascii=False) + "\n"


def _replay_report(
    ids: list[str] | None, chosen: list[DeadLetter], replayed: list[DeadLetter]
) -> dict[str, list[str]]:
    known = {letter.id for letter in chosen} | {letter.event_id for letter in chosen}
    done = {letter.id for letter in replayed}
    return {
        "replayed": sorted(done),
        "not_replayed": sorted(letter.id for letter in chosen if letter.id not in done),
        "unknown": sorted(set(ids or ()) - known),
    }


def _replay_text(report: dict[str, list[str]]) -> str:
    lines = [f"replayed {len(report['replayed'])} dead letter(s)"]
    lines += [f"  {letter_id}" for letter_id in report["replayed"]]
    if report["not_replayed"]:
        lines.append("not replayed (the outbox entry or the endpoint's group is gone):")
        lines += [f"  {letter_id}" for letter_id in report["not_replayed"]]
    if report["unknown"]:
        lines.append("no dead letter with these ids: " + ", ".join(report["unknown"]))
    return "\n".join(lines) + "\n"
