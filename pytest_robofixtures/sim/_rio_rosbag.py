"""Sandbox rosbag jobs and blobs (``/rosbag-jobs``, ``/rosbag-blobs``), part of ``Families``.

Jobs on a running deployment's ROS component (created by the API or from the provision's
``ros_bag_job_defs``) go ``Starting`` -> ``Running``; stopping one (or deprovisioning its
deployment) makes it ``Stopping`` -> ``Stopped`` and produces a blob that goes ``Starting`` ->
``Uploading`` -> ``Uploaded`` over ``delay``. Device OnDemand jobs upload only the time range a
PATCH asks for; device Continuous jobs also upload a split every ``delay`` while running.
Blobs download through a signed URL as a small stand-in bag file (the ``#ROSBAG V2.0`` magic
line, then a JSON description of what was recorded), not a bag ROS tools can read.
``fail_next_rosbag_upload()`` makes the next blob end in ``Error``.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._rio_base import (
    FamilyBase,
    Route,
    _list_arg,
)
from pytest_robofixtures.sim._wsgi import json_response
from pytest_robofixtures.sim.rapyuta_devices import CREATOR, error

UPLOAD_TYPES = ("OnStop", "Continuous", "OnDemand")


class Rosbags(FamilyBase):
    """Rosbag jobs and blobs of the sandbox."""

    def rosbag_routes(self) -> list[Route]:
        """The routes of rosbag jobs and blobs (and the signed blob download)."""
        return [
            ("/rosbag-jobs", self.list_jobs_in_project, ["GET"]),
            ("/rosbag-jobs/job/<guid>", self.get_job, ["GET"]),
            ("/rosbag-jobs/<dep_id>", self.create_job, ["POST"]),
            ("/rosbag-jobs/<dep_id>", self.list_jobs, ["GET"]),
            ("/rosbag-jobs/<dep_id>", self.stop_jobs, ["PATCH"]),
            ("/rosbag-jobs/<dep_id>/job/<guid>", self.patch_job, ["PATCH"]),
            ("/rosbag-blobs", self.list_blobs, ["GET"]),
            ("/rosbag-blobs/<guid>", self.get_blob, ["GET"]),
            ("/rosbag-blobs/<guid>", self.delete_blob, ["DELETE"]),
            ("/rosbag-blobs/<guid>/file", self.blob_url, ["GET"]),
            ("/rosbag-blobs/<guid>/retry", self.retry_blob, ["POST"]),
            ("/_files/rosbags/<guid>", self.serve_blob, ["GET"]),
        ]

    def fail_next_rosbag_upload(self, count: int = 1) -> None:
        """Make the next ``count`` rosbag blobs end in ``Error`` instead of ``Uploaded``."""
        with self.app.lock:
            self._next_upload_fails += count

    def _job_status(self, job: dict[str, Any]) -> str:
        """Starting/Running until stopped, then Stopping/Stopped (a blob appears at the stop)."""
        now = time.monotonic()
        if job["_stopped"] is None and job["deploymentID"] not in self.app.deployments:
            self._stop(job, now)  # deprovisioning stops the recording
        quarter = self.app.delay / 4
        if job["_stopped"] is not None:
            return "Stopping" if now - job["_stopped"] < quarter else "Stopped"
        self._continuous_splits(job, now)
        return "Starting" if now - job["_t0"] < quarter else "Running"

    def _continuous_splits(self, job: dict[str, Any], now: float) -> None:
        """A running device job with Continuous uploads uploads a split every ``delay``."""
        upload = (job.get("uploadOptions") or {}).get("uploadType")
        if job["componentType"] != "Device" or upload != "Continuous" or self.app.delay <= 0:
            return
        due = int((now - job["_t0"]) // self.app.delay)
        done = sum(1 for b in self.blobs.values() if b["jobID"] == job["guid"])
        for _ in range(max(0, due - done)):
            self._new_blob(job, now)

    def _stop(self, job: dict[str, Any], now: float) -> None:
        job["_stopped"] = now
        if job["componentType"] == "Device" and \
                (job.get("uploadOptions") or {}).get("uploadType", "OnDemand") == "OnDemand":
            return  # recorded on the device; uploaded only when asked for a time range
        self._new_blob(job, now)

    def _job_view(self, job: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in job.items() if not k.startswith("_")}
        out.update(self.app._stamps(job))
        out["status"] = self._job_status(job)
        return out

    def _materialize(self) -> None:
        """Jobs of the provision bodies' ``ros_bag_job_defs`` (once per deployment)."""
        for dep_id, rec in self.app.deployments.items():
            if dep_id in self._materialized:
                continue
            self._materialized.add(dep_id)
            ctxs = rec["provisionContext"].get("component_context") or {}
            for comp in rec["_components"]:
                for job_def in (ctxs.get(comp["componentID"]) or {}).get(
                        "ros_bag_job_defs") or []:
                    job = self._make_job(rec, comp, job_def)
                    job["_t0"] = rec["_t0"] + self.app.delay  # starts once the deployment runs
                    self.jobs[job["guid"]] = job

    def _make_job(self, dep: dict[str, Any], comp: dict[str, Any],
                  body: dict[str, Any]) -> dict[str, Any]:
        device = comp.get("device_id")
        return self._new_rec(
            guid=self.app._id("job"), name=body["name"], deploymentID=dep["deploymentId"],
            componentInstanceID=comp["componentInstanceID"], componentID=comp["componentID"],
            packageID=dep["packageId"], componentType="Device" if device else "Cloud",
            deviceID=device or "", project=self.app._owner(), creator=CREATOR,
            recordOptions=copy.deepcopy(body.get("recordOptions") or {}),
            uploadOptions=copy.deepcopy(body.get("uploadOptions")),
            overrideOptions=copy.deepcopy(body.get("overrideOptions")),
            _stopped=None)

    def _component_is_ros(self, dep: dict[str, Any], component_id: str) -> bool:
        pkg = self.app.packages.get(dep["packageId"]) or {}
        for plan in pkg.get("plans") or []:
            for comp in plan["components"]["components"]:
                if comp["componentId"] == component_id:
                    return bool((comp.get("ros") or {}).get("isROS"))
        return False

    def create_job(self, request: Request, dep_id: str) -> Response:
        """POST /rosbag-jobs/{deploymentID}: record on a running deployment's ROS component."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        problem = _check_job(body)
        if problem is not None:
            return error(problem, 400)
        with self.app.lock:
            self._materialize()
            dep = self.app.deployments.get(dep_id)
            if dep is None:
                return error(f"deployment {dep_id} not found", 404)
            phase, status, _ = self.app._phase(dep)
            if (phase, status) != ("Succeeded", "Running"):
                return error(f"deployment {dep_id} is not running (phase {phase}, status "
                             f"{status})", 400)
            inst = body.get("componentInstanceID")
            comp = next((c for c in dep["_components"] if c["componentInstanceID"] == inst),
                        None)
            if comp is None:
                return error(f"component instance {inst} is not part of deployment {dep_id}", 400)
            if not self._component_is_ros(dep, comp["componentID"]):
                return error(f"component {comp['name']} is not a ROS component", 400)
            if comp.get("device_id") and not body.get("uploadOptions"):
                return error("Rosbag Upload Options are required in case of Device jobs", 400)
            if any(j["name"] == body["name"] and j["componentInstanceID"] == inst
                   and self._job_status(j) not in ("Stopped", "Error")
                   for j in self.jobs.values()):
                return error(f"rosbag job {body['name']} already exists for component instance "
                             f"{inst}", 409)
            job = self._make_job(dep, comp, body)
            self.jobs[job["guid"]] = job
            return json_response(self._job_view(job))

    def _select_jobs(self, request: Request, dep_id: str) -> list[dict[str, Any]]:
        guids = set(_list_arg(request, "guid"))
        insts = set(_list_arg(request, "componentInstanceID"))
        return [j for j in self.jobs.values() if j["deploymentID"] == dep_id
                and (not guids or j["guid"] in guids)
                and (not insts or j["componentInstanceID"] in insts)]

    def list_jobs(self, request: Request, dep_id: str) -> Response:
        """GET /rosbag-jobs/{deploymentID}[?guid=&componentInstanceID=&status=]."""
        statuses = set(_list_arg(request, "status"))
        with self.app.lock:
            self._materialize()
            if dep_id not in self.app.deployments and not any(
                    j["deploymentID"] == dep_id for j in self.jobs.values()):
                return error(f"deployment {dep_id} not found", 404)
            views = [self._job_view(j) for j in self._select_jobs(request, dep_id)]
        return json_response([v for v in views if not statuses or v["status"] in statuses])

    def list_jobs_in_project(self, request: Request) -> Response:
        """GET /rosbag-jobs?deviceID=...: the jobs on those devices."""
        devices = set(_list_arg(request, "deviceID"))
        if not devices:
            return error("deviceID is required", 400)
        with self.app.lock:
            self._materialize()
            return json_response([self._job_view(j) for j in self.jobs.values()
                                  if j["deviceID"] in devices])

    def get_job(self, request: Request, guid: str) -> Response:
        """GET /rosbag-jobs/job/{guid}."""
        with self.app.lock:
            self._materialize()
            job = self.jobs.get(guid)
            if job is None:
                return error(f"rosbag job {guid} not found", 404)
            return json_response(self._job_view(job))

    def stop_jobs(self, request: Request, dep_id: str) -> Response:
        """PATCH /rosbag-jobs/{deploymentID}[?guid=&componentInstanceID=]: stop the jobs."""
        with self.app.lock:
            self._materialize()
            if dep_id not in self.app.deployments:
                return error(f"deployment {dep_id} not found", 404)
            now = time.monotonic()
            stopped = []
            for job in self._select_jobs(request, dep_id):
                if job["_stopped"] is None:
                    self._stop(job, now)
                    stopped.append(job["guid"])
        return json_response({"success": True, "stopped": stopped})

    def patch_job(self, request: Request, dep_id: str, guid: str) -> Response:
        """PATCH /rosbag-jobs/{dep}/job/{guid} {componentInstanceID, uploadOptions}."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        opts = body.get("uploadOptions") if isinstance(body, dict) else None
        if not isinstance(opts, dict):
            return error("uploadOptions (an object) is required", 400)
        with self.app.lock:
            self._materialize()
            job = self.jobs.get(guid)
            if job is None or job["deploymentID"] != dep_id:
                return error(f"rosbag job {guid} not found in deployment {dep_id}", 404)
            if job["componentType"] != "Device":
                return error("upload options can only be changed for device jobs", 400)
            kind = opts.get("uploadType")
            if kind is not None and kind not in UPLOAD_TYPES:
                return error(f"uploadType must be one of {list(UPLOAD_TYPES)}", 400)
            current = job.setdefault("uploadOptions", {}) or {}
            current.update({k: v for k, v in opts.items() if v is not None})
            job["uploadOptions"] = current
            rng = (opts.get("onDemandOpts") or {}).get("timeRange")
            if rng:
                self._new_blob(job, time.monotonic(), time_range=rng)
            return json_response(self._job_view(job))

    def _new_blob(self, job: dict[str, Any], now: float,
                  time_range: dict[str, Any] | None = None) -> dict[str, Any]:
        index = sum(1 for b in self.blobs.values() if b["jobID"] == job["guid"])
        fails = self._next_upload_fails > 0
        if fails:
            self._next_upload_fails -= 1
        start = job["_wall0"] if time_range is None else float(time_range.get("from", 0))
        end = time.time() if time_range is None else float(time_range.get("to", 0))
        topics = list((job.get("recordOptions") or {}).get("topics") or ["/rosout"])
        content = self._bag_bytes(job, topics, start, end, index)
        blob = self._new_rec(
            guid=self.app._id("blob"), filename=f"{job['name']}_{index}.bag",
            jobID=job["guid"], blobRefID=self.app._seq(), errorMessage="",
            creator=CREATOR, project=job["project"], componentType=job["componentType"],
            deviceID=job["deviceID"],
            info={"bagVersion": "2.0", "duration": max(0.0, end - start), "startTime": start,
                  "endTime": end, "size": len(content), "messageCount": 0,
                  "compression": (job.get("recordOptions") or {}).get("compression", "none"),
                  "uncompressedSize": len(content), "compressedSize": len(content),
                  "messageTypes": [],
                  "topics": [{"name": t, "messageType": "", "messageCount": 0, "frequency": 0}
                             for t in topics]},
            _content=content, _fails=fails)
        blob["_t0"] = now
        self.blobs[blob["guid"]] = blob
        return blob

    @staticmethod
    def _bag_bytes(job: dict[str, Any], topics: list[str], start: float, end: float,
                   index: int) -> bytes:
        described = {"job": job["name"], "jobID": job["guid"], "split": index,
                     "topics": topics, "startTime": start, "endTime": end,
                     "recordOptions": job.get("recordOptions") or {}}
        return b"#ROSBAG V2.0\n" + json.dumps(described, sort_keys=True).encode() + b"\n"

    def _blob_status(self, blob: dict[str, Any]) -> str:
        elapsed, quarter = time.monotonic() - blob["_t0"], self.app.delay / 4
        if elapsed < quarter:
            return "Starting"
        if elapsed < 2 * quarter:
            return "Uploading"
        return "Error" if blob["_fails"] else "Uploaded"

    def _blob_view(self, blob: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in blob.items() if not k.startswith("_")}
        out.update(self.app._stamps(blob))
        out["status"] = self._blob_status(blob)
        if out["status"] == "Error":
            out["errorMessage"] = "upload failed: the storage rejected the bag (sandbox fault)"
        job = self.jobs.get(blob["jobID"])
        out["job"] = self._job_view(job) if job is not None else None
        return out

    def list_blobs(self, request: Request) -> Response:
        """GET /rosbag-blobs[?guid=&deploymentID=&componentInstanceID=&jobID=&status=&deviceID=]."""
        filters = {name: set(_list_arg(request, name)) for name in (
            "guid", "deploymentID", "componentInstanceID", "jobID", "status", "deviceID")}
        with self.app.lock:
            self._materialize()
            for job in self.jobs.values():
                self._job_status(job)  # stops the jobs of deprovisioned deployments
            out = []
            for blob in self.blobs.values():
                view = self._blob_view(blob)
                job = view["job"] or {}
                fields = {"guid": view["guid"], "deploymentID": job.get("deploymentID"),
                          "componentInstanceID": job.get("componentInstanceID"),
                          "jobID": view["jobID"], "status": view["status"],
                          "deviceID": view["deviceID"]}
                if all(not wanted or fields[name] in wanted for name, wanted in filters.items()):
                    out.append(view)
        return json_response(out)

    def get_blob(self, request: Request, guid: str) -> Response:
        """GET /rosbag-blobs/{guid}."""
        with self.app.lock:
            blob = self.blobs.get(guid)
            if blob is None:
                return error(f"rosbag blob {guid} not found", 404)
            return json_response(self._blob_view(blob))

    def delete_blob(self, request: Request, guid: str) -> Response:
        """DELETE /rosbag-blobs/{guid}."""
        with self.app.lock:
            if self.blobs.pop(guid, None) is None:
                return error(f"rosbag blob {guid} not found", 404)
        return json_response({"success": True})

    def _sign(self, guid: str, expires: int) -> str:
        return hmac.new(self._secret, f"rosbag:{guid}:{expires}".encode(),
                        hashlib.sha256).hexdigest()

    def blob_url(self, request: Request, guid: str) -> Response:
        """GET /rosbag-blobs/{guid}/file: ``{"url": signed URL}`` once Uploaded."""
        with self.app.lock:
            blob = self.blobs.get(guid)
            if blob is None:
                return error(f"rosbag blob {guid} not found", 404)
            status = self._blob_status(blob)
            if status != "Uploaded":
                return error(f"rosbag blob {guid} is {status}, not Uploaded", 400)
        expires = int(time.time()) + 3600
        base = request.host_url.rstrip("/")
        return json_response({"url": f"{base}/_files/rosbags/{guid}?expires={expires}"
                                     f"&signature={self._sign(guid, expires)}"})

    def serve_blob(self, request: Request, guid: str) -> Response:
        """GET /_files/rosbags/{guid}?expires=&signature=: the bag file."""
        try:
            expires = int(request.args.get("expires", ""))
        except ValueError:
            return error("missing or invalid expires", 403)
        if not hmac.compare_digest(request.args.get("signature", ""), self._sign(guid, expires)):
            return error("invalid signature", 403)
        if expires < time.time():
            return error("signed url has expired", 403)
        with self.app.lock:
            blob = self.blobs.get(guid)
            if blob is None:
                return error(f"rosbag blob {guid} not found", 404)
            content, name = blob["_content"], blob["filename"]
        return Response(content, mimetype="application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename={name}"})

    def retry_blob(self, request: Request, guid: str) -> Response:
        """POST /rosbag-blobs/{guid}/retry: re-upload a device blob that ended in Error."""
        with self.app.lock:
            blob = self.blobs.get(guid)
            if blob is None:
                return error(f"rosbag blob {guid} not found", 404)
            if blob["componentType"] != "Device":
                return error("retry is only supported for device blobs", 400)
            if self._blob_status(blob) != "Error":
                return error(f"rosbag blob {guid} is {self._blob_status(blob)}, not Error", 400)
            blob["_fails"], blob["_t0"] = False, time.monotonic()
            return json_response({"status": self._blob_status(blob)})


def _check_job(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "rosbag job body must be a JSON object"
    if not isinstance(body.get("name"), str) or not body["name"]:
        return "name is required"
    if not isinstance(body.get("componentInstanceID"), str) or not body["componentInstanceID"]:
        return "componentInstanceID is required"
    opts = body.get("recordOptions")
    if not isinstance(opts, dict) or not any(
            opts.get(k) for k in ("allTopics", "topics", "topicIncludeRegex", "node")):
        return "recordOptions needs one of allTopics, topics, topicIncludeRegex or node"
    upload = body.get("uploadOptions")
    if upload is not None and (not isinstance(upload, dict)
                               or upload.get("uploadType", "OnDemand") not in UPLOAD_TYPES):
        return f"uploadOptions.uploadType must be one of {list(UPLOAD_TYPES)}"
    return None
