"""Sandbox static routes (core host ``/api/staticroute``, raw JSON), part of ``Families``.

Routes are named by a URL prefix (``^[a-z][a-z0-9-]*$``, 4 to 64 characters) and get the
``urlString`` ``<prefix>-<6 hex digits of the project>.ep-r.io``.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._rio_base import (
    FamilyBase,
    Route,
)
from pytest_robofixtures.sim._wsgi import json_response
from pytest_robofixtures.sim.rapyuta_devices import CREATOR, error

STATIC_ROUTE_DOMAIN = "ep-r.io"
_ROUTE_PREFIX = re.compile(r"^[a-z][a-z0-9-]*$")


class StaticRoutes(FamilyBase):
    """Static routes of the sandbox."""

    def static_route_routes(self) -> list[Route]:
        """The routes of static routes."""
        return [
            ("/api/staticroute/create", self.create_static_route, ["POST"]),
            ("/api/staticroute/list", self.list_static_routes, ["GET"]),
            ("/api/staticroute/filter", self.filter_static_routes, ["GET"]),
            ("/api/staticroute/<guid>/get", self.get_static_route, ["GET"]),
            ("/api/staticroute/delete", self.delete_static_route, ["DELETE"]),
        ]

    def _route_view(self, rec: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in rec.items() if not k.startswith("_")}
        out.update(self.app._stamps(rec))
        return out

    def create_static_route(self, request: Request) -> Response:
        """POST /api/staticroute/create {urlPrefix}."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        prefix = body.get("urlPrefix") if isinstance(body, dict) else None
        if not isinstance(prefix, str) or not _ROUTE_PREFIX.match(prefix) \
                or not 4 <= len(prefix) <= 64:
            return error("urlPrefix must match ^[a-z][a-z0-9-]*$ and have 4 to 64 characters; "
                         f"got {prefix!r}", 400)
        app = self.app
        with app.lock:
            if any(r["urlPrefix"] == prefix for r in self.static_routes.values()):
                return error(f"static route {prefix} already exists", 409)
            guid = app._id("staticroute")
            # a short, stable tag of the project keeps prefixes of different projects apart
            suffix = hashlib.sha256(app._owner().encode()).hexdigest()[:6]
            rec = self._new_rec(guid=guid, urlPrefix=prefix,
                                urlString=f"{prefix}-{suffix}.{STATIC_ROUTE_DOMAIN}",
                                projectGUID=app._owner(), creator=CREATOR, metadata={})
            self.static_routes[guid] = rec
            return json_response(self._route_view(rec))

    def list_static_routes(self, request: Request) -> Response:
        """GET /api/staticroute/list."""
        with self.app.lock:
            return json_response([self._route_view(r) for r in self.static_routes.values()])

    def filter_static_routes(self, request: Request) -> Response:
        """GET /api/staticroute/filter?urlPrefix=: a list, 404 when none matches."""
        prefix = request.args.get("urlPrefix", "")
        with self.app.lock:
            found = [self._route_view(r) for r in self.static_routes.values()
                     if r["urlPrefix"] == prefix]
        if not found:
            return error(f"static route {prefix} not found", 404)
        return json_response(found)

    def get_static_route(self, request: Request, guid: str) -> Response:
        """GET /api/staticroute/{guid}/get."""
        with self.app.lock:
            rec = self.static_routes.get(guid)
            if rec is None:
                return error(f"static route {guid} not found", 404)
            return json_response(self._route_view(rec))

    def delete_static_route(self, request: Request) -> Response:
        """DELETE /api/staticroute/delete {guid}: 409 while a deployment uses it."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        guid = body.get("guid") if isinstance(body, dict) else None
        with self.app.lock:
            if guid not in self.static_routes:
                return error(f"static route {guid} not found", 404)
            user = self._routes_in_use().get(str(guid))
            if user is not None:
                return error(f"static route {guid} is used by deployment {user}", 409)
            del self.static_routes[str(guid)]
        return json_response({"success": True})
