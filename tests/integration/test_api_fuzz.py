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

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
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
    operation: Any, base_url: str, session: requests.Session, headers: dict[str, str]
) -> str | None:
    """``FUZZ_EXAMPLES`` generated requests to one operation; the first failure, if any."""

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except (Exception, BaseExceptionGroup) as failure:  # a failed check, or a group of them
        return f"{operation.method.upper()} {operation.path}: {failure}"[:2000]
    return None


def fuzz(
    document: dict[str, Any], base_url: str, tokens: dict[str, str], only: str | None = None
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
        failure = fuzz_operation(operation, base_url, session, headers)
        if failure is not None:
            failures.append(failure)
    return failures


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
    document = openapi_document(app)
    failures = await asyncio.to_thread(fuzz, document, base_url, tokens)
    assert failures == []


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
        fuzz, document, base_url, {"admin": token("admin", "fuzz")}, "/healthz"
    )
    assert len(failures) == 1
    assert failures[0].startswith("GET /healthz")
