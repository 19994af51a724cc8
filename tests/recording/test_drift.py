"""Drift: a live run compared with its recording, against a real loopback service."""

from __future__ import annotations

import copy
import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import Recorder, Scrubber, recording_path
from pytest_robofixtures.recording.config import RecordingConfig
from pytest_robofixtures.recording.drift import (
    DriftFinding,
    compare_bundle,
    compare_documents,
    is_enum_like,
    stored_document,
    summarize,
)
from pytest_robofixtures.sim._wsgi import SimApp, SimServer, json_response

from .conftest import RERECORD, TOKEN, headers

NODEID = "tests/test_drift.py::test_deploy"


class DriftApp(SimApp):
    """A deployment service whose answers can be changed the way a real API drifts."""

    def __init__(self, changes: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.changes = changes
        self.route("/deployments", self.create, methods=["POST"])
        self.route("/deployments/<did>", self.get, methods=["GET"])
        self.route("/deployments/<did>/logs", self.logs, methods=["GET"])

    def _dep(self, did: str) -> dict[str, Any]:
        dep: dict[str, Any] = {
            "id": did,  # random per run: must not count as drift
            "phase": "Failed" if "phase" in self.changes else "Succeeded",
            "status": "RUNNING", "healthy": True,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "counter": int(time.time() * 1000) % 997,
            "spec": {"replicas": 1, "image": "talker:1"},
        }
        if "removed" in self.changes:
            del dep["spec"]["image"]
        if "added" in self.changes:
            dep["region"] = "eu-1"
        return dep

    def create(self, request: Request) -> Response:
        return json_response(self._dep(f"dep-{uuid.uuid4().hex}"), 201)

    def get(self, request: Request, did: str) -> Response:
        return json_response(self._dep(did))

    def logs(self, request: Request, did: str) -> Response:
        if "status" in self.changes:
            return json_response({"error": "gone"}, 410)
        return json_response({"lines": ["started"]})


def run(rec: Recorder, url: str, polls: int, logs: bool = True) -> None:
    s = make_session(headers=headers(), retries=0)
    dep = s.post(f"{url}/deployments", json={"name": rec.names.new("dep")}).json()
    for _ in range(polls):
        s.get(f"{url}/deployments/{dep['id']}")
    if logs:
        s.get(f"{url}/deployments/{dep['id']}/logs")


def record(root: Path, changes: frozenset[str] = frozenset(), polls: int = 2,
           logs: bool = True, save: bool = True, run_id: str = "base1") -> Recorder:
    server = SimServer(DriftApp(changes)).start()
    try:
        rec = Recorder.open(recording_path(root, NODEID), "record", RERECORD,
                            Scrubber(secrets=[TOKEN]), metadata={"nodeid": NODEID},
                            run_id=run_id)
        rec.set_endpoint("deploy", server.url)
        with rec.http():
            run(rec, server.url, polls, logs)
        if save:
            rec.close()
    finally:
        server.stop()
    return rec


def test_an_unchanged_service_shows_no_drift(tmp_path: Path) -> None:
    record(tmp_path)
    live = record(tmp_path, polls=4, save=False, run_id="live2")  # other port, ids, times, polls
    assert compare_bundle(live.bundle, recording_path(tmp_path, NODEID), live.scrubber) == []


def test_changed_enum_status_code_and_fields_are_reported(tmp_path: Path) -> None:
    record(tmp_path)
    live = record(tmp_path, frozenset({"phase", "removed", "added", "status"}), save=False,
                  run_id="live3")
    findings = compare_bundle(live.bundle, recording_path(tmp_path, NODEID), live.scrubber)
    kinds = {(f.kind, f.path) for f in findings}
    assert ("value", "$.phase") in kinds
    assert ("removed", "$.spec.image") in kinds and ("added", "$.region") in kinds
    assert ("status", "") in kinds
    phase = next(f for f in findings if f.path == "$.phase")
    assert (phase.recorded, phase.live) == ("Succeeded", "Failed")
    status = next(f for f in findings if f.kind == "status")
    assert (status.recorded, status.live) == (200, 410)
    assert "/logs" in status.request and "<id>" in status.request
    lines = [str(f) for f in findings]
    assert all("\n" not in line for line in lines)
    # POST and GET answers both drifted (each request reported once, polls counted once).
    assert summarize(findings) == "7: 2 added, 2 removed, 1 status, 2 value"
    assert summarize([]) == "none"
    assert any('$.phase changed: recorded "Succeeded", live "Failed"' in line for line in lines)
    # Nothing about ids, timestamps, counters or ports.
    assert not any(f.path in ("$.id", "$.created_at", "$.counter") for f in findings)
    # The config's ignored paths are ignored here too.
    cfg = RecordingConfig(ignore_json_paths=("$.phase", "$.spec.image"))
    fewer = compare_bundle(live.bundle, recording_path(tmp_path, NODEID), live.scrubber, cfg)
    assert {(f.kind, f.path) for f in fewer} == {("added", "$.region"), ("status", "")}


def test_missing_and_extra_interactions(tmp_path: Path) -> None:
    record(tmp_path)
    live = record(tmp_path, logs=False, save=False, run_id="live4")
    findings = compare_bundle(live.bundle, recording_path(tmp_path, NODEID), live.scrubber)
    assert [(f.kind, f.request.endswith("/logs")) for f in findings] == [("missing", True)]
    assert str(findings[0]).endswith("recorded, not made live")
    record(tmp_path, logs=False, run_id="base5")
    live = record(tmp_path, save=False, run_id="live5")
    findings = compare_bundle(live.bundle, recording_path(tmp_path, NODEID), live.scrubber)
    assert [f.kind for f in findings] == ["extra"]


def test_sandbox_recordings_compare_and_an_edited_response_drifts(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2] / "cassettes/examples/test_talker_listener"
    for path in sorted(root.iterdir()):
        doc = stored_document(path)  # committed recordings of real sandbox traffic, any format
        assert doc["format_version"] == 2 and doc["http"]
        assert compare_documents(doc, doc) == []  # a recording never drifts from itself
    edited = copy.deepcopy(doc)
    target = next(e for e in edited["http"] if isinstance(
        (e["response"].get("body") or {}).get("json"), dict) and "name" in
        e["response"]["body"]["json"])
    del target["response"]["body"]["json"]["name"]
    findings = compare_documents(doc, edited)
    assert findings and {(f.kind, f.path) for f in findings} == {("added", "$.name")}


def test_enum_like_values() -> None:
    for key, value in [("phase", "In progress"), ("status", "READY"), ("status", "pending"),
                       ("x", "DEPLOYMENT_RUNNING"), ("ok", True)]:
        assert is_enum_like(key, value), (key, value)
    for key, value in [("guid", "net-nkuhmpxnhtqgxzvxisxr"), ("name", "robo-{run}-1-net"),
                       ("id", str(uuid.uuid4())), ("status", "<~status.0>"),
                       ("note", "some free text that is long enough to be prose"),
                       ("n", 3), ("token", "<scrubbed:2>"), ("name", "pending")]:
        assert not is_enum_like(key, value), (key, value)
    f = DriftFinding("HTTP", "removed", "GET {x}/a", "$.b", recorded=1)
    assert str(f) == "HTTP GET {x}/a: $.b removed (recorded 1)"
