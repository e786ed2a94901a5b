"""After automod holds, spam counts, reports, decisions and shield mode, every key of the
moderation families is documented in livecommerce/store/keys.py and carries its bound
(the checks of test_store_bounds.py, on a moderation scenario)."""

from __future__ import annotations

from livecommerce.web.state import SETTINGS, STORE
from tests.integration.cluster import Cluster
from tests.integration.test_automod import set_automod
from tests.integration.test_review import decide, hold
from tests.integration.test_review_reports import post, report
from tests.integration.test_shield import shield
from tests.integration.test_store_bounds import bound_problem, families, family_of, scan


async def test_every_moderation_key_is_documented_and_bounded(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    await set_automod(cluster, room, level=2, held_terms=["refund"])
    sender = await cluster.join(room, "vic", node=1)
    reporters = [await cluster.join(room, f"r{n}") for n in range(3)]
    first = await hold(sender, "call 555-123-4567")
    await hold(sender, "refund please")
    for text in ("the same long message here",) * 2:
        await post(reporters[0], text, reporters[1])
    message = await post(reporters[1], "a line to report", reporters[0])
    await report(reporters[0], message["id"])
    await report(reporters[2], message["id"])
    assert (await decide(cluster, room, first["id"], "deny", {"timeout_s": 5}))[0] == 200
    await shield(cluster, room, True)

    app = cluster.apps[0]
    settings, store = app[SETTINGS], app[STORE]
    known = families(settings.store.key_prefix)
    found = await scan(store, settings.store.key_prefix)
    assert [key for key in found if family_of(key, known) is None] == []
    problems = {}
    seen = set()
    for key in found:
        family = family_of(key, known)
        assert family is not None
        seen.add(family.key)
        problem = await bound_problem(store, settings, key, family)
        if problem:
            problems[key] = f"{family.key} ({family.retention}): {problem}"
    assert problems == {}
    for wanted in (
        "P{r:ROOM}:automod",
        "P{r:ROOM}:spam:SLOT",
        "P{r:ROOM}:chatters",
        "P{r:ROOM}:review",
        "P{r:ROOM}:review:items",
        "P{r:ROOM}:reports:MSG",
        "P{r:ROOM}:reports:by:USER",
        "P{r:ROOM}:audit",
    ):
        assert wanted in seen, wanted
    for client in (sender, *reporters):
        await client.close()
