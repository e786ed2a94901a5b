"""One node's lifetime: embedded store (if needed), HTTP app, signals, draining."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import sys
from collections.abc import Callable

import aiohttp
from aiohttp import web

from livecommerce.app import create_app
from livecommerce.config import Settings
from livecommerce.demo import DemoRoom
from livecommerce.store.client import mask_url
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.client_address import TRUSTED_PROXIES
from livecommerce.web.connections import NodeRunner
from livecommerce.web.health import DRAINING
from livecommerce.web.state import SIGNING_SECRET

log = logging.getLogger("livecommerce.server")


# A burst of thousands of viewers joining at once must not overflow the accept queue
# (given to the site too: asyncio listens again with the site's backlog, 128 by default).
LISTEN_BACKLOG = 4096


# Python's collector runs a young collection every 700 allocations of container objects,
# so in a burst of frames the objects in flight are promoted, the old generation grows,
# and full collections walk every session's objects (hundreds of thousands with 2,000
# viewers) for nothing: pauses of 0.1–0.7 s in the middle of a bid burst on the 2-core
# development machine (docs/formats.md). What is loaded before the node starts is frozen
# out of collections, and a young collection runs every 50,000 allocations (a few MB of
# cyclic garbage at most waits for it).
GC_YOUNG_THRESHOLD = 50_000


class ListenError(OSError):
    """The node could not listen on its configured address."""


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound now so port 0 resolves before the app is built."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(LISTEN_BACKLOG)
    sock.setblocking(False)
    return sock


def _say(line: str) -> None:
    print(line, flush=True)


async def run_node(
    settings: Settings, say: Callable[[str], None] = _say, demo: bool = False
) -> None:
    """Serve until SIGTERM or SIGINT, then drain and release everything in reverse order;
    with ``demo``, seed and run the demo room once the node listens."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if settings.store.url:
                store_line = f"store: {mask_url(settings.store.url)}"
            else:
                embedded = EmbeddedValkey(
                    settings.store.data_dir,
                    settings.store.embedded_start_timeout_s,
                    settings.store.embedded_appendfsync,
                )
                stack.callback(embedded.stop)
                await embedded.start_async()
                settings = settings.replace("store", url=embedded.url)
                store_line = (
                    f"store: embedded valkey-server (pid {embedded.pid}) at "
                    f"{mask_url(embedded.url)}, data in {embedded.data_dir}"
                )
            sock = _bind(settings.server.host, settings.server.port)
            stack.callback(sock.close)
            settings = settings.replace("server", port=sock.getsockname()[1])
            app = create_app(settings)
            runner = NodeRunner(app, settings.server, app[TRUSTED_PROXIES])
            # Cleanup first: a resource whose start fails still closes those started before it.
            stack.push_async_callback(runner.cleanup)
            await runner.setup()
            await web.SockSite(runner, sock, backlog=LISTEN_BACKLOG).start()
            say(f"livecommerce listening on {settings.public_url}")
            say(store_line)
            if demo:
                room = DemoRoom(
                    settings.public_url,
                    runner.app[SIGNING_SECRET],
                    settings.store.data_dir,
                    announce=say,
                )
                stack.push_async_callback(room.stop)
                try:
                    await room.start()
                    for line in room.intro_lines():
                        say(line)
                except (RuntimeError, OSError, aiohttp.ClientError) as exc:
                    log.error("demo: could not set up the demo room (%s); serving without it", exc)
            await stop.wait()
            runner.app[DRAINING].set()
            if settings.server.drain_delay_s > 0:
                log.info(
                    "draining: /readyz says 503; serving %g s more before closing",
                    settings.server.drain_delay_s,
                )
                await asyncio.sleep(settings.server.drain_delay_s)
            log.info("stopping: draining requests, then closing the store")
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def tune_collector() -> None:
    """Freeze what is loaded so far out of garbage collections and make young
    collections rarer (see GC_YOUNG_THRESHOLD)."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def serve(settings: Settings, demo: bool = False) -> None:
    """Run a node on uvloop (the default asyncio loop where uvloop is unavailable), with
    the collector tuned for bursts (:func:`tune_collector`)."""
    tune_collector()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        asyncio.run(run_node(settings, demo=demo))
        return
    if sys.version_info >= (3, 12):
        uvloop.run(run_node(settings, demo=demo))
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(run_node(settings, demo=demo))
