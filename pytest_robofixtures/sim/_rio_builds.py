"""Sandbox builds (catalog ``/build``, ``/build/operation/...``), part of ``Families``.

Each generation is ``BuildInProgress`` for ``delay`` seconds, then ``Complete`` (or
``BuildFailed`` after ``fail_next_build()`` / ``POST /_admin/builds/next {"outcome"}``).
Triggers add a generation (not while one runs), rollbacks go back to a successful one.
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._rio_base import (
    ROS_DISTROS,
    FamilyBase,
    Route,
    _list_arg,
)
from pytest_robofixtures.sim._wsgi import json_response
from pytest_robofixtures.sim.rapyuta_devices import CREATOR, error, iso


class Builds(FamilyBase):
    """Builds of the sandbox."""

    def build_routes(self) -> list[Route]:
        """The routes of builds."""
        return [
            ("/build", self.create_build, ["POST"]),
            ("/build", self.list_builds, ["GET"]),
            ("/build/<guid>", self.get_build, ["GET"]),
            ("/build/<guid>", self.update_build, ["PUT"]),
            ("/build/<guid>", self.delete_build, ["DELETE"]),
            ("/build/operation/trigger", self.trigger_builds, ["PUT"]),
            ("/build/operation/rollback", self.rollback_builds, ["PUT"]),
            (f"{self.app.ADMIN}/builds/next", self._admin_next_build, ["POST"]),
        ]

    def fail_next_build(self, outcome: str = "failed") -> None:
        """Make the next build generation (created or triggered) ``failed`` (or ``ok``)."""
        if outcome not in ("ok", "failed"):
            raise ValueError(f"outcome must be ok or failed, not {outcome!r}")
        with self.app.lock:
            self._next_build.append(outcome)

    def _build_status(self, build: dict[str, Any]) -> str:
        gen = build["_generations"][build["buildGeneration"] - 1]
        if time.monotonic() - gen["_t0"] < self.app.delay:
            return "BuildInProgress"
        return "BuildFailed" if gen["_fails"] else "Complete"

    def _build_view(self, build: dict[str, Any], with_requests: bool = False) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in build.items() if not k.startswith("_")}
        out.update(self.app._stamps(build))
        out["status"] = self._build_status(build)
        if with_requests:
            requests = []
            for number, gen in enumerate(build["_generations"], start=1):
                done = time.monotonic() - gen["_t0"] >= self.app.delay
                state = ("BuildFailed" if gen["_fails"] else "Complete") if done \
                    else "BuildInProgress"
                requests.append({"buildGenerationNumber": number, "status": state,
                                 "triggerName": gen["triggerName"], "tagName": gen["tagName"],
                                 "errorString": "sandbox build failure" if done and gen["_fails"]
                                 else "", "CreatedAt": iso(gen["_wall0"])})
            out["buildRequests"] = requests
        return out

    def _new_generation(self, trigger: str = "", tag: str = "") -> dict[str, Any]:
        outcome = self._next_build.popleft() if self._next_build else "ok"
        return {"_t0": time.monotonic(), "_wall0": time.time(), "_fails": outcome == "failed",
                "triggerName": trigger, "tagName": tag}

    def _check_build_secrets(self, body: dict[str, Any]) -> Response | None:
        named = [body.get("secret"), body.get("dockerPushSecret"),
                 *(body.get("dockerPullSecrets") or [])]
        for guid in named:
            if guid and guid not in self.secrets:
                return error(f"secret {guid} not found", 400)
        return None

    def create_build(self, request: Request) -> Response:
        """POST /build: a build whose first generation starts at once."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        problem = _check_build(body)
        if problem is not None:
            return error(problem, 400)
        with self.app.lock:
            if any(b["buildName"] == body["buildName"] for b in self.builds.values()):
                return error(f"build {body['buildName']} already exists", 409)
            bad = self._check_build_secrets(body)
            if bad is not None:
                return bad
            guid = self.app._id("build")
            info = {k: copy.deepcopy(body.get(k, d)) for k, d in (
                ("repository", ""), ("branch", ""), ("strategyType", ""),
                ("dockerFilePath", ""), ("contextDir", ""), ("architecture", ""),
                ("isRos", False), ("rosDistro", ""), ("simulationOptions", None),
                ("buildOptions", None))}
            rec = self._new_rec(
                guid=guid, buildName=body["buildName"], buildInfo=info, buildGeneration=1,
                secret=body.get("secret", ""),
                dockerPullSecrets=list(body.get("dockerPullSecrets") or []),
                dockerPushSecret=body.get("dockerPushSecret", ""),
                dockerPushRepository=body.get("dockerPushRepository", ""),
                buildWebhooks=copy.deepcopy(body.get("buildWebhooks")),
                ownerProject=self.app._owner(), creator=CREATOR,
                _generations=[self._new_generation(body.get("triggerName", ""),
                                                   body.get("tagName", ""))])
            self.builds[guid] = rec
            return json_response(self._build_view(rec))

    def list_builds(self, request: Request) -> Response:
        """GET /build[?status=...]."""
        statuses = set(_list_arg(request, "status"))
        with self.app.lock:
            views = [self._build_view(b) for b in self.builds.values()]
        return json_response([v for v in views if not statuses or v["status"] in statuses])

    def get_build(self, request: Request, guid: str) -> Response:
        """GET /build/{guid}[?include_build_requests=true]."""
        with_requests = request.args.get("include_build_requests", "").lower() == "true"
        with self.app.lock:
            rec = self.builds.get(guid)
            if rec is None:
                return error(f"build {guid} not found", 404)
            return json_response(self._build_view(rec, with_requests))

    def update_build(self, request: Request, guid: str) -> Response:
        """PUT /build/{guid}: repository, branch, paths, options, secrets and webhooks."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        problem = _check_build(body)
        if problem is not None:
            return error(problem, 400)
        with self.app.lock:
            rec = self.builds.get(guid)
            if rec is None:
                return error(f"build {guid} not found", 404)
            info = rec["buildInfo"]
            for fixed in ("strategyType", "architecture", "isRos"):
                if body.get(fixed, info[fixed]) != info[fixed]:
                    return error(f"{fixed} of a build cannot be changed", 400)
            bad = self._check_build_secrets(body)
            if bad is not None:
                return bad
            for key in ("repository", "branch", "dockerFilePath", "contextDir",
                        "buildOptions", "simulationOptions"):
                if key in body:
                    info[key] = copy.deepcopy(body[key])
            for key in ("secret", "dockerPushRepository", "buildWebhooks"):
                if key in body:
                    rec[key] = copy.deepcopy(body[key])
            if "dockerPullSecrets" in body:
                rec["dockerPullSecrets"] = list(body["dockerPullSecrets"] or [])
            return json_response(self._build_view(rec))

    def delete_build(self, request: Request, guid: str) -> Response:
        """DELETE /build/{guid}: 409 while a deployment runs an executable built by it."""
        with self.app.lock:
            if guid not in self.builds:
                return error(f"build {guid} not found", 404)
            users = self._build_users(guid)
            if users:
                return error(f"build {guid} is used by deployments {users}", 409)
            del self.builds[guid]
        return json_response({"success": True})

    def _build_users(self, guid: str) -> list[str]:
        users = []
        for dep_id, rec in self.app.deployments.items():
            pkg = self.app.packages.get(rec["packageId"]) or {}
            plan: dict[str, Any] = next(
                (p for p in pkg.get("plans") or [] if p["planId"] == rec["planId"]), {})
            if any(e.get("buildGUID") == guid
                   for c in (plan.get("components") or {}).get("components") or []
                   for e in c["executables"]):
                users.append(dep_id)
        return users

    def _operations(self, request: Request, kind: str) -> Response:
        body, bad = self._body(request)
        if bad is not None:
            return bad
        infos = body.get("buildOperationInfo") if isinstance(body, dict) else None
        if not isinstance(infos, list) or not infos:
            return error("buildOperationInfo (a non-empty list) is required", 400)
        out = []
        with self.app.lock:
            for info in infos:
                guid = info.get("buildGUID") if isinstance(info, dict) else None
                out.append(self._operate(kind, str(guid), info if isinstance(info, dict) else {}))
        return json_response({"buildOperationResponse": out})

    def _operate(self, kind: str, guid: str, info: dict[str, Any]) -> dict[str, Any]:
        rec = self.builds.get(guid)
        result: dict[str, Any] = {"buildGUID": guid, "buildGenerationNumber": 0,
                                  "success": False, "error": ""}
        if rec is None:
            result["error"] = f"build {guid} not found"
            return result
        status = self._build_status(rec)
        if status == "BuildInProgress":
            result["error"] = f"build {guid} is in progress"
            return result
        if kind == "trigger":
            rec["_generations"].append(self._new_generation(info.get("triggerName", ""),
                                                            info.get("tagName", "")))
            rec["buildGeneration"] = len(rec["_generations"])
        else:
            number = info.get("buildGenerationNumber")
            gens = rec["_generations"]
            if not isinstance(number, int) or not 1 <= number <= len(gens):
                result["error"] = f"build {guid} has no generation {number}"
                return result
            if gens[number - 1]["_fails"]:
                result["error"] = f"generation {number} of build {guid} failed"
                return result
            rec["buildGeneration"] = number
        result.update(buildGenerationNumber=rec["buildGeneration"], success=True)
        return result

    def trigger_builds(self, request: Request) -> Response:
        """PUT /build/operation/trigger: a new generation per build (not while one runs)."""
        return self._operations(request, "trigger")

    def rollback_builds(self, request: Request) -> Response:
        """PUT /build/operation/rollback: back to an earlier, successful generation."""
        return self._operations(request, "rollback")

    def _admin_next_build(self, request: Request) -> Response:
        body, _ = self._body(request)
        outcome = body.get("outcome") if isinstance(body, dict) else None
        if outcome not in ("ok", "failed"):
            return error("outcome must be ok or failed", 400)
        self.fail_next_build(str(outcome))
        return json_response({"next_build": outcome})


def _check_build(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "build body must be a JSON object"
    if not isinstance(body.get("buildName"), str) or not body["buildName"]:
        return "buildName is required"
    if body.get("strategyType") not in ("Source", "Docker"):
        return "strategyType must be Source or Docker"
    repo = body.get("repository")
    if not isinstance(repo, str) or not re.match(r"^(https?://|git@|ssh://)\S+$", repo):
        return f"repository must be a git URL (https://, ssh:// or git@); got {repo!r}"
    if body.get("architecture") not in ("amd64", "arm32v7", "arm64v8"):
        return "architecture must be one of ['amd64', 'arm32v7', 'arm64v8']"
    is_ros = body.get("isRos", False)
    if not isinstance(is_ros, bool):
        return "isRos must be a boolean"
    if is_ros and body.get("rosDistro") not in ROS_DISTROS:
        return f"rosDistro must be one of {list(ROS_DISTROS)} for a ROS build"
    if body["strategyType"] == "Source" and body.get("dockerFilePath"):
        return "dockerFilePath cannot be used with the Source strategy"
    if bool(body.get("dockerPushSecret")) != bool(body.get("dockerPushRepository")):
        return "dockerPushSecret and dockerPushRepository go together"
    return None
