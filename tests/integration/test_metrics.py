"""``GET /metrics`` after real traffic: a publisher and a viewer over WebRTC, channel
sockets, chat, likes, moderation, buys, settlements and webhook deliveries, all against
the real store; then the scrape parsed as Prometheus parses it."""

from __future__ import annotations

import asyncio
import platform
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiortc import RTCPeerConnection
from prometheus_client.parser import text_string_to_metric_families

import livecommerce
from livecommerce.app import create_app
from livecommerce.hooks.endpoints import endpoint_id
from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import FAST_CHANNEL, FAST_COMMERCE, Cluster, ServerFactory
from tests.integration.commerce_helpers import room_with_sale
from tests.integration.media_peers import Viewer, accept, publisher_offer, synthetic_tracks
from tests.integration.webhook_receiver import Receiver, new_secret, status

pytestmark = pytest.mark.timeout(90)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
SDP = {"Content-Type": "application/sdp"}
BACKEND = ("backend", "shop")
WAIT_S = 20.0


async def scrape(http: aiohttp.ClientSession, url: str, token: str | None = None) -> Samples:
    """Every sample of ``/metrics``, keyed by sample name and sorted labels."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.get(f"{url}/metrics", headers=headers) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def by_label(samples: Samples, name: str) -> dict[tuple[str, ...], float]:
    """The samples of one metric as ``{label values: value}``."""
    return {
        tuple(value for _, value in labels): value
        for (sample, labels), value in samples.items()
        if sample == name
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape_until(
    http: aiohttp.ClientSession, url: str, done: Callable[[Samples], bool], what: str
) -> Samples:
    deadline = time.monotonic() + WAIT_S
    while True:
        samples = await scrape(http, url)
        if done(samples):
            return samples
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {samples}"
        await asyncio.sleep(0.05)


@pytest.fixture
async def receivers() -> AsyncIterator[tuple[Receiver, Receiver, Receiver]]:
    async def always_500(n: int) -> web.StreamResponse | None:
        return await status(500)

    async def always_410(n: int) -> web.StreamResponse | None:
        return await status(410)

    started = (
        await Receiver(new_secret()).start(),
        await Receiver(new_secret(), behaviour=always_410).start(),
        await Receiver(new_secret(), behaviour=always_500).start(),
    )
    yield started
    for receiver in started:
        await receiver.stop()


@pytest.fixture
async def node(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
    receivers: tuple[Receiver, Receiver, Receiver],
) -> AsyncIterator[Cluster]:
    """One node with three webhook endpoints: one that takes events, one gone, one failing."""
    hooks = {
        "endpoints": [{"url": r.url, "secret": r.secret} for r in receivers],
        "max_attempts": 2,
        "initial_backoff_s": 0.01,
        "poll_interval_s": 0.05,
    }
    settings = make_settings(
        valkey.url,
        tmp_path,
        key_prefix,
        hooks=hooks,
        channel=FAST_CHANNEL,
        commerce=FAST_COMMERCE,
        # Watch-time reports are pipelines too: none within this test, so counts are exact.
        analytics={"watch_interval_s": 3600},
    )
    app = create_app(settings)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        yield Cluster([str(server.make_url("")).rstrip("/")], [app], http, token)


async def go_live(node: Cluster, room: str) -> RTCPeerConnection:
    pc = await publisher_offer(synthetic_tracks())
    assert pc.localDescription is not None
    headers = {**SDP, "Authorization": f"Bearer {node.token('anchor', 'alice')}"}
    async with node.http.post(
        f"{node.urls[0]}/whip/{room}", data=pc.localDescription.sdp, headers=headers
    ) as response:
        assert response.status == 201, await response.text()
        await accept(pc, await response.text())
    return pc


async def watch(node: Cluster, room: str) -> tuple[Viewer, str]:
    viewer = Viewer()
    offer = await viewer.offer()
    async with node.http.post(f"{node.urls[0]}/whep/{room}", data=offer, headers=SDP) as response:
        assert response.status == 201, await response.text()
        await accept(viewer.pc, await response.text())
        return viewer, node.urls[0] + response.headers["Location"]


async def buy(client: ChannelClient, sale: str, key: str) -> dict[str, Any]:
    await client.send({"type": "buy", "sale": sale, "qty": 1, "key": key})
    return await client.wait_for(lambda f: f.get("type") == "buy_result" and f["key"] == key)


async def test_a_scrape_counts_what_the_node_did(
    node: Cluster, receivers: tuple[Receiver, Receiver, Receiver]
) -> None:
    url, http = node.urls[0], node.http
    room, sale = await room_with_sale(node, quantity=2, per_user_limit=1)

    publisher = await go_live(node, room)
    viewer, viewer_session = await watch(node, room)
    await viewer.wait_frames("video", 10, timeout_s=WAIT_S)

    bea, carl, olga = [await node.join(room, user) for user in ("bea", "carl", "olga")]
    lou = await node.join(room, "lou", wire="json")
    mod = node.token("moderator", "mia")
    path = f"/api/rooms/{room}/moderation"
    assert (await node.api("POST", f"{path}/mute-user", mod, {"user": "carl", "duration_s": 600}))[
        0
    ] == 200
    assert (await node.api("POST", f"{path}/ban", mod, {"user": "dave"}))[0] == 200
    await carl.wait_for("muted")
    for text in ("hello", "tea!"):
        await bea.send({"type": "chat", "text": text})
        await bea.wait_for(lambda f, t=text: f.get("type") == "chat" and f["text"] == t)
    await carl.send({"type": "chat", "text": "let me talk"})
    assert (await carl.wait_for("error"))["code"] == "muted"
    await bea.send({"type": "like", "count": 3})
    dave = await ChannelClient.connect(http, url, room, node.token("viewer", "dave"))
    assert await dave.wait_closed() == 4403

    first = await buy(bea, sale["id"], "k1")
    assert first["ok"] is True
    assert await buy(bea, sale["id"], "k1") == first
    assert (await buy(bea, sale["id"], "k2"))["reason"] == "limit_reached"
    second = await buy(olga, sale["id"], "o1")
    assert second["ok"] is True
    assert (await buy(lou, sale["id"], "l1"))["reason"] == "sold_out"
    backend = node.token(*BACKEND)
    assert (await node.api("POST", f"/api/orders/{first['order']}/paid", backend))[0] == 200
    assert (await node.api("POST", f"/api/orders/{second['order']}/cancel", backend))[0] == 200

    good, gone, failing = receivers

    def hooks_done(samples: Samples) -> bool:
        results = by_label(samples, "livecommerce_hook_deliveries_total")
        return sum(results.values()) >= 4 + 1 + 4 + 8

    samples = await scrape_until(http, url, hooks_done, "4 events to 3 endpoints")
    assert by_label(samples, "livecommerce_hook_deliveries_total") == {
        (endpoint_id(good.url), "delivered"): 4.0,
        (endpoint_id(gone.url), "gone"): 1.0,
        (endpoint_id(gone.url), "parked"): 4.0,
        (endpoint_id(failing.url), "retry"): 4.0,
        (endpoint_id(failing.url), "dead_letter"): 4.0,
    }
    assert len(good.delivered) == 4

    def hooks_settled(samples: Samples) -> bool:
        return (
            by_label(samples, "livecommerce_hook_backlog")
            == {
                (endpoint_id(good.url),): 0.0,
                (endpoint_id(gone.url),): 0.0,  # it answered 410: parked as dead letters
                (endpoint_id(failing.url),): 0.0,  # given up: dead letters
            }
            and value(samples, "livecommerce_hook_dead_letters") == 4 + 4
        )

    await scrape_until(http, url, hooks_settled, "the hook backlog and dead letters")
    for stray in ("/nope/secret-token-abc", "/api/rooms/no-such-room-xyz"):
        async with http.get(url + stray) as response:
            assert response.status == 404

    assert value(samples, "livecommerce_rooms_live") == 1
    assert value(samples, "livecommerce_media_publications") == 1
    assert value(samples, "livecommerce_media_viewers") == 1
    assert value(samples, "livecommerce_media_pulls") == 0
    assert by_label(samples, "livecommerce_channel_sockets") == {("json",): 1.0, ("msgpack",): 3.0}
    assert value(samples, "livecommerce_channel_sockets_opened_total") == 5
    assert by_label(samples, "livecommerce_channel_sockets_closed_total") == {("4403",): 1.0}
    forwarded = value(samples, "livecommerce_media_frames_forwarded_total", kind="video")
    assert forwarded >= 10
    assert value(samples, "livecommerce_media_frames_received_total", kind="video") >= 10
    assert value(samples, "livecommerce_media_frames_forwarded_total", kind="audio") > 0
    assert value(samples, "livecommerce_media_forwarded_bytes_total", kind="video") > forwarded

    assert value(samples, "livecommerce_chat_messages_total") == 2
    assert by_label(samples, "livecommerce_chat_refused_total") == {("muted",): 1.0}
    assert value(samples, "livecommerce_likes_total") == 3
    assert by_label(samples, "livecommerce_moderation_actions_total") == {
        ("mute-user",): 1.0,
        ("ban",): 1.0,
    }
    assert by_label(samples, "livecommerce_buy_attempts_total") == {
        ("reserved",): 2.0,
        ("repeat",): 1.0,
        ("limit_reached",): 1.0,
        ("sold_out",): 1.0,
    }
    assert value(samples, "livecommerce_buy_duration_seconds_count") == 5
    assert value(samples, "livecommerce_buy_duration_seconds_bucket", le="+Inf") == 5
    assert by_label(samples, "livecommerce_orders_settled_total") == {
        ("paid",): 1.0,
        ("cancelled",): 1.0,
    }

    scripts = "livecommerce_store_script_duration_seconds_count"
    assert value(samples, scripts, script="chat_post") == 3
    assert value(samples, scripts, script="moderation_act") == 2
    assert value(samples, scripts, script="orders_settle") == 2
    # Five buys (a reserve script each, or one read once sold out), and two new buyers' PFADD,
    # each followed by the day's EXPIRE (the count changed); the staff's orders feed: one
    # room_order publish per reservation (in the buys' pipeline) and per settle.
    assert value(samples, "livecommerce_store_pipeline_calls_total") == 5 + 2 + 2 + 2 + 2
    assert value(samples, "livecommerce_store_pipeline_duration_seconds_count") >= 1
    assert by_label(samples, "livecommerce_store_errors_total") == {}
    assert by_label(samples, "livecommerce_store_unavailable_total") == {}

    requests = by_label(samples, "livecommerce_http_requests_total")
    assert requests[("GET", "/metrics", "2xx")] >= 1
    assert requests[("POST", "/whip/{room}", "2xx")] == 1
    assert requests[("POST", "/whep/{room}", "2xx")] == 1
    assert requests[("POST", "/api/rooms/{room}/moderation/{action}", "2xx")] == 2
    assert requests[("POST", "/api/orders/{order}/paid", "2xx")] == 1
    assert requests[("POST", "/api/orders/{order}/cancel", "2xx")] == 1
    assert requests[("GET", "/ws/rooms/{room}", "1xx")] == 1  # dave's; four are still open
    assert all(not route.startswith("/api/rooms/") or "{room}" in route for _, route, _ in requests)
    seconds = by_label(samples, "livecommerce_http_request_duration_seconds_count")
    assert seconds[("POST", "/api/orders/{order}/paid")] == 1
    assert seconds[("POST", "/whip/{room}")] == 1
    assert ("GET", "/ws/rooms/{room}") not in seconds  # upgrades are counted, not timed
    assert value(samples, "livecommerce_build_info", python=platform.python_version(),
                 version=livecommerce.__version__) == 1  # fmt: skip
    assert value(samples, "process_resident_memory_bytes") > 0

    # A viewer who leaves takes nothing away from the counters.
    async with http.delete(viewer_session) as response:
        assert response.status == 200
    for client in (bea, carl, olga, lou):
        await client.close()

    def everyone_gone(samples: Samples) -> bool:
        closed = by_label(samples, "livecommerce_channel_sockets_closed_total")
        return value(samples, "livecommerce_media_viewers") == 0 and sum(closed.values()) == 5

    after = await scrape_until(http, url, everyone_gone, "the viewer and sockets to close")
    assert value(after, "livecommerce_media_frames_forwarded_total", kind="video") >= forwarded
    assert by_label(after, "livecommerce_channel_sockets") == {("json",): 0.0, ("msgpack",): 0.0}
    assert by_label(after, "livecommerce_channel_sockets_closed_total") == {
        ("4403",): 1.0,
        ("1000",): 4.0,
    }
    upgrades = value(
        after, "livecommerce_http_requests_total", method="GET", route="/ws/rooms/{room}",
        status="1xx",
    )  # fmt: skip
    assert upgrades == 5
    requests = by_label(after, "livecommerce_http_requests_total")
    assert requests[("GET", "unmatched", "4xx")] == 1
    assert requests[("GET", "/api/rooms/{room}", "4xx")] == 1
    labels = {label for key in requests for label in key}
    assert not any("secret" in label or "no-such-room" in label for label in labels)
    await viewer.close()
    await publisher.close()
    await dave.close()


async def test_metrics_that_are_not_public_need_an_admin(
    aiohttp_client: ClientFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    settings = make_settings(valkey.url, tmp_path, key_prefix, metrics={"public": False})
    client = await aiohttp_client(create_app(settings))
    anonymous = await client.get("/metrics")
    assert anonymous.status == 401
    assert (await anonymous.json())["error"]["code"] == "unauthorized"
    viewer = await client.get(
        "/metrics", headers={"Authorization": f"Bearer {token('viewer', 'v')}"}
    )
    assert viewer.status == 403
    assert (await viewer.json())["error"]["code"] == "forbidden_role"
    admin = await client.get("/metrics", headers={"Authorization": f"Bearer {token('admin', 'a')}"})
    assert admin.status == 200
    assert "livecommerce_rooms_live 0.0" in await admin.text()


async def test_disabled_metrics_are_not_found(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str
) -> None:
    settings = make_settings(valkey.url, tmp_path, key_prefix, metrics={"enabled": False})
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/metrics")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
    assert (await client.get("/healthz")).status == 200


async def test_a_store_that_went_away_is_counted_and_the_scrape_still_answers(
    aiohttp_server: ServerFactory, tmp_path: Path, key_prefix: str, token: TokenFactory
) -> None:
    store = EmbeddedValkey(tmp_path / "store")
    store.start()
    try:
        app = create_app(make_settings(store.url, tmp_path, key_prefix))
        server = await aiohttp_server(app)
        url = str(server.make_url("")).rstrip("/")
        async with aiohttp.ClientSession() as http:
            node = Cluster([url], [app], http, token)
            room = await node.room()
            assert value(await scrape(http, url), "livecommerce_rooms_live") == 0
            store.stop()

            status_code, body = await node.api(
                "POST", "/api/rooms", token("anchor", "alice"), {"title": "during"}
            )
            assert (status_code, body["error"]["code"]) == (503, "store_unavailable")
            channel = await ChannelClient.connect(http, url, room)
            assert await channel.wait_closed() == 1013
            await channel.close()

            samples = await scrape(http, url)
            assert ("livecommerce_rooms_live", ()) not in samples
            assert by_label(samples, "livecommerce_store_unavailable_total") == {
                ("http",): 1.0,
                ("channel",): 1.0,
            }
            # Creating the room failed in its script (background jobs may fail more).
            assert value(samples, "livecommerce_store_errors_total", operation="script") >= 1
            assert by_label(samples, "livecommerce_channel_sockets_closed_total") == {
                ("1013",): 1.0
            }
    finally:
        store.stop()
