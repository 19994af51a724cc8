"""The Recorder facade: retries and errors replayed in order, ignore, close, metadata, gzip."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml

from pytest_robofixtures.common.clock import SystemClock
from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import Recorder, RecordingMismatch, Scrubber, recording_path
from pytest_robofixtures.sim._wsgi import SimServer

from .conftest import RERECORD, headers

NODEID = "tests/test_r.py::test_r"


def test_error_then_success_replays_in_recorded_order(tmp_path: Path, demo: SimServer) -> None:
    requests.post(f"{demo.url}/_admin/faults", json={
        "kind": "status", "status": 503, "count": 2, "path": "/echo"}, timeout=5)
    path = recording_path(tmp_path, NODEID)
    rec = Recorder.open(path, "record", RERECORD, Scrubber())
    s = make_session(headers=headers(), retries=0)
    with rec.http():
        live = [s.post(f"{demo.url}/echo", json={"x": 1}).status_code for _ in range(3)]
    rec.close()
    assert live == [503, 503, 200]
    demo.stop()
    with Recorder.open(path, "replay", RERECORD, Scrubber()) as rep, rep.active():
        replayed = [s.post(f"{demo.url}/echo", json={"x": 1}).status_code for _ in range(4)]
    assert replayed == [503, 503, 200, 200]


def test_ignored_requests_are_neither_recorded_nor_replayed(
    tmp_path: Path, demo: SimServer
) -> None:
    path = recording_path(tmp_path, NODEID)

    def ignore(method: str, uri: str) -> bool:
        return "/_admin/" in uri

    rec = Recorder.open(path, "record", RERECORD, Scrubber(), ignore=ignore)
    with rec.http():
        requests.get(f"{demo.url}/_admin/resources", timeout=5)
        make_session(headers=headers()).post(f"{demo.url}/echo", json={})
    rec.close()
    doc = yaml.safe_load((path / "recording.yaml").read_text())
    assert [e["request"]["uri"].rsplit("/", 1)[1] for e in doc["http"]] == ["echo"]
    rep = Recorder.open(path, "replay", RERECORD, Scrubber(), ignore=ignore)
    with rep.active():
        assert requests.get(f"{demo.url}/_admin/resources", timeout=5).status_code == 200
        # what the rule does not let through is still answered from the recording
        assert make_session(headers=headers()).post(f"{demo.url}/echo", json={}).ok
    assert rep.close().unused == []
    rep2 = Recorder.open(path, "replay", RERECORD, Scrubber())
    with rep2.active(), pytest.raises(RecordingMismatch):
        requests.get(f"{demo.url}/_admin/resources", timeout=5)


def test_close_discard_metadata_endpoints_and_clock(tmp_path: Path, demo: SimServer) -> None:
    path = recording_path(tmp_path, NODEID)
    rec = Recorder.open(path, "record", RERECORD, Scrubber(),
                        metadata={"nodeid": NODEID, "mode": "live", "endpoints": {"a": "http://x"}})
    assert isinstance(rec.clock, SystemClock)
    rec.set_endpoint("b", demo.url)
    assert rec.endpoints == {"a": "http://x", "b": demo.url}
    assert rec.close(discard=True).written is False
    assert not path.exists()
    rec = Recorder.open(path, "record", RERECORD, Scrubber(), metadata={"nodeid": NODEID})
    rec.set_endpoint("b", demo.url)
    first = rec.close()
    assert first.written and rec.close().written is False  # idempotent
    rep = Recorder.open(path, "replay", RERECORD, Scrubber())
    assert rep.endpoints == {"b": demo.url} and rep.metadata["nodeid"] == NODEID
    assert rep.clock.time() == pytest.approx(yaml.safe_load(
        first.path.read_text())["clock"]["epoch"])
    with pytest.raises(ValueError, match="mode must be"):
        Recorder(rep.bundle, "live", Scrubber())  # type: ignore[arg-type]


def test_gzip_responses_are_stored_decoded_and_replayed(tmp_path: Path, demo: SimServer) -> None:
    path = recording_path(tmp_path, NODEID)
    rec = Recorder.open(path, "record", RERECORD, Scrubber())
    with rec.http():
        assert make_session(headers=headers()).get(f"{demo.url}/gz").json()["n"] == 42
    rec.close()
    doc = yaml.safe_load((path / "recording.yaml").read_text())
    response = doc["http"][0]["response"]
    assert response["body"] == {"json": {"compressed": True, "n": 42}}
    assert "Content-Encoding" not in response["headers"]
    demo.stop()
    with Recorder.open(path, "replay", RERECORD, Scrubber()) as rep, rep.active():
        assert make_session(headers=headers()).get(f"{demo.url}/gz").json() == {
            "compressed": True, "n": 42}
