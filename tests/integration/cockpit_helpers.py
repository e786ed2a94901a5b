"""The full-screen console under Textual's headless pilot, against real nodes: the
``cockpit`` fixture (import ``cockpit_fixture`` and ``publish_fixture`` into a test
module) and helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from clients.anchor.cli import Options, publish_until_stopped, source_factory
from clients.anchor.cockpit_app import CockpitApp
from clients.anchor.cockpit_link import CockpitLink, LinkOptions
from clients.anchor.watch import PublicationWatch
from tests.integration.cluster import Cluster

WAIT_S = 30.0
# Set to a path (e.g. /tmp/console.svg) to keep an SVG screenshot of the console mid-show.
SCREENSHOT_ENV = "LIVECOMMERCE_CONSOLE_SCREENSHOT"


@dataclass
class Cockpit:
    app: CockpitApp
    pilot: Pilot[int]
    publishing: asyncio.Task[Any]
    room: str

    async def until(self, what: str, check: Callable[[], bool]) -> None:
        """Let the app run until ``check()`` holds."""
        try:
            async with asyncio.timeout(WAIT_S):
                while not check():
                    await self.pilot.pause(0.05)
        except TimeoutError:
            raise AssertionError(
                f"the console never showed {what}; toasts: {self.app.told}"
            ) from None

    def text(self, selector: str) -> str:
        return str(self.app.query_one(selector, Static).render())

    def told(self, text: str) -> bool:
        return any(text in told for _, told in self.app.told)


@pytest.fixture(name="publish")
def publish_fixture() -> bool:
    """Whether the console's process publishes too (a test without video overrides it: the
    pilot waits for an idle loop after each key, and an encoder in the loop is never idle)."""
    return True


@pytest.fixture(name="cockpit")
async def cockpit_fixture(cluster: Cluster, publish: bool) -> AsyncIterator[Cockpit]:
    room = await cluster.room(anchor="alice")
    token = cluster.token("anchor", "alice")
    options = Options(cluster.urls[0], token, room, "testsrc", (160, 120), False, 0.0)
    watch = PublicationWatch()
    stop = asyncio.Event()
    link = CockpitLink(
        cluster.http,
        LinkOptions(cluster.urls[0], token, room, stats_every_s=0.3, media_every_s=0.5),
        watch,
    )
    app = CockpitApp(link, stop)
    publishing = asyncio.create_task(
        publish_until_stopped(cluster.http, options, stop, source_factory(options), watch)
        if publish
        else stop.wait()
    )
    try:
        async with app.run_test(size=(130, 40), notifications=True) as pilot:
            cockpit = Cockpit(app, pilot, publishing, room)
            await cockpit.until("the channel", lambda: link.model.channel_up)
            yield cockpit
    finally:
        stop.set()
        async with asyncio.timeout(WAIT_S):
            await asyncio.gather(publishing, return_exceptions=True)


async def fill(pilot: Pilot[int], **fields: str) -> None:
    for name, value in fields.items():
        pilot.app.screen.query_one(f"#field-{name}", Input).value = value
    await pilot.press("enter")
