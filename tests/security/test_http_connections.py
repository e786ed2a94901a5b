"""The node's runner (as ``livecommerce serve`` runs it) against slow and greedy clients:
a deadline for request headers, a cap of connections per address, aiohttp's own error
answers without versions, and an access log without credentials."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.client_address import TRUSTED_PROXIES
from livecommerce.web.connections import NodeRunner
from tests.conftest import TokenFactory, make_settings
from tests.integration.nodes import Node as ServeProcess
from tests.integration.nodes import clean_env

HEADER_TIMEOUT_S = 1.5
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: node\r\n\r\n"


@dataclass
class Node:
    host: str
    port: int
    runner: NodeRunner

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port)


@pytest.fixture
def server_settings() -> dict[str, Any]:
    """The ``[server]`` settings of the node; a test overrides what it needs."""
    return {"header_read_timeout_s": HEADER_TIMEOUT_S, "max_connections_per_address": 0}


@pytest.fixture
async def node(
    valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str, server_settings: dict[str, Any]
) -> AsyncIterator[Node]:
    settings = make_settings(valkey.url, tmp_path, key_prefix, server=server_settings)
    app = create_app(settings)
    runner = NodeRunner(app, settings.server, app[TRUSTED_PROXIES])
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield Node(host, port, runner)
    await runner.cleanup()


async def closed_after(reader: asyncio.StreamReader, limit_s: float) -> float:
    """Seconds until the server closes the connection (reading and dropping any answer)."""
    started = time.monotonic()
    async with asyncio.timeout(limit_s):
        while await reader.read(4096):
            pass
    return time.monotonic() - started


async def dribble(writer: asyncio.StreamWriter, data: bytes, every_s: float) -> int:
    """Send ``data`` a byte at a time; the number of bytes the server took before closing."""
    for sent, byte in enumerate(data):
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except ConnectionError:
            return sent
        await asyncio.sleep(every_s)
    return len(data)


async def answer_of(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The status line and headers, and the body, of one answer with Content-Length."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head, await asyncio.wait_for(reader.readexactly(length), 5)


async def test_headers_sent_a_byte_a_second_are_cut_off_at_the_deadline(node: Node) -> None:
    reader, writer = await node.connect()
    slow = asyncio.create_task(dribble(writer, REQUEST, every_s=1.0))
    took = await closed_after(reader, HEADER_TIMEOUT_S + 3)
    sent = await slow
    writer.close()
    assert HEADER_TIMEOUT_S - 0.2 <= took <= HEADER_TIMEOUT_S + 1.5, took
    assert sent < len(REQUEST)


async def test_a_connection_that_never_sends_a_request_is_closed_at_the_deadline(
    node: Node,
) -> None:
    reader, writer = await node.connect()
    took = await closed_after(reader, HEADER_TIMEOUT_S + 3)
    writer.close()
    assert HEADER_TIMEOUT_S - 0.2 <= took <= HEADER_TIMEOUT_S + 1.5, took


async def test_the_next_request_on_a_kept_alive_connection_has_the_same_deadline(
    node: Node,
) -> None:
    reader, writer = await node.connect()
    writer.write(REQUEST)
    head, _ = await answer_of(reader)
    assert head.startswith(b"HTTP/1.1 200")
    await asyncio.sleep(HEADER_TIMEOUT_S * 1.5)  # idle between requests: keep-alive's time
    writer.write(REQUEST)
    head, _ = await answer_of(reader)
    assert head.startswith(b"HTTP/1.1 200"), "an idle kept-alive connection was cut"
    slow = asyncio.create_task(dribble(writer, REQUEST, every_s=0.5))
    took = await closed_after(reader, HEADER_TIMEOUT_S + 3)
    await slow
    writer.close()
    assert took <= HEADER_TIMEOUT_S + 1.5, took


async def test_a_slow_body_and_a_long_websocket_are_not_cut(
    node: Node, token: TokenFactory
) -> None:
    body = json.dumps({"title": "Slow but fine"}).encode()
    head = (
        b"POST /api/rooms HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token('anchor', 'alice')}\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    reader, writer = await node.connect()
    writer.write(head)
    await dribble(writer, body, every_s=(HEADER_TIMEOUT_S * 2) / len(body))
    status, room = await answer_of(reader)
    writer.close()
    assert status.startswith(b"HTTP/1.1 201"), status
    room_id = json.loads(room)["id"]
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{node.url}/ws/rooms/{room_id}?format=json") as ws,
    ):
        assert (await ws.receive_json(timeout=5))["type"] == "welcome"
        await asyncio.sleep(HEADER_TIMEOUT_S * 2)
        await ws.send_json({"type": "ping"})
        while (await ws.receive_json(timeout=5))["type"] != "pong":
            pass


CAP = 4


@pytest.mark.parametrize(
    "server_settings",
    [{"header_read_timeout_s": 30.0, "max_connections_per_address": CAP}],
)
async def test_a_slowloris_gets_its_cap_of_connections_and_no_more(node: Node) -> None:
    held = [await node.connect() for _ in range(CAP)]
    for _, writer in held:
        writer.write(b"GET /healthz HTTP/1.1\r\nHo")  # and never finishes
    await asyncio.sleep(0.1)
    reader, writer = await node.connect()
    writer.write(REQUEST)
    head, body = await answer_of(reader)
    assert head.startswith(b"HTTP/1.1 429"), head
    assert b"\r\nConnection: close\r\n" in head
    assert b"\r\nRetry-After: " in head
    assert json.loads(body)["error"]["code"] == "too_many_connections"
    assert await closed_after(reader, 3) < 1.5
    writer.close()
    assert node.runner.guard.open_from("127.0.0.1") == CAP
    _, held_writer = held.pop()
    held_writer.close()
    await held_writer.wait_closed()
    await asyncio.sleep(0.1)
    assert node.runner.guard.open_from("127.0.0.1") == CAP - 1
    reader, writer = await node.connect()
    writer.write(REQUEST)
    head, _ = await answer_of(reader)
    assert head.startswith(b"HTTP/1.1 200"), "a closed connection was not given back"
    writer.close()
    for _, held_writer in held:
        held_writer.close()


@pytest.mark.parametrize(
    "server_settings",
    [{"max_connections_per_address": CAP, "trusted_proxies": ["127.0.0.1"]}],
)
async def test_a_trusted_proxy_is_not_capped(node: Node) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def hold() -> int:
            async with http.get(f"{node.url}/healthz") as response:
                await asyncio.sleep(0.3)
                return response.status

        statuses = await asyncio.gather(*(hold() for _ in range(CAP * 3)))
    assert statuses == [200] * (CAP * 3)


async def test_a_request_aiohttp_cannot_parse_gets_a_json_400_without_versions(
    node: Node,
) -> None:
    reader, writer = await node.connect()
    writer.write(b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n")
    head, body = await answer_of(reader)
    writer.close()
    assert head.split(b" ")[1] == b"400", head
    assert b"\r\nServer: livecommerce\r\n" in head, head
    assert b"aiohttp" not in head + body
    assert b"Python" not in head + body
    assert b"\r\nX-Content-Type-Options: nosniff\r\n" in head
    assert json.loads(body)["error"]["code"] == "invalid_body"


async def test_the_access_log_never_shows_a_token(
    node: Node, token: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    secret = token("viewer", "vic")
    async with aiohttp.ClientSession() as http:
        room = "r1"
        async with http.ws_connect(f"{node.url}/ws/rooms/{room}?format=json&token={secret}") as ws:
            await ws.receive(timeout=5)
        for path in (
            f"/api/rooms?status=live&token={secret}",
            f"/api/rooms?a=1;access_token={secret}&X-Amz-Signature={secret}",
            f"/whep/{room}/{secret}",
        ):
            async with http.get(
                node.url + path, headers={"Referer": f"{node.url}/?t=1&token={secret}"}
            ):
                pass
    await asyncio.sleep(0.1)
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) >= 3, lines
    assert all(secret not in line for line in lines), lines
    assert any(f"/ws/rooms/{room}?format=json&token=REDACTED " in line for line in lines), lines
    assert any("access_token=REDACTED&X-Amz-Signature=REDACTED" in line for line in lines)
    assert any("?t=1&token=REDACTED" in line for line in lines)
    # A WHEP session URL is the capability to end that playback.
    assert any(f"/whep/{room}/REDACTED " in line for line in lines), lines
    # The same parts as fields of their own (JSON logs write them), redacted the same way.
    fields = [
        {k: getattr(r, k) for k in ("client", "method", "path", "status", "bytes", "duration_s",
                                     "referer", "user_agent")}
        for r in caplog.records
        if r.name == "aiohttp.access"
    ]  # fmt: skip
    assert all(secret not in str(entry) for entry in fields), fields
    assert {"method": "GET", "path": f"/whep/{room}/REDACTED", "status": 405} in [
        {k: entry[k] for k in ("method", "path", "status")} for entry in fields
    ]
    assert all(entry["client"] == "127.0.0.1" for entry in fields), fields
    assert any(entry["path"] == f"/ws/rooms/{room}?format=json&token=REDACTED" for entry in fields)


@pytest.mark.parametrize(
    "server_settings", [{"header_read_timeout_s": 30.0, "max_connections_per_address": 1}]
)
async def test_an_ipv4_client_of_a_dual_stack_socket_is_counted_as_its_ipv4_address(
    valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str, server_settings: dict[str, Any]
) -> None:
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", 0))
    except OSError as exc:
        pytest.skip(f"no dual-stack IPv6 socket here: {exc}")
    settings = make_settings(valkey.url, tmp_path, key_prefix, server=server_settings)
    app = create_app(settings)
    runner = NodeRunner(app, settings.server, app[TRUSTED_PROXIES])
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        held = Node("127.0.0.1", sock.getsockname()[1], runner)
        _, writer = await held.connect()
        await asyncio.sleep(0.1)
        assert runner.guard.open_from("127.0.0.1") == 1
        reader, second = await held.connect()
        second.write(REQUEST)
        head, _ = await answer_of(reader)
        assert head.startswith(b"HTTP/1.1 429"), head
        second.close()
        writer.close()
    finally:
        await runner.cleanup()
        sock.close()


@pytest.mark.slow
async def test_livecommerce_serve_on_uvloop_cuts_slow_headers_and_caps_an_address(
    tmp_path: Path,
) -> None:
    env = clean_env(
        LIVECOMMERCE_AUTH_SECRET="s" * 40,
        LIVECOMMERCE_SERVER_MAX_CONNECTIONS_PER_ADDRESS="2",
        LIVECOMMERCE_SERVER_HEADER_READ_TIMEOUT_S=str(HEADER_TIMEOUT_S),
    )
    process = ServeProcess(tmp_path, env=env)
    try:
        await asyncio.to_thread(process.wait_ready)
        host, port = process.url.removeprefix("http://").rstrip("/").rsplit(":", 1)
        node = Node(host, int(port), None)  # type: ignore[arg-type]
        held = [await node.connect() for _ in range(2)]
        for _, writer in held:
            writer.write(b"GET /healthz HTTP/1.1\r\nHo")
        reader, writer = await node.connect()
        writer.write(REQUEST)
        head, body = await answer_of(reader)
        writer.close()
        assert head.startswith(b"HTTP/1.1 429"), head
        assert json.loads(body)["error"]["code"] == "too_many_connections"
        for held_reader, held_writer in held:
            assert await closed_after(held_reader, HEADER_TIMEOUT_S + 3) < HEADER_TIMEOUT_S + 1.5
            held_writer.close()
        status, answer = await asyncio.to_thread(process.request, "GET", "/healthz")
        assert (status, answer) == (200, {"status": "ok"})
        assert not any("Traceback" in line for line in process.stderr_lines)
    finally:
        process.stop()
        process.close()
