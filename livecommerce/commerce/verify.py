"""``livecommerce giveaway verify ID --server URL``: check a drawn giveaway as a third party.

Reads ``GET /api/giveaways/{id}`` and ``GET /api/giveaways/{id}/entrants`` from the server
(nothing else: no token, no store), then checks that the revealed seed matches the
commitment published at the start and that the draw of :mod:`livecommerce.commerce.draw`
over the published entrants gives the published winners.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, TextIO

from livecommerce.commerce import draw

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_UNREADABLE = 2
TIMEOUT_S = 30.0


def add_giveaway_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``giveaway`` to the CLI's subcommands (``commands`` from ``add_subparsers``)."""
    giveaway: argparse.ArgumentParser = commands.add_parser(
        "giveaway", help="giveaways: verify a draw from what the server published"
    )
    actions = giveaway.add_subparsers(dest="giveaway_command", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="recompute a drawn giveaway's winners from its seed and entrants"
    )
    verify.add_argument("giveaway", metavar="ID", help="the giveaway's id")
    verify.add_argument(
        "--server", default="http://127.0.0.1:8080", help="the server's URL (default: %(default)s)"
    )
    return giveaway


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        return json.loads(response.read())


def _refusal(error: urllib.error.HTTPError) -> str:
    """The server's ``code: message`` when it answered with its JSON error, else the status."""
    try:
        body = json.loads(error.read())
        return f"{body['error']['code']}: {body['error']['message']}"
    except (OSError, ValueError, KeyError, TypeError):
        return f"HTTP {error.code} {error.reason}"


def run_giveaway_command(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    server = args.server.rstrip("/")
    if not server.startswith(("http://", "https://")):
        print(f"livecommerce: --server must be an http(s) URL, not {server!r}", file=out)
        return EXIT_UNREADABLE
    base = f"{server}/api/giveaways/{urllib.parse.quote(args.giveaway, safe='')}"
    try:
        giveaway = _get(base)
        entrants = _get(f"{base}/entrants")["entrants"]
    except urllib.error.HTTPError as error:
        print(f"livecommerce: could not read the giveaway: {_refusal(error)}", file=out)
        return EXIT_UNREADABLE
    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as error:
        print(f"livecommerce: could not read the giveaway: {error}", file=out)
        return EXIT_UNREADABLE
    if giveaway.get("seed") is None:
        print(f"giveaway {args.giveaway} is {giveaway.get('status')}: not drawn yet", file=out)
        return EXIT_UNREADABLE
    winners = giveaway["winners"]
    problems = draw.verify(giveaway["seed"], giveaway["commitment"], entrants, winners)
    print(f"giveaway    {giveaway['id']}", file=out)
    print(f"commitment  {giveaway['commitment']}", file=out)
    print(f"seed        {giveaway['seed']}", file=out)
    print(f"entrants    {len(entrants)}", file=out)
    print(f"winners     {', '.join(winners) or '(none)'}", file=out)
    if problems:
        for problem in problems:
            print(f"MISMATCH: {problem}", file=out)
        return EXIT_MISMATCH
    print("verified: the seed matches the commitment and the draw gives these winners", file=out)
    return EXIT_OK
