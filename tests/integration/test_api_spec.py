"""``/openapi.json`` describes exactly the app's router, method by method, as a valid
OpenAPI 3.1 document whose roles are the handlers' ``@admits`` and whose error answers
are the catalogue's; ``/asyncapi.json`` names every frame of the event registry both ways;
``/docs`` serves its pages and nothing else."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from livecommerce.app import create_app
from livecommerce.channel.events import CLIENT_FRAMES, SERVER_FRAMES
from livecommerce.config import Settings
from livecommerce.errors import ErrorCode
from livecommerce.web.access import ADMITS_ATTRIBUTE, ANYONE
from livecommerce.web.api_docs import CHANNEL_DOCS_POLICY, DOCS_POLICY
from livecommerce.web.openapi import OPERATIONS, UNDOCUMENTED, openapi_document, route_key
from livecommerce.web.openapi_schemas import CHANNEL_ONLY
from tests.openapi_check import breaches, check_answers

METHODS = {"get", "head", "post", "put", "patch", "delete", "options"}


def spec_operations(document: dict[str, Any]) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def test_every_routed_method_is_in_the_spec_and_every_spec_operation_is_routed(
    settings: Settings,
) -> None:
    app = create_app(settings)
    routed = {f"{r.method} {r.resource.canonical}" for r in app.router.routes() if r.resource}
    described = spec_operations(openapi_document(app))
    assert sorted(routed - described) == [], "routes missing from the spec"
    assert sorted(described - routed) == [], "spec operations no route answers"


def test_every_route_has_its_row_and_every_row_its_route(settings: Settings) -> None:
    app = create_app(settings)
    document = openapi_document(app)
    undocumented = sorted(
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, op in item.items()
        if op.get(UNDOCUMENTED)
    )
    assert undocumented == [], "add a row to OPERATIONS (docs/architecture.md)"
    rows = {route_key(r.method, r.resource.canonical) for r in app.router.routes() if r.resource}
    assert sorted(set(OPERATIONS) - rows) == [], "OPERATIONS rows for routes the app lacks"


def test_the_document_is_valid_openapi_3_1(settings: Settings) -> None:
    document = openapi_document(create_app(settings))
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_each_operation_admits_the_roles_its_handler_admits(settings: Settings) -> None:
    app = create_app(settings)
    document = openapi_document(app)
    for route in app.router.routes():
        assert route.resource is not None
        op = document["paths"][route.resource.canonical][route.method.lower()]
        admits = getattr(route.handler, ADMITS_ATTRIBUTE)
        if admits == ANYONE:
            assert op["x-roles"] == ANYONE, route
            assert {} in op["security"], route
        else:
            assert op["x-roles"] == sorted(role.value for role in admits), route
            assert op["security"] == [{"bearer": []}], route


def test_the_error_answers_are_the_catalogues(settings: Settings) -> None:
    document = openapi_document(create_app(settings))
    responses = document["components"]["responses"]
    named: dict[str, int] = {}
    for name, response in responses.items():
        if name == "Error":
            continue
        schema = response["content"]["application/json"]["schema"]
        codes = schema["properties"]["error"]["properties"]["code"]["enum"]
        for code in codes:
            assert code not in named, code
            named[code] = int(name.removeprefix("Error"))
    expected = {c.name: c.spec.status for c in ErrorCode if c not in CHANNEL_ONLY}
    assert named == expected
    for path, item in document["paths"].items():
        for method, op in item.items():
            assert op["responses"]["default"] == {"$ref": "#/components/responses/Error"}, (
                method,
                path,
            )


async def test_the_node_serves_both_documents_and_the_docs_pages(client: TestClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status == 200
    served = await response.json()
    assert served == openapi_document(client.server.app)  # type: ignore[arg-type]
    response = await client.get("/asyncapi.json")
    assert response.status == 200
    assert (await response.json())["asyncapi"] == "3.0.0"
    page = await client.get("/docs")
    assert page.status == 200
    assert "redoc.standalone.js" in await page.text()
    assert page.headers["Content-Security-Policy"] == DOCS_POLICY
    channel = await client.get("/docs/channel.html")
    assert channel.headers["Content-Security-Policy"] == CHANNEL_DOCS_POLICY
    script = await client.get("/docs/vendor/redoc.standalone.js")
    assert script.status == 200
    assert script.headers["Content-Type"].startswith("text/javascript")
    for path in (
        "/docs/../pyproject.toml",
        "/docs/%2e%2e/README.md",
        "/docs/vendor/",
        "/docs/nothing.js",
        "/docs/vendor/VERSIONS",
    ):
        missing = await client.get(path)
        assert missing.status == 404, path
        assert (await missing.json())["error"]["code"] == "not_found"


def test_the_asyncapi_document_names_every_frame_of_the_registry_both_ways() -> None:
    from livecommerce.web.asyncapi import asyncapi_document

    document = asyncapi_document()
    messages = document["components"]["messages"]
    for direction, frames in (("server", SERVER_FRAMES), ("client", CLIENT_FRAMES)):
        for frame in frames:
            payload = messages[f"{direction}.{frame.name}"]["payload"]
            assert payload["properties"]["type"]["const"] == frame.name
            names = {f.name for f in frame.fields}
            assert set(payload["properties"]) == names | {"type"}
            required = {f.name for f in frame.fields if not f.optional} | {"type"}
            assert set(payload["required"]) == required
    assert len(messages) == len(SERVER_FRAMES) + len(CLIENT_FRAMES)
    operations = document["operations"]
    assert len(operations["receiveServerFrames"]["messages"]) == len(SERVER_FRAMES)
    assert len(operations["sendClientFrames"]["messages"]) == len(CLIENT_FRAMES)


async def test_an_answer_that_breaks_the_spec_is_caught(aiohttp_client: Any) -> None:
    """The check the ``client`` fixture runs fails a test on an answer off the spec."""

    async def wrong_health(request: web.Request) -> web.Response:
        return web.json_response({"status": "fine"})

    app = web.Application()
    app.router.add_get("/healthz", wrong_health)
    client = await aiohttp_client(check_answers(app))
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/nothing")).status == 404
    (breach,) = breaches(app)
    assert breach.startswith("GET /healthz → 200")
