"""Operator actions on the hooks: list the dead letters, replay them."""

from __future__ import annotations

from livecommerce.hooks.dead_letters import DeadLetter, load_all, requeue, select
from livecommerce.store.client import StoreClient
from livecommerce.store.keys import Keys


async def list_dead_letters(client: StoreClient, keys: Keys) -> list[DeadLetter]:
    """Every dead letter, oldest first."""
    return await load_all(client, keys)


async def replay(client: StoreClient, keys: Keys, ids: list[str] | None) -> int:
    """Re-queue the dead letters named by ``ids`` (dead-letter ids or event ids; all when
    None) for their endpoint; how many were re-queued.

    Running dispatchers deliver them again with the same ``webhook-id``; a dead
    letter whose outbox entry no longer exists stays where it is.
    """
    count = 0
    for letter in select(await load_all(client, keys), ids):
        if await requeue(client, keys, letter):
            count += 1
    return count
