"""``GET /api/nodes``: the deployment's running nodes, for admins."""

from __future__ import annotations

from aiohttp import web

from livecommerce.auth import Role
from livecommerce.web.access import admits
from livecommerce.web.state import NODE_ID, NODES


@admits(Role.admin)
async def list_nodes(request: web.Request) -> web.Response:
    """Every node whose registry entry is alive, oldest first; ``self`` is the answering one."""
    nodes = await request.app[NODES].alive()
    return web.json_response(
        {"self": request.app[NODE_ID], "nodes": [node.to_json() for node in nodes]}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/nodes", list_nodes)
