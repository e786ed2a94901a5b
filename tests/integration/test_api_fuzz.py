"""A schemathesis run against a live node: requests generated from ``/openapi.json``,
sent over a real socket with an admin's or an anchor's token, find no 500 and no answer
that breaks the document (status, media type, body schema).

The node runs on this test's event loop; the fuzzer (synchronous ``requests``) runs in a
thread. Examples per operation are limited so the whole run stays within CI's budget
(``FUZZ_EXAMPLES``, more with ``LIVECOMMERCE_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import aiohttp
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from livecommerce.app import create_app
from livecommerce.config import Settings
from livecommerce.web.openapi import openapi_document
from tests.conftest import TokenFactory

pytestmark = pytest.mark.timeout(420)
FUZZ_EXAMPLES = int(os.environ.get("LIVECOMMERCE_FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# SDP offers and trickle fragments are text on the wire.
schemathesis.serializer.alias(["application/sdp", "application/trickle-ice-sdpfrag"], "text/plain")
# The channel's upgrade is fuzzed frame by frame elsewhere (test_channel_fuzz.py).
SKIPPED = {("GET", "/ws/rooms/{room}"), ("HEAD", "/ws/rooms/{room}")}


def fuzz_operation(
    operation: Any,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str],
    ids: dict[str, str],
    seen: list[tuple[str, int]],
) -> str | None:
    """``FUZZ_EXAMPLES`` generated requests to one operation; the first failure, if any.
    Half of them name the existing things of ``ids`` (path parameter → id) in their path,
    so they reach the handlers behind the 404s."""

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), seeded=st.booleans())
    def run(case: schemathesis.Case, seeded: bool) -> None:
        if seeded and case.path_parameters:
            for name in set(case.path_parameters) & set(ids):
                case.path_parameters[name] = ids[name]
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        seen.append((f"{operation.method.upper()} {operation.path}", response.status_code))
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except (Exception, BaseExceptionGroup) as failure:  # a failed check, or a group of them
        return f"{operation.method.upper()} {operation.path}: {failure}"[:2000]
    return None


def fuzz(
    document: dict[str, Any],
    base_url: str,
    tokens: dict[str, str],
    ids: dict[str, str] | None = None,
    only: str | None = None,
    seen: list[tuple[str, int]] | None = None,
) -> list[str]:
    """Every operation (or those of the path ``only``); the failures found."""
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        if only is not None and operation.path != only:
            continue
        roles = operation.definition.raw.get("x-roles")
        role = "admin" if roles == "anyone" or "admin" in roles else roles[0]
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        failure = fuzz_operation(
            operation, base_url, session, headers, ids or {}, [] if seen is None else seen
        )
        if failure is not None:
            failures.append(failure)
    return failures


async def seed(base_url: str, anchor: str) -> dict[str, str]:
    """A room of the fuzzing anchor with a product and a sale: path parameter → id."""
    headers = {"Authorization": f"Bearer {anchor}"}
    async with aiohttp.ClientSession(base_url, headers=headers) as http:

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with http.post(path, json=body) as response:
                assert response.status == 201, await response.text()
                answer: dict[str, Any] = await response.json()
                return answer

        room = (await post("/api/rooms", {"title": "Fuzzed"}))["id"]
        product = await post(
            f"/api/rooms/{room}/products",
            {"sku": "F-1", "title": "Fuzz", "price_cents": 100, "currency": "EUR"},
        )
        sale = await post(
            f"/api/rooms/{room}/sales",
            {
                "product_id": product["id"],
                "price_cents": 50,
                "quantity": 5,
                "per_user_limit": 1,
                "duration_s": 600,
                "reservation_ttl_s": 60,
            },
        )
    return {"room": room, "product": product["id"], "sale": sale["id"]}


async def test_a_fuzz_run_finds_no_server_error_and_no_answer_off_the_spec(
    aiohttp_server: Any, settings: Settings, token: TokenFactory
) -> None:
    app = create_app(settings)
    server = await aiohttp_server(app)
    base_url = str(server.make_url("")).rstrip("/")
    tokens = {
        role: token(role, f"fuzz-{role}")
        for role in ("admin", "anchor", "moderator", "viewer", "backend")
    }
    ids = await seed(base_url, tokens["anchor"])
    document = openapi_document(app)
    seen: list[tuple[str, int]] = []
    failures = await asyncio.to_thread(fuzz, document, base_url, tokens, ids, None, seen)
    assert failures == []
    # Not hollow: generated requests got past the 404s into the seeded room's handlers.
    reached = {op for op, status in seen if status < 300 and "{room}" in op}
    assert len(reached) >= 10, sorted(reached)


async def test_the_fuzz_run_reports_an_answer_off_the_spec(
    aiohttp_server: Any, settings: Settings, token: TokenFactory
) -> None:
    """The same run against a document that promises another /healthz answer fails."""
    app = create_app(settings)
    server = await aiohttp_server(app)
    document = openapi_document(app)
    reply = document["paths"]["/healthz"]["get"]["responses"]["200"]
    reply["content"]["application/json"]["schema"]["properties"]["status"] = {"const": "fine"}
    base_url = str(server.make_url("")).rstrip("/")
    failures = await asyncio.to_thread(
        fuzz, document, base_url, {"admin": token("admin", "fuzz")}, None, "/healthz"
    )
    assert len(failures) == 1
    assert failures[0].startswith("GET /healthz")
