"""The store as a node's services share it: built once, in ``app.py``."""

from __future__ import annotations

from dataclasses import dataclass

from livecommerce.bus import RoomBus
from livecommerce.metrics import Metrics
from livecommerce.store.client import StoreClient
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner


@dataclass(frozen=True, kw_only=True)
class StoreContext:
    """One node's handles on the store: its client (one connection pool), the key schema
    of the configured prefix, the script runner (each script loaded once), the room bus
    and the node's metrics. Every service of the node gets the same one, so they share
    the pool, the loaded scripts and the counters."""

    client: StoreClient
    keys: Keys
    scripts: ScriptRunner
    bus: RoomBus
    metrics: Metrics
