"""Which roles each HTTP route admits: the set its handler's ``@admits`` declares, route by
route, against a table written here, and that table against the OpenAPI document's "who"
(the rows of ``livecommerce/web/openapi_routes_*.py``, shown by ``/openapi.json`` and /docs).

``test_every_route_declares_the_roles_it_admits`` (tests/integration/test_handlers.py) only
checks that a route declares something; this checks what. A route's room (``not_your_room``)
and the per-order and per-room checks inside handlers have tests of their own
(test_room_scope_rest.py, test_commerce.py).
"""

from __future__ import annotations

from livecommerce.app import create_app
from livecommerce.auth import Role
from livecommerce.config import Settings
from livecommerce.web.access import ADMITS_ATTRIBUTE, ANYONE
from livecommerce.web.openapi import OPERATIONS, route_key

A, M, ADM, V, B = Role.anchor, Role.moderator, Role.admin, Role.viewer, Role.backend
STAFF_OR_ANCHOR = frozenset({A, M, ADM})
# route → (the roles it admits, or ANYONE for anonymous callers too; the spec's "who" for it,
# or None where the words are not checked here: moderation ("moderators and admins on every
# room; an anchor on its own rooms"), WHIP/WHEP, pages).
ROUTES: dict[str, tuple[frozenset[Role] | str, str | None]] = {
    "GET /healthz": (ANYONE, "anyone"),
    "GET /readyz": (ANYONE, "anyone"),
    # The handler itself asks for an admin token when metrics.public = false.
    "GET /metrics": (ANYONE, "anyone (admin when `metrics.public = false`)"),
    "GET /api/nodes": (frozenset({ADM}), "admin"),
    "POST /api/demo/token": (ANYONE, "anyone, when `auth.demo_tokens` is on"),
    "POST /api/rooms": (frozenset({A}), "anchor"),
    "GET /api/rooms": (ANYONE, "anyone"),
    "GET /api/rooms/{room}": (ANYONE, "anyone"),
    "POST /api/rooms/{room}/end": (STAFF_OR_ANCHOR, "the room's anchor, moderator, admin"),
    "GET /api/rooms/{room}/media": (STAFF_OR_ANCHOR, "the room's anchor, moderator, admin"),
    "GET /api/rooms/{room}/moderation/log": (STAFF_OR_ANCHOR, None),
    "GET /api/rooms/{room}/moderation/automod": (STAFF_OR_ANCHOR, None),
    "POST /api/rooms/{room}/moderation/automod": (STAFF_OR_ANCHOR, None),
    "POST /api/rooms/{room}/moderation/shield": (STAFF_OR_ANCHOR, None),
    "GET /api/rooms/{room}/review": (STAFF_OR_ANCHOR, None),
    "POST /api/rooms/{room}/review/{message}/{decision}": (STAFF_OR_ANCHOR, None),
    "GET /api/rooms/{room}/users/{user}": (STAFF_OR_ANCHOR, None),
    "POST /api/rooms/{room}/moderation/{action}": (STAFF_OR_ANCHOR, None),
    "DELETE /api/rooms/{room}/messages/{message}": (STAFF_OR_ANCHOR, None),
    "POST /api/rooms/{room}/products": (frozenset({A}), "its anchor"),
    "GET /api/rooms/{room}/products": (ANYONE, "anyone"),
    "POST /api/rooms/{room}/pin": (frozenset({A}), "its anchor"),
    "POST /api/rooms/{room}/sales": (frozenset({A}), "its anchor"),
    "GET /api/rooms/{room}/sales/{sale}": (ANYONE, "anyone"),
    "POST /api/rooms/{room}/sales/{sale}/stop": (frozenset({A, M}), "its anchor, moderator"),
    "GET /api/rooms/{room}/stats": (STAFF_OR_ANCHOR, "its anchor, moderator, admin"),
    "POST /api/rooms/{room}/vouchers": (frozenset({A}), "its anchor"),
    "GET /api/rooms/{room}/vouchers": (ANYONE, "anyone"),
    "GET /api/rooms/{room}/vouchers/{voucher}": (ANYONE, "anyone"),
    "POST /api/rooms/{room}/vouchers/{voucher}/drop": (frozenset({A}), "its anchor"),
    "POST /api/rooms/{room}/vouchers/{voucher}/pin": (frozenset({A}), "its anchor"),
    "POST /api/rooms/{room}/vouchers/{voucher}/end": (frozenset({A, M}), "its anchor, moderator"),
    # A caller's own claims: every role that can claim over the channel but the backend.
    "GET /api/rooms/{room}/claims": (frozenset({V, A, M, ADM}), "the claimer"),
    "POST /api/rooms/{room}/auctions": (frozenset({A}), "its anchor"),
    "GET /api/rooms/{room}/auctions": (ANYONE, "anyone"),
    "GET /api/rooms/{room}/auctions/{auction}": (ANYONE, "anyone"),
    "POST /api/rooms/{room}/auctions/{auction}/end": (frozenset({A, M}), "its anchor, moderator"),
    "POST /api/rooms/{room}/giveaways": (frozenset({A}), "its anchor"),
    "GET /api/rooms/{room}/giveaways": (ANYONE, "anyone"),
    "GET /api/giveaways/{giveaway}": (ANYONE, "anyone"),
    "GET /api/giveaways/{giveaway}/entrants": (ANYONE, "anyone"),
    "POST /api/giveaways/{giveaway}/end": (frozenset({A, M}), "its room's anchor, moderator"),
    "GET /api/stats/dab": (frozenset({ADM}), "admin"),
    "POST /api/rooms/{room}/impressions": (ANYONE, "anyone (rate limited per address)"),
    "GET /api/rooms/{room}/analytics": (STAFF_OR_ANCHOR, "its anchor, moderator, admin"),
    "GET /api/rooms/{room}/analytics.csv": (STAFF_OR_ANCHOR, "its anchor, moderator, admin"),
    "GET /studio/rooms/{room}": (ANYONE, None),
    "POST /api/orders/{order}/paid": (frozenset({B}), "backend"),
    # "The buyer" is any role but admin (the handler checks the order is the caller's);
    # an admin may buy over the channel but may not cancel its own order here.
    "POST /api/orders/{order}/cancel": (frozenset({B, V, A, M}), "backend, the buyer"),
    "GET /api/orders/{order}": (frozenset({B, ADM, V, A, M}), "the buyer, backend, admin"),
    # media.md: publish and trickle with the room's anchor token; DELETE "with the anchor's
    # token (moderators and admins may too)".
    "POST /whip/{room}": (frozenset({A}), None),
    "PATCH /whip/{room}/{session}": (frozenset({A}), None),
    "DELETE /whip/{room}/{session}": (STAFF_OR_ANCHOR, None),
    "OPTIONS /whip/{room}": (ANYONE, None),
    "OPTIONS /whip/{room}/{session}": (ANYONE, None),
    # Playback is anyone's; the session URL is the capability to trickle or end it.
    "POST /whep/{room}": (ANYONE, None),
    "PATCH /whep/{room}/{session}": (ANYONE, None),
    "DELETE /whep/{room}/{session}": (ANYONE, None),
    "OPTIONS /whep/{room}": (ANYONE, None),
    "OPTIONS /whep/{room}/{session}": (ANYONE, None),
    # The channel authenticates inside (errors as frames; anonymous viewers read only).
    "GET /ws/rooms/{room}": (ANYONE, None),
    "GET /": (ANYONE, None),
    "GET /rooms/{room}": (ANYONE, None),
    "GET /mod/rooms/{room}": (ANYONE, None),
    "GET /static/{path}": (ANYONE, None),
    "GET /sdk/{name}": (ANYONE, None),
    "GET /studio": (ANYONE, None),
    "POST /api/rooms/{room}/products/{product}/image": (frozenset({A}), "its anchor"),
    "GET /images/{name}": (ANYONE, "anyone"),
    "GET /replays/{replay}": (ANYONE, None),
    "GET /api/rooms/{room}/replays": (ANYONE, "anyone"),
    "GET /api/replays": (ANYONE, "anyone"),
    "GET /api/replays/{replay}": (ANYONE, "anyone"),
    # The handler checks the replay's anchor and the token's room (the path names no room).
    "DELETE /api/replays/{replay}": (frozenset({A, ADM}), "its anchor, admin"),
    "POST /api/replays/{replay}/orders": (frozenset({V, A, M, ADM}), "a signed-in buyer"),
    "GET /replays/{replay}/{name}": (ANYONE, "anyone"),
    "GET /hls/{room}/{name}": (ANYONE, "anyone"),
    "GET /openapi.json": (ANYONE, "anyone"),
    "GET /asyncapi.json": (ANYONE, "anyone"),
    "GET /docs": (ANYONE, "anyone"),
    "GET /docs/{file}": (ANYONE, "anyone"),
}


def admitted(settings: Settings) -> dict[str, frozenset[Role] | str]:
    """Every route of the app (HEAD folded into GET) → the roles its handler admits."""
    app = create_app(settings)
    found: dict[str, frozenset[Role] | str] = {}
    heads: dict[str, frozenset[Role] | str] = {}
    for route in app.router.routes():
        assert route.resource is not None
        admits = getattr(route.handler, ADMITS_ATTRIBUTE)
        roles = admits if admits == ANYONE else frozenset(admits)
        path = route.resource.canonical
        if route.method == "HEAD":
            heads[path] = roles
        else:
            found[f"{route.method} {path}"] = roles
    for path, roles in heads.items():
        assert found.get(f"GET {path}") == roles, f"HEAD {path} admits other roles than GET"
    return found


def test_every_route_admits_exactly_the_roles_of_the_table(settings: Settings) -> None:
    found = admitted(settings)
    assert sorted(set(found) - set(ROUTES)) == [], "routes missing from ROUTES"
    assert sorted(set(ROUTES) - set(found)) == [], "ROUTES names routes the app lacks"
    wrong = {
        route: (sorted(map(str, roles)) if roles != ANYONE else roles)
        for route, roles in found.items()
        if roles != ROUTES[route][0]
    }
    assert wrong == {}


def test_the_spec_says_who_as_the_table_does() -> None:
    differing = {
        route: (OPERATIONS[route_key(*route.split(" ", 1))].who, who)
        for route, (_, who) in ROUTES.items()
        if who is not None and OPERATIONS[route_key(*route.split(" ", 1))].who != who
    }
    assert differing == {}
