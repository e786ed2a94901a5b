"""``livecommerce-anchor``: go live over WHIP, stay live (reconnecting), run the console."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer

from clients.anchor.commands import CURRENCY
from clients.anchor.filesource import FilePacketTrack, SharedClock, UnsupportedFileError, probe
from clients.anchor.line_console import ConsoleOptions, LiveConsole, stdin_lines
from clients.anchor.output import Printer
from clients.anchor.testsrc import PatternVideoTrack, ToneAudioTrack
from clients.anchor.watch import PublicationWatch
from clients.anchor.whip import PublishError, publish
from media.tasks import Supervisor

MAX_BACKOFF_S = 30.0
# The first retry after a failed publish comes soon: a drained node's room waits, live,
# for its anchor only ``media.handover_s``.
FIRST_RETRY_S = 0.25
# --source none: publish nothing, run the console only.
NO_SOURCE = "none"
# How long the console has to end by itself (it stops its own tasks) before it is cancelled.
CONSOLE_STOP_S = 2.0
# LIVECOMMERCE_ANCHOR_*: a prefix the server's settings can never use (see livecommerce/config.py).
TOKEN_ENV = "LIVECOMMERCE_ANCHOR_TOKEN"
SERVER_ENV = "LIVECOMMERCE_ANCHOR_SERVER"
Tracks = tuple[list[MediaStreamTrack], dict[str, str]]


@dataclass(frozen=True)
class Options:
    server: str
    token: str
    room: str
    source: str
    size: tuple[int, int]
    once: bool
    status_every_s: float = 10.0
    console: bool = False
    stats_every_s: float = 2.0
    currency: str = "EUR"
    full_screen: bool = False


def _read_token(
    parser: argparse.ArgumentParser, args: argparse.Namespace, environ: Mapping[str, str]
) -> str:
    """--token, else the first line of --token-file, else the environment."""
    if args.token:
        return str(args.token)
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            parser.error(f"--token-file: cannot read {args.token_file}: {exc}")
        if not token:
            parser.error(f"--token-file: {args.token_file} is empty")
        return token
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        parser.error(f"a token is needed: --token-file FILE, env {TOKEN_ENV}, or --token T")
    return token


def parse_args(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> Options:
    """The options from ``argv`` and ``environ`` (default: the process's)."""
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="livecommerce-anchor",
        description="Publish a room's stream over WHIP and run the live console "
        "(viewers, chat, orders, stock; type help for its commands).",
    )
    parser.add_argument(
        "--server",
        default=env.get(SERVER_ENV) or None,
        help=f"server URL, e.g. http://127.0.0.1:8080 (or env {SERVER_ENV})",
    )
    token = parser.add_mutually_exclusive_group()
    token.add_argument(
        "--token",
        help="the room anchor's access token; other users of this machine can read a "
        f"command line, so prefer --token-file or env {TOKEN_ENV}",
    )
    token.add_argument(
        "--token-file", metavar="FILE", help="read the anchor's token from FILE (first line)"
    )
    parser.add_argument("--room", required=True, help="the room id")
    parser.add_argument(
        "--source",
        default="testsrc",
        help="FILE (looped, sent without re-encoding when VP8/H.264 + Opus), "
        "camera (v4l2 /dev/video0), screen (x11grab :0.0), testsrc (default), or none "
        "(publish nothing: the console only, beside another publisher such as OBS)",
    )
    parser.add_argument("--size", default="640x360", help="testsrc/camera/screen size WxH")
    parser.add_argument("--once", action="store_true", help="do not reconnect; exit on failure")
    parser.add_argument(
        "--status-every",
        type=float,
        default=10.0,
        help="print the stream's counters on stderr every N s (0: never)",
    )
    parser.add_argument(
        "--no-console", action="store_true", help="only publish: no live console on stdin/stdout"
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="the line console (commands on stdin, events on stdout) even on a terminal; "
        "without it a terminal gets the full-screen console",
    )
    parser.add_argument(
        "--stats-every", type=float, default=2.0, help="poll orders and GMV every N s (0: never)"
    )
    parser.add_argument(
        "--currency", default="EUR", help="currency of products added from the console"
    )
    args = parser.parse_args(argv)
    if not args.server:
        parser.error(f"a server is needed: --server URL or env {SERVER_ENV}")
    access_token = _read_token(parser, args, env)
    if args.source == NO_SOURCE and args.no_console:
        parser.error("--source none publishes nothing: it needs the console (drop --no-console)")
    if not CURRENCY.match(args.currency):
        parser.error(f"--currency must be an ISO 4217 code like EUR, not {args.currency!r}")
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size must look like 640x360, not {args.size!r}")
    # Textual draws on stderr and reads stdin: all three must be the terminal.
    terminal = all(stream.isatty() for stream in (sys.stdin, sys.stdout, sys.stderr))
    full_screen = not (args.plain or args.no_console) and terminal
    return Options(
        args.server, access_token, args.room, args.source, (width, height), args.once,
        0.0 if full_screen else args.status_every, not args.no_console, args.stats_every,
        args.currency, full_screen,
    )  # fmt: skip


def source_factory(options: Options) -> Callable[[], Tracks]:
    """A function making fresh tracks for each attempt (aiortc stops a sender's track)."""
    width, height = options.size
    if options.source == "testsrc":
        return lambda: ([PatternVideoTrack(width, height), ToneAudioTrack()], {})
    if options.source in ("camera", "screen"):
        device, kind, params = (
            ("/dev/video0", "v4l2", {"video_size": f"{width}x{height}"})
            if options.source == "camera"
            else (":0.0", "x11grab", {"video_size": f"{width}x{height}", "framerate": "30"})
        )

        def device_tracks() -> Tracks:
            player = MediaPlayer(device, format=kind, options=params)
            return [t for t in (player.video, player.audio) if t is not None], {}

        return device_tracks
    path = Path(options.source)
    if not path.is_file():
        raise PublishError(
            f"source {options.source!r} is not a file, camera, screen or testsrc", fatal=True
        )
    try:
        codecs = probe(path)
    except UnsupportedFileError:
        # Not WebRTC codecs: decode and let aiortc encode (costs CPU on this machine only).
        def reencoded() -> Tracks:
            player = MediaPlayer(str(path), loop=True)
            return [t for t in (player.video, player.audio) if t is not None], {}

        return reencoded

    def packets() -> Tracks:
        clock = SharedClock()
        return [FilePacketTrack(path, kind, clock) for kind in codecs], codecs

    return packets


def say(message: str) -> None:
    print(f"livecommerce-anchor: {message}", file=sys.stderr, flush=True)


def dashboard_url(server: str, room: str) -> str:
    """The room's studio dashboard (the page asks for the anchor token; it is not in the
    URL, so the line can be shared or logged)."""
    return f"{server.rstrip('/')}/studio/rooms/{quote(room, safe='')}"


async def print_status(http: aiohttp.ClientSession, options: Options) -> None:
    """Every few seconds: viewers and what the server received (GET /api/rooms/ROOM/media)."""
    if options.status_every_s <= 0:
        return
    url = f"{options.server.rstrip('/')}/api/rooms/{options.room}/media"
    while True:
        await asyncio.sleep(options.status_every_s)
        try:
            async with http.get(url, headers={"Authorization": f"Bearer {options.token}"}) as reply:
                if reply.status != 200:
                    continue
                stats = await reply.json()
        except (aiohttp.ClientError, TimeoutError, ValueError):
            continue
        video = stats.get("publication", {}).get("tracks", {}).get("video", {})
        frames, requests = video.get("frames_in", 0), video.get("keyframe_requests_sent", 0)
        say(
            f"viewers {stats.get('viewers', 0)}, video frames received by the server {frames},"
            f" keyframe requests {requests}"
        )


async def run(
    options: Options, stop: asyncio.Event | None = None, lines: AsyncIterator[str] | None = None
) -> int:
    """Publish until ``stop`` is set, with the console unless it is off. Exit status.

    The console reads commands from ``lines`` (stdin by default); its ``quit`` sets ``stop``.
    """
    stop = stop or asyncio.Event()
    try:
        make_tracks = None if options.source == NO_SOURCE else source_factory(options)
    except PublishError as exc:
        say(str(exc))
        return 2
    room_ended = asyncio.Event()

    def end_publishing() -> None:  # the server ended the room: nothing more to publish
        room_ended.set()
        stop.set()

    async with aiohttp.ClientSession() as http:
        if options.full_screen:
            return await run_full_screen(http, options, stop, make_tracks)
        console = Supervisor(grace_s=CONSOLE_STOP_S)
        if options.console:
            live = LiveConsole(
                http,
                ConsoleOptions(
                    options.server, options.token, options.room, options.currency,
                    options.stats_every_s,
                ),
                Printer.for_stream(sys.stdout),
                end_publishing,
            )  # fmt: skip
            console.spawn("anchor-console", live.run(stop, lines or stdin_lines()))
        try:
            if make_tracks is None:
                await stop.wait()  # the console's quit, a signal, or the room's end
                status = 0
            else:
                status = await publish_until_stopped(http, options, stop, make_tracks)
            if room_ended.is_set():
                say(f"room {options.room!r} has ended")
                return 2
            return status
        finally:
            stop.set()  # the console ends with the publication
            await console.stop()


async def run_full_screen(
    http: aiohttp.ClientSession,
    options: Options,
    stop: asyncio.Event,
    make_tracks: Callable[[], Tracks] | None,
) -> int:
    """Publish while the full-screen console runs; quitting it ends the publication.
    Without ``make_tracks`` (``--source none``) the console runs alone."""
    from clients.anchor.cockpit_app import CockpitApp, ToastLog
    from clients.anchor.cockpit_link import CockpitLink, LinkOptions

    watch = PublicationWatch()
    link = CockpitLink(
        http,
        LinkOptions(
            options.server, options.token, options.room, options.currency, options.stats_every_s
        ),
        watch,
    )
    app = CockpitApp(link, stop)
    toasts = ToastLog(app)
    logging.getLogger().addHandler(toasts)
    publishing = (
        asyncio.create_task(publish_until_stopped(http, options, stop, make_tracks, watch))
        if make_tracks is not None
        else None
    )
    status = 0
    try:
        await app.run_async()
    finally:
        stop.set()
        if publishing is not None:
            status = await publishing
        logging.getLogger().removeHandler(toasts)
    if watch.notice:
        say(watch.notice)
    return status


async def publish_until_stopped(
    http: aiohttp.ClientSession,
    options: Options,
    stop: asyncio.Event,
    make_tracks: Callable[[], Tracks],
    watch: PublicationWatch | None = None,
) -> int:
    """Publish; reconnect on failure unless ``--once``. Exit status.

    With ``watch`` (the full-screen console), news goes there instead of stderr.
    """
    watch = watch or PublicationWatch()
    # Old sessions are ended (DELETE) beside the next publish: their node may be gone.
    enders = Supervisor()
    try:
        return await _publish_loop(http, options, stop, make_tracks, watch, enders)
    finally:
        await enders.stop()


async def _publish_loop(
    http: aiohttp.ClientSession,
    options: Options,
    stop: asyncio.Event,
    make_tracks: Callable[[], Tracks],
    watch: PublicationWatch,
    enders: Supervisor,
) -> int:
    tell = (lambda text: watch.update(notice=text)) if watch.on_change else say
    backoff = FIRST_RETRY_S
    while not stop.is_set():
        tracks, codecs = make_tracks()
        try:
            session = await publish(
                http, options.server, options.room, options.token, tracks, codecs
            )
        except PublishError as exc:
            for track in tracks:
                track.stop()
            tell(str(exc))
            if exc.fatal or options.once:
                watch.update(live=False, reconnecting=False)
                return 2 if exc.fatal else 1
            watch.update(live=False, reconnecting=True)
            tell(f"retrying in {backoff:g} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
            continue
        watch.update(live=True, reconnecting=False, pc=session.pc)
        # The session URL is the capability to end the stream: not on a screen others see.
        tell(f"live in room {options.room}" + ("" if watch.on_change else f" ({session.url})"))
        tell(f"analytics dashboard: {dashboard_url(options.server, options.room)}")
        backoff = FIRST_RETRY_S
        status = Supervisor()
        status.spawn("anchor-status", print_status(http, options))
        try:
            reason = await session.wait_closed(stop)
        finally:
            await status.stop()
        watch.update(live=False, reconnecting=not stop.is_set() and not options.once)
        if stop.is_set():
            await session.end()
            tell("stopped; the session is ended")
            return 0
        # Publish again at once (a drained node hands the room over for a few seconds).
        enders.spawn("anchor-end-session", session.end())
        tell(f"the stream dropped ({reason})" + ("" if options.once else "; reconnecting"))
        if options.once:
            return 1
    return 0


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)

    async def run_until_signal() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await run(options, stop)

    sys.exit(asyncio.run(run_until_signal()))
