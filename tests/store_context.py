"""A :class:`StoreContext` for tests that build services without the app."""

from __future__ import annotations

from livecommerce.bus import RoomBus, StoreRoomBus
from livecommerce.channel.events import check_delivery
from livecommerce.context import StoreContext
from livecommerce.metrics import Metrics
from livecommerce.store.client import StoreClient
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner


def store_context(
    client: StoreClient,
    key_prefix: str,
    *,
    bus: RoomBus | None = None,
    metrics: Metrics | None = None,
) -> StoreContext:
    """The context ``app.py`` builds, on ``client`` and the test's key prefix; by default
    a bus on the same client (not started: it publishes, and delivers once started) and
    metrics of its own."""
    keys = Keys(key_prefix)
    metrics = metrics or Metrics()
    return StoreContext(
        client=client,
        keys=keys,
        scripts=ScriptRunner(client, metrics=metrics),
        bus=bus or StoreRoomBus(client, keys, check=check_delivery),
        metrics=metrics,
    )
