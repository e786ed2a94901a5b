"""A TCP proxy between a node and its store, for drills: it can add latency to every byte
(both ways, order kept) and cut the link (open connections dropped, new ones refused)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

CHUNK = 65_536


@dataclass
class TcpProxy:
    """Listens on 127.0.0.1 and forwards to ``upstream`` (a redis://, or unix:// URL)."""

    upstream: str
    latency_s: float = 0.0
    port: int = 0
    _server: asyncio.Server | None = None
    _cut: bool = False
    _links: set[asyncio.Task[None]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        """The store URL through the proxy (same password, TCP)."""
        parts = urlsplit(self.upstream)
        auth = f":{unquote(parts.password)}@" if parts.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}"

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        await self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def cut(self) -> None:
        """Drop every open connection and refuse new ones until :meth:`heal`."""
        self._cut = True
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._links):
            task.cancel()
        for task in list(self._links):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def heal(self) -> None:
        self._cut = False

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        parts = urlsplit(self.upstream)
        if parts.scheme == "unix":
            return await asyncio.open_unix_connection(unquote(parts.path))
        return await asyncio.open_connection(parts.hostname, parts.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        self._writers.add(writer)
        up_writer: asyncio.StreamWriter | None = None
        try:
            up_reader, up_writer = await self._open_upstream()
            self._writers.add(up_writer)
            pumps = [
                asyncio.ensure_future(self._pump(reader, up_writer)),
                asyncio.ensure_future(self._pump(up_reader, writer)),
            ]
            try:
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
                for pump in pumps:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await pump
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._links.discard(task)
            for end in (writer, up_writer):
                if end is not None:
                    self._writers.discard(end)
                    end.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Forward bytes, each chunk ``latency_s`` after it arrived, in order."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def read() -> None:
            while data := await reader.read(CHUNK):
                queue.put_nowait((loop.time() + self.latency_s, data))
            queue.put_nowait((loop.time() + self.latency_s, b""))

        reading = asyncio.ensure_future(read())
        try:
            while True:
                due, data = await queue.get()
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not data:
                    return
                writer.write(data)
                await writer.drain()
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading
