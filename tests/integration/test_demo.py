"""``livecommerce serve --demo`` as a newcomer runs it: a live room with video, chat,
products and a flash sale that starts again when it ends."""

from __future__ import annotations

import asyncio
import queue
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from livecommerce.auth import Role, issue_token
from tests.integration.channel_client import ChannelClient
from tests.integration.media_peers import Viewer, accept
from tests.integration.nodes import Node, clean_env, wait_gone

pytestmark = pytest.mark.slow

READY = re.compile(r"^demo: a live room is ready, open (http://\S+/rooms/(\S+))$")


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.close()


def demo_line(node: Node, timeout_s: float = 20.0) -> re.Match[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = node.lines.get(timeout=0.5)
        except queue.Empty:
            continue
        match = READY.match(line)
        if match:
            return match
    raise AssertionError(f"no demo line; stderr: {node.stderr_lines[-20:]}")


async def get(session: aiohttp.ClientSession, url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.get(url, headers=headers) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def eventually(check: Any, what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.25)


@pytest.mark.timeout(180)
async def test_the_demo_room_is_live_with_video_chat_products_and_a_sale(
    tmp_path: Path, nodes: list[Node]
) -> None:
    data_dir = tmp_path / "demo"
    node = Node(data_dir, "--demo", env=clean_env())
    nodes.append(node)
    node.wait_ready()
    room_url, room = demo_line(node).groups()
    # After the studio URL and the anchor command line (tests/integration/test_demo_cockpit.py).
    dashboard = [node.lines.get(timeout=5) for _ in range(3)][-1]
    assert dashboard.startswith("demo: its analytics dashboard is http://"), dashboard
    assert f"/studio/rooms/{room} " in dashboard
    # Its sign-in hint works whatever the data dir: the anchor token's file, which opens
    # the dashboard's analytics (a `livecommerce token` line without the node's data dir
    # would sign with another secret).
    hint = re.search(r"sign in with the anchor token in (\S+)\)$", dashboard)
    assert hint, dashboard
    token_file = Path(hint.group(1))
    assert token_file.parent == data_dir
    hinted = (data_dir / token_file.name).read_text().strip()
    secret = (data_dir / "auth_secret").read_text().strip()
    anchor = issue_token(secret, Role.anchor, "demo-anchor")
    async with aiohttp.ClientSession() as session:

        async def live() -> bool:
            state = await get(session, f"{node.url}/api/rooms/{room}")
            return bool(state["status"] == "live")

        await eventually(live, "the sample clip to make the room live")
        products = (await get(session, f"{node.url}/api/rooms/{room}/products"))["products"]
        assert len(products) == 3

        # The room page is served, and a viewer sees video, the pinned product and the sale.
        async with session.get(room_url) as page:
            assert page.status == 200
            assert "text/html" in page.headers["Content-Type"]
        viewer = Viewer()
        async with session.post(
            f"{node.url}/whep/{room}",
            data=(await viewer.offer()).encode(),
            headers={"Content-Type": "application/sdp"},
        ) as response:
            assert response.status == 201, await response.text()
            await accept(viewer.pc, await response.text())
        try:
            await viewer.wait_frames("video", 10, timeout_s=20)
        finally:
            await viewer.close()

        channel = await ChannelClient.connect(session, node.url, room, wire="json")
        welcome = await channel.wait_for("welcome", timeout_s=10)
        assert welcome["pinned_product"] is not None
        sales = welcome["sales"]
        assert len(sales) == 1, sales
        assert sales[0]["status"] == "open", sales
        # The anchor says something at once.
        said = welcome["messages"] + channel.of_type("chat")
        if not any(line["user"] == "demo-anchor" for line in said):
            await channel.wait_for(lambda f: f.get("type") == "chat", timeout_s=10)

        # A newcomer buys with a demo viewer token.
        async with session.post(f"{node.url}/api/demo/token", json={}) as response:
            assert response.status == 201, await response.text()
            viewer_token = (await response.json())["token"]
        buyer = await ChannelClient.connect(session, node.url, room, viewer_token, "json")
        await buyer.wait_for("welcome", timeout_s=10)
        await buyer.send({"type": "buy", "sale": sales[0]["id"], "qty": 1, "key": "first"})
        result = await buyer.wait_for("buy_result", timeout_s=10)
        assert result["ok"], result
        # The anchor's dashboard sees the buy.
        report = await get(session, f"{node.url}/api/rooms/{room}/analytics", hinted)
        assert report["funnel"]["reserved"]["total"] >= 1
        assert report["funnel"]["entries"]["users"] >= 2

        # When the sale ends, another one starts.
        async with session.post(
            f"{node.url}/api/rooms/{room}/sales/{sales[0]['id']}/stop",
            headers={"Authorization": f"Bearer {anchor}"},
        ) as response:
            assert response.status == 200, await response.text()
        started = await channel.wait_for(
            lambda f: f.get("type") == "sale_started" and f["sale"]["id"] != sales[0]["id"],
            timeout_s=30,
        )
        assert started["sale"]["status"] in ("open", "scheduled")
        await channel.close()
        await buyer.close()

    # Stopping the node stops its publisher too.
    node.signal(signal.SIGTERM)
    assert node.process.wait(20) == 0
    assert [line for line in node.stderr_lines if "Traceback" in line] == []


@pytest.mark.timeout(120)
async def test_a_restarted_demo_reuses_its_room(tmp_path: Path, nodes: list[Node]) -> None:
    data_dir = tmp_path / "demo"
    first = Node(data_dir, "--demo", env=clean_env())
    nodes.append(first)
    first.wait_ready()
    _, room = demo_line(first).groups()
    first.signal(signal.SIGTERM)
    first.process.wait(20)
    assert wait_gone(first.process.pid, 5)
    second = Node(data_dir, "--demo", env=clean_env())
    nodes.append(second)
    second.wait_ready()
    assert demo_line(second).group(2) == room


@pytest.mark.timeout(180)
async def test_an_ended_demo_room_leaves_its_replay_and_a_new_live_room_opens(
    tmp_path: Path, nodes: list[Node]
) -> None:
    data_dir = tmp_path / "demo"
    node = Node(data_dir, "--demo", env=clean_env())
    nodes.append(node)
    node.wait_ready()
    _, room = demo_line(node).groups()
    secret = (data_dir / "auth_secret").read_text().strip()
    anchor = issue_token(secret, Role.anchor, "demo-anchor")
    async with aiohttp.ClientSession() as session:

        async def status(room_id: str) -> str:
            return str((await get(session, f"{node.url}/api/rooms/{room_id}"))["status"])

        async def live() -> bool:
            return await status(room) == "live"

        await eventually(live, "the sample clip to make the room live")
        await asyncio.sleep(3.0)  # a segment or two recorded
        async with session.post(
            f"{node.url}/api/rooms/{room}/end", headers={"Authorization": f"Bearer {anchor}"}
        ) as response:
            assert response.status == 200, await response.text()

        # The demo says where the new room is, and it goes live with its own sale.
        _, new_room = (await asyncio.to_thread(demo_line, node, 60.0)).groups()
        assert new_room != room
        assert (data_dir / "demo_room").read_text().strip() == new_room

        async def new_live() -> bool:
            return await status(new_room) == "live"

        await eventually(new_live, "the new demo room to go live", timeout_s=60)

        async def has_sale() -> bool:
            state = await get(session, f"{node.url}/api/rooms/{new_room}")
            return any(s["status"] == "open" for s in state["sales"])

        await eventually(has_sale, "a flash sale in the new room")
        # The ended room stays ended, with its replay listed.
        assert await status(room) == "ended"

        async def replay_ready() -> bool:
            replays = await get(session, f"{node.url}/api/rooms/{room}/replays")
            return any(r["status"] == "ready" for r in replays)

        await eventually(replay_ready, "the ended room's replay")
    node.signal(signal.SIGTERM)
    assert node.process.wait(20) == 0
    assert [line for line in node.stderr_lines if "Traceback" in line] == []
