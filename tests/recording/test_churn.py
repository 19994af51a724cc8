"""Minimal churn: re-recording an unchanged test changes one line; old files still replay."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from werkzeug.wrappers import Request, Response

from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import Bundle, Recorder, Scrubber, recording_path
from pytest_robofixtures.recording.stable import read_document
from pytest_robofixtures.sim._wsgi import SimApp, SimServer, json_response, read_json

from .conftest import RERECORD, TOKEN, headers

NODEID = "tests/test_churn.py::test_provision"
ROOT = Path(__file__).resolve().parents[2]


class ChurnApp(SimApp):
    """Deterministic but for time and port: a thing that is RUNNING for a while, then READY."""

    def __init__(self, ready_after: float) -> None:
        super().__init__()
        self.ready_after = ready_after
        self.created = 0.0
        self.name = ""
        self.route("/things", self.create, methods=["POST"])
        self.route("/things/<tid>", self.get, methods=["GET"])

    def _thing(self, request: Request, name: str) -> dict[str, Any]:
        ready = time.time() - self.created >= self.ready_after
        return {
            "id": "thing-1", "name": name, "status": "READY" if ready else "RUNNING",
            "created_at": dt.datetime.fromtimestamp(self.created, dt.timezone.utc).isoformat(),
            "log": {"created": self.created, "msecs": 12.0},
            "links": {"self": f"{request.host_url}things/thing-1"},
        }

    def create(self, request: Request) -> Response:
        self.created = time.time()
        self.name = str(read_json(request)["name"])
        return json_response(self._thing(request, self.name), 201)

    def get(self, request: Request, tid: str) -> Response:
        return json_response(self._thing(request, self.name))


def provision(rec: Recorder, url: str, interval: float) -> list[str]:
    s = make_session(headers=headers(), retries=0)
    name = rec.names.new("thing")
    thing = s.post(f"{url}/things", json={"name": name}).json()
    seen = []
    while True:
        state = s.get(thing["links"]["self"]).json()["status"]
        seen.append(state)
        if state == "READY":
            return seen
        rec.clock.sleep(interval)


def record_once(root: Path, run_id: str, interval: float) -> tuple[Path, list[str]]:
    server = SimServer(ChurnApp(ready_after=0.25)).start()
    try:
        path = recording_path(root, NODEID)
        rec = Recorder.open(path, "record", RERECORD, Scrubber(secrets=[TOKEN]),
                            metadata={"nodeid": NODEID, "mode": "sim"}, run_id=run_id)
        rec.set_endpoint("things", server.url)
        with rec.active():
            seen = provision(rec, server.url, interval)
        rec.close()
    finally:
        server.stop()
    return path / "recording.yaml", seen


def test_rerecording_an_unchanged_test_changes_one_line(tmp_path: Path) -> None:
    first, seen1 = record_once(tmp_path / "a", "run1aaaa", 0.02)
    second, seen2 = record_once(tmp_path / "b", "run2bbbb", 0.045)
    # Ports, run ids, times and (usually: it depends on the machine's load) poll counts differ.
    a, b = first.read_text().splitlines(), second.read_text().splitlines()
    changed = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    assert len(a) == len(b) and changed == [1], "\n".join(
        f"{a[i]}\n{b[i]}" for i in changed[:5])
    assert a[1].startswith("clock: {") and "run: run1aaaa-" in a[1]
    text = first.read_text()
    assert "{things}/things/thing-1" in text and "robo-{run}-1-thing" in text
    assert "127.0.0.1:" not in text.split("\n", 2)[2]  # no port outside the clock line
    doc = yaml.safe_load(text)
    polls = doc["clock"]["at"]["http"]
    assert isinstance(polls[1], list) and len(polls[1]) == len(seen1) - 1  # RUNNING repeats


def test_collapsed_polls_replay_as_often_as_recorded_and_unused_counts_repeats(
    tmp_path: Path
) -> None:
    path, seen = record_once(tmp_path, "run3cccc", 0.02)
    rec = Recorder.open(path.parent, "replay", RERECORD, Scrubber(secrets=[TOKEN]))
    url = rec.endpoints["things"]
    assert url.startswith("http://127.0.0.1:")
    with rec.active():
        assert provision(rec, url, 0.02) == seen  # same sequence, READY after as many polls
    assert rec.close().unused == []
    loaded = Bundle.load(path.parent, RERECORD)
    assert len(loaded.http) == len(seen) + 1
    assert loaded.http[1]["response"]["body"]["json"]["links"]["self"].startswith(url)
    assert len(loaded.clock["at"]["http"]) == len(loaded.http)
    assert isinstance(loaded.metadata["recorded_at"], str)
    # Stopping after the first poll leaves exactly the other recorded polls unused.
    rec = Recorder.open(path.parent, "replay", RERECORD, Scrubber(secrets=[TOKEN]))
    with rec.active():
        s = make_session(headers=headers(), retries=0)
        thing = s.post(f"{url}/things", json={"name": rec.names.new("thing")}).json()
        s.get(thing["links"]["self"])
    unused = rec.close().unused
    assert len(unused) == len(seen) - 1
    assert all(u == f"HTTP GET {url}/things/thing-1" for u in unused)


def test_format_1_recordings_still_load_and_replay(tmp_path: Path) -> None:
    old = ROOT / "cassettes/examples/test_workspace/test_failed_command_reports_its_exit_status"
    if yaml.safe_load((old / "recording.yaml").read_text())["format_version"] != 1:
        old = tmp_path  # the examples were re-recorded: make a format-1 file by hand instead
        (old / "recording.yaml").write_text(
            "format_version: 1\nmetadata:\n  recorded_at: '2026-01-01T00:00:00+00:00'\n"
            "  endpoints: {x: 'http://127.0.0.1:9'}\nclock: {epoch: 1.5}\nnames: []\n"
            "http: []\nssh: []\nroc: {calls: [], feeds: []}\nend_of_recording: true\n")
    copy = tmp_path / "copy"
    shutil.copytree(old, copy)
    bundle = Bundle.load(copy, RERECORD)
    assert bundle.metadata["recorded_at"] and bundle.metadata["endpoints"]
    assert read_document(copy)["metadata"] == bundle.metadata


def test_token_text_already_in_the_data_is_left_alone(tmp_path: Path) -> None:
    from pytest_robofixtures.recording.stable import expand, stabilize

    doc = {
        "format_version": 1, "metadata": {"endpoints": {"svc": "http://127.0.0.1:5000"}},
        "clock": {"epoch": 1.0}, "names": [],
        "http": [{"request": {"method": "GET", "uri": "http://127.0.0.1:5000/a?t={svc}",
                              "headers": {}, "body": None},
                  "response": {"status": {"code": 200, "message": "OK"}, "headers": {},
                               "body": {"json": {"s": "<~x.0>", "at": "2026-01-01T00:00:00Z"}}}}],
        "ssh": [], "roc": {"calls": [], "feeds": []}, "end_of_recording": True,
    }
    stored = stabilize(doc, recorded_at="now", times={}, run_tokens=["r1-main"])
    assert stored["http"][0]["request"]["uri"] == "http://127.0.0.1:5000/a?t={svc}"
    assert stored["http"][0]["response"]["body"]["json"]["at"] == "2026-01-01T00:00:00Z"
    back = expand(yaml.safe_load(yaml.safe_dump(stored)))
    assert back["http"] == doc["http"]
    assert back["metadata"]["endpoints"] == {"svc": "http://127.0.0.1:5000"}


def record_sandbox_network(root: Path, run_id: str, save: bool = True) -> Any:
    from pytest_robofixtures.rapyuta.client import Client
    from pytest_robofixtures.sim.sandbox import RAPYUTA_PROJECT, RAPYUTA_TOKEN, Sandbox

    with Sandbox(delay=0.6, roc=False, seed=7) as sandbox:  # the same ids in both runs
        assert sandbox.rapyuta is not None
        url = sandbox.rapyuta.url
        path = recording_path(root, "tests/test_net.py::test_net")
        rec = Recorder.open(path, "record", RERECORD,
                            Scrubber(secrets=[RAPYUTA_TOKEN, RAPYUTA_PROJECT]),
                            metadata={"nodeid": "tests/test_net.py::test_net", "mode": "sim"},
                            run_id=run_id)
        rec.set_endpoint("rapyuta_catalog", url)
        rec.set_endpoint("rapyuta_core", url)
        with rec.active():
            client = Client(RAPYUTA_TOKEN, RAPYUTA_PROJECT, catalog_host=url, core_api_host=url)
            net = client.create_cloud_routed_network(rec.names.new("net"), "melodic", False)
            net.poll_routed_network_till_ready(sleep_interval=0.05)
            client.delete_routed_network(net.guid)
            client.close()
        if not save:
            return rec
        rec.close()
    return path / "recording.yaml"


def observed_states(path: Path) -> list[Any]:
    """The phases the polls saw, once per change (how many polls saw each may differ)."""
    out: list[Any] = []
    for e in read_document(path)["http"]:
        body = (e["response"].get("body") or {}).get("json") or {}
        status = body.get("internalDeploymentStatus") if isinstance(body, dict) else None
        state = (e["request"]["method"], (status or {}).get("phase"), (status or {}).get("status"))
        if not out or out[-1] != state:
            out.append(state)
    return out


def test_rerecording_against_two_fresh_sandboxes_changes_one_line(tmp_path: Path) -> None:
    first = record_sandbox_network(tmp_path / "a", "runaaaa1")
    # The sandbox moves through phases on the wall clock: on a stalled machine a poll can miss
    # one, which is a change of behaviour. Record again until the behaviour is the same.
    for attempt in range(3):
        second = record_sandbox_network(tmp_path / f"b{attempt}", f"runbbb{attempt}")
        if observed_states(second) == observed_states(first):
            break
    a, b = first.read_text().splitlines(), second.read_text().splitlines()
    assert observed_states(first) == observed_states(second)
    assert [i for i, (x, y) in enumerate(zip(a, b)) if x != y] == [1] and len(a) == len(b)
    assert "{rapyuta_catalog}/routednetwork" in first.read_text()
    rec = Recorder.open(second.parent, "replay", RERECORD, Scrubber())
    assert rec.endpoints["rapyuta_core"].startswith("http://127.0.0.1:")
    assert len(rec.bundle.http) == len(read_document(second)["http"])


def test_drift_against_a_fresh_sandbox_ignores_what_varies_and_sees_an_edited_field(
    tmp_path: Path
) -> None:
    from pytest_robofixtures.recording.drift import compare_bundle

    recorded = record_sandbox_network(tmp_path, "runddd1")
    live = record_sandbox_network(tmp_path / "live", "runeee2", save=False)
    assert compare_bundle(live.bundle, recorded.parent, live.scrubber) == []
    # A field the service no longer returns... seen from the other side: remove it from the
    # recording, and the live run reports it as added.
    doc = yaml.safe_load(recorded.read_text())
    del doc["http"][0]["response"]["body"]["json"]["rosDistro"]
    recorded.write_text(yaml.safe_dump(doc, sort_keys=False))
    findings = compare_bundle(live.bundle, recorded.parent, live.scrubber)
    assert [(f.kind, f.path, f.request) for f in findings] == [
        ("added", "$.rosDistro", "POST {rapyuta_catalog}/routednetwork")]


def test_clock_line_keeps_every_value_exactly() -> None:
    from pytest_robofixtures.recording.stable import render_clock_line

    line = {"a": "x\ny  z", "b": "it's: {x}", "c": 1e-05, "d": "ünï", "e": " lead",
            "f": "\t tab", "g": "a\u2028b", "h": [1.5, None, True, "2026-01-01T00:00:00Z"]}
    text = render_clock_line(line)
    assert text.count("\n") == 1 and text.startswith("clock: {")
    assert yaml.safe_load(text)["clock"] == line


def test_a_damaged_clock_line_is_a_corrupt_recording(tmp_path: Path) -> None:
    from pytest_robofixtures.recording import RecordingCorrupt

    path, _seen = record_once(tmp_path, "run9zzzz", 0.02)
    text = path.read_text()
    head, clock, rest = text.split("\n", 2)
    damaged = clock.replace("values: {", "values: {unrelated: [1], ", 1)
    damaged = damaged.replace("createdat:", "createdat_gone:", 1)
    path.write_text("\n".join([head, damaged, rest]))
    with pytest.raises(RecordingCorrupt, match="createdat"):
        Recorder.open(path.parent, "replay", RERECORD, Scrubber())


def test_replay_at_another_base_url(tmp_path: Path) -> None:
    from pytest_robofixtures.recording.stable import rebase

    path, seen = record_once(tmp_path, "run8yyyy", 0.02)
    rec = Recorder.open(path.parent, "replay", RERECORD, Scrubber(secrets=[TOKEN]))
    new = "http://127.0.0.1:9"  # nothing listens there: replay must serve it all
    rebase(rec.bundle, {"things": new})
    assert rec.endpoints["things"] == new
    with rec.active():
        assert provision(rec, new, 0.02) == seen  # links in bodies moved too
    assert rec.close().unused == []
