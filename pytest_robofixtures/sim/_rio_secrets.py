"""Sandbox docker secrets (core host ``/api/secret``, raw JSON), part of ``Families``.

Only ``kubernetes.io/dockercfg`` secrets exist (as in SDK 1.17.1); the base64 ``.dockercfg`` is
checked and the credentials are never sent back (``docker_credentials(guid)`` shows them to tests).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._rio_base import (
    FamilyBase,
    Route,
)
from pytest_robofixtures.sim._wsgi import json_response
from pytest_robofixtures.sim.rapyuta_devices import CREATOR, error

_SECRET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]+[a-z0-9]$")
DOCKER_SECRET = "kubernetes.io/dockercfg"


class Secrets(FamilyBase):
    """Docker secrets of the sandbox."""

    def secret_routes(self) -> list[Route]:
        """The routes of secrets."""
        return [
            ("/api/secret/create", self.create_secret, ["POST"]),
            ("/api/secret/list", self.list_secrets, ["GET"]),
            ("/api/secret/<guid>/get", self.get_secret, ["GET"]),
            ("/api/secret/<guid>/update", self.update_secret, ["PUT"]),
            ("/api/secret/delete", self.delete_secret, ["DELETE"]),
        ]

    def _secret_view(self, rec: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in rec.items() if not k.startswith("_")}
        out.update(self.app._stamps(rec))
        return out  # the credentials (``_data``) are never sent back

    def _secret_body(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        body, bad = self._body(request)
        if bad is not None:
            return {}, bad
        problem = _check_secret(body)
        if problem is not None:
            return {}, error(problem, 400)
        return body, None

    def create_secret(self, request: Request) -> Response:
        """POST /api/secret/create {type, name, data}."""
        body, bad = self._secret_body(request)
        if bad is not None:
            return bad
        with self.app.lock:
            if any(r["name"] == body["name"] for r in self.secrets.values()):
                return error(f"secret {body['name']} already exists", 409)
            guid = self.app._id("secret")
            rec = self._new_rec(guid=guid, name=body["name"], type=body["type"],
                                projectGUID=self.app._owner(), creator=CREATOR,
                                _data=copy.deepcopy(body["data"]))
            self.secrets[guid] = rec
            return json_response(self._secret_view(rec))

    def list_secrets(self, request: Request) -> Response:
        """GET /api/secret/list."""
        with self.app.lock:
            return json_response([self._secret_view(r) for r in self.secrets.values()])

    def get_secret(self, request: Request, guid: str) -> Response:
        """GET /api/secret/{guid}/get."""
        with self.app.lock:
            rec = self.secrets.get(guid)
            if rec is None:
                return error(f"secret {guid} not found", 404)
            return json_response(self._secret_view(rec))

    def update_secret(self, request: Request, guid: str) -> Response:
        """PUT /api/secret/{guid}/update {type, name, data}: new credentials, same name."""
        body, bad = self._secret_body(request)
        if bad is not None:
            return bad
        with self.app.lock:
            rec = self.secrets.get(guid)
            if rec is None:
                return error(f"secret {guid} not found", 404)
            if body["name"] != rec["name"]:
                return error(f"a secret cannot be renamed ({rec['name']} -> {body['name']})", 400)
            rec["_data"], rec["type"] = copy.deepcopy(body["data"]), body["type"]
            return json_response(self._secret_view(rec))

    def delete_secret(self, request: Request) -> Response:
        """DELETE /api/secret/delete {guid}."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        guid = body.get("guid") if isinstance(body, dict) else None
        with self.app.lock:
            if self.secrets.pop(str(guid), None) is None:
                return error(f"secret {guid} not found", 404)
        return json_response({"success": True})

    def docker_credentials(self, guid: str) -> dict[str, Any] | None:
        """The registry credentials stored in a docker secret (for tests and builds)."""
        with self.app.lock:
            rec = self.secrets.get(guid)
            if rec is None:
                return None
            cfg: dict[str, Any] = json.loads(base64.b64decode(rec["_data"][".dockercfg"]))
            return cfg


def _check_secret(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "secret body must be a JSON object"
    name = body.get("name")
    if not isinstance(name, str) or not 3 <= len(name) <= 253 or not _SECRET_NAME.match(name):
        return ("name must be 3 to 253 lower case alphanumeric characters or -, starting and "
                f"ending with an alphanumeric character; got {name!r}")
    if body.get("type") != DOCKER_SECRET:
        return f"type must be {DOCKER_SECRET}"
    data = body.get("data")
    raw = data.get(".dockercfg") if isinstance(data, dict) else None
    if not isinstance(raw, str):
        return "data[.dockercfg] (base64 of the docker config JSON) is required"
    try:
        cfg = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        return "data[.dockercfg] is not base64 of a JSON object"
    if not isinstance(cfg, dict) or not cfg:
        return "data[.dockercfg] must map a registry to its credentials"
    for registry, creds in cfg.items():
        if not isinstance(creds, dict) or not all(
                isinstance(creds.get(k), str) and creds[k] for k in ("username", "password")):
            return f"credentials of registry {registry} need a username and a password"
    return None
