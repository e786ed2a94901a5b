"""Lua scripts: ``.lua`` files under ``store/scripts/``, called by SHA.

A script file is named ``<area>_<op>.lua`` and binds its KEYS and ARGV to
named locals first. Scripts are loaded on first use and called with EVALSHA;
a store that restarted has forgotten them, so NOSCRIPT triggers one reload
and a retry. Every script touches the keys of one hash tag only.

Code shared by several scripts lives once, in ``store/scripts/lib/<name>.lua``: a
line ``--! include <name>`` in a script is replaced by that file when the script is
loaded, so each script is still one source sent to the store (and one atomic step),
and its SHA is the SHA of the source with its libraries in it. A library includes
no other library.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError

from livecommerce.metrics import Metrics
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS, StoreClient
from livecommerce.store.replies import R

SCRIPTS_PACKAGE = "livecommerce.store.scripts"
LIBRARY_FOLDER = "lib"
DIRECTIVE = re.compile(r"^--!(.*)$", re.MULTILINE)
INCLUDE = re.compile(r" include ([a-z][a-z0-9_]*)[ \t]*")
# Calls of one run_many in flight at once on a cluster (each takes a pooled connection).
CLUSTER_CONCURRENCY = 32

# What a script takes in ARGV (the store receives each as a string).
ScriptArg = str | bytes | int | float
ScriptCall = tuple[Sequence[str], Sequence[ScriptArg]]


@dataclass(frozen=True)
class Script:
    name: str
    source: str
    sha: str


def load_script(name: str) -> Script:
    """Read ``<name>.lua`` from the scripts folder (works from an installed wheel), with
    the libraries it includes in it; ``FileNotFoundError`` for a missing script or library."""
    text = resources.files(SCRIPTS_PACKAGE).joinpath(f"{name}.lua").read_text(encoding="utf-8")
    source = include_libraries(name, text, read_library)
    return Script(name, source, hashlib.sha1(source.encode()).hexdigest())


def read_library(library: str) -> str:
    """The source of ``lib/<library>.lua``."""
    folder = resources.files(SCRIPTS_PACKAGE).joinpath(LIBRARY_FOLDER)
    return folder.joinpath(f"{library}.lua").read_text(encoding="utf-8")


def include_libraries(name: str, source: str, read: Callable[[str], str]) -> str:
    """``source`` with each ``--! include <library>`` line replaced by ``read(library)``.

    Raises ``ValueError`` for a ``--!`` line that is not an include, a library included
    twice, or a library that has directives itself; ``FileNotFoundError`` naming the
    script for a library that does not exist.
    """
    included: set[str] = set()

    def expand(directive: re.Match[str]) -> str:
        include = INCLUDE.fullmatch(directive.group(1))
        if include is None:
            raise ValueError(f"{name}.lua: {directive.group(0)!r} is not '--! include <name>'")
        library = include.group(1)
        if library in included:
            raise ValueError(f"{name}.lua includes {library!r} twice")
        included.add(library)
        try:
            text = read(library)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{name}.lua includes {library!r}: no {LIBRARY_FOLDER}/{library}.lua"
            ) from None
        if DIRECTIVE.search(text):
            raise ValueError(f"{LIBRARY_FOLDER}/{library}.lua: a library includes nothing")
        return text.rstrip("\n")

    return DIRECTIVE.sub(expand, source)


class ScriptCaller(Protocol):
    """Runs a script and parses its answer: a :class:`ScriptRunner`, or a batcher that
    sends the calls of one event-loop tick together."""

    async def call(self, reply: type[R], keys: Sequence[str], args: Sequence[ScriptArg]) -> R:
        """The answer of ``reply.script`` as a ``reply``; ``ReplyError`` for another shape."""
        ...


class ScriptRunner:
    """Runs named scripts by SHA, reloading any the store has forgotten."""

    def __init__(self, client: StoreClient, *, metrics: Metrics) -> None:
        self._client = client
        self._scripts: dict[str, Script] = {}
        self._seconds = metrics.script_seconds
        self._pipeline_seconds = metrics.pipeline_seconds
        self._pipeline_calls = metrics.pipeline_calls
        self._errors = metrics.store_errors

    def script(self, name: str) -> Script:
        if name not in self._scripts:
            self._scripts[name] = load_script(name)
        return self._scripts[name]

    async def call(self, reply: type[R], keys: Sequence[str], args: Sequence[ScriptArg]) -> R:
        """Run ``reply.script`` and parse its answer; ``ReplyError`` for another shape."""
        return reply.parse(await self.run(reply.script, keys, args))

    async def call_many(self, reply: type[R], calls: Sequence[ScriptCall]) -> list[R]:
        """:meth:`run_many` of ``reply.script``, each answer parsed."""
        return [reply.parse(answer) for answer in await self.run_many(reply.script, calls)]

    async def run(self, name: str, keys: Sequence[str], args: Sequence[ScriptArg]) -> object:
        """EVALSHA the script, its raw answer; on NOSCRIPT, SCRIPT LOAD it and try once more.
        Services use :meth:`call`, which parses the answer."""
        script = self.script(name)
        started = time.perf_counter()
        try:
            try:
                return await self._client.evalsha(script.sha, len(keys), *keys, *args)
            except NoScriptError:
                await self.load(name)
                return await self._client.evalsha(script.sha, len(keys), *keys, *args)
        except STORE_UNAVAILABLE_ERRORS:
            self._errors.inc("script")
            raise
        finally:
            self._seconds.observe(name, time.perf_counter() - started)

    async def run_many(self, name: str, calls: Sequence[ScriptCall]) -> list[object]:
        """Run the script once per ``(keys, args)`` in one pipeline; answers in order.

        Each call is its own atomic step (not one transaction). On NOSCRIPT the
        script is loaded and the whole pipeline sent once more, so use it only for
        scripts that read, or whose calls may safely run twice. A cluster client
        refuses scripts in pipelines, so there the calls run concurrently instead,
        ``CLUSTER_CONCURRENCY`` at a time.
        """
        if isinstance(self._client, RedisCluster):
            answers: list[object] = []
            for start in range(0, len(calls), CLUSTER_CONCURRENCY):
                chunk = calls[start : start + CLUSTER_CONCURRENCY]
                answers += await asyncio.gather(*(self.run(name, k, a) for k, a in chunk))
            return answers
        script = self.script(name)
        try:
            return await self._pipeline(script, calls)
        except NoScriptError:
            await self.load(name)
            return await self._pipeline(script, calls)

    async def _pipeline(self, script: Script, calls: Sequence[ScriptCall]) -> list[object]:
        pipe = self._client.pipeline(transaction=False)
        for keys, args in calls:
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        self._pipeline_calls.inc(len(calls))
        started = time.perf_counter()
        try:
            return list(await pipe.execute())
        except STORE_UNAVAILABLE_ERRORS:
            self._errors.inc("pipeline")
            raise
        finally:
            self._pipeline_seconds.observe(time.perf_counter() - started)

    async def load_all(self) -> None:
        """SCRIPT LOAD every script file, so that a burst does not start with NOSCRIPT."""
        for entry in resources.files(SCRIPTS_PACKAGE).iterdir():
            if entry.name.endswith(".lua"):
                await self.load(entry.name.removesuffix(".lua"))

    async def load(self, name: str) -> None:
        """SCRIPT LOAD the script (after the store said NOSCRIPT)."""
        script = self.script(name)
        loaded = await self._client.script_load(script.source)
        if loaded != script.sha:
            raise RuntimeError(f"store computed SHA {loaded} for {name}.lua, expected {script.sha}")
