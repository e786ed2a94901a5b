"""The store as a node's services share it: built once, in ``app.py``."""

from __future__ import annotations

from dataclasses import dataclass

from livecommerce.bus import RoomBus
from livecommerce.metrics import Metrics
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.client import StoreClient
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptCaller, ScriptRunner


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
    # With store.min_replicas_ack: a batcher whose money answers come after the WAIT.
    durable: StoreBatcher | None = None

    @property
    def money(self) -> ScriptCaller:
        """Runs the scripts whose answers are promises about money (reserves, settles,
        claims, the auction winner's and the giveaway winners' orders, replay buys): with
        ``store.min_replicas_ack``, each answer is given only once that many replicas hold
        the write; without, it is :attr:`scripts`."""
        return self.durable or self.scripts
