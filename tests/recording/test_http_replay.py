"""HTTP record/replay against a real loopback server, replayed with the server stopped."""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from pytest_robofixtures.common.clock import VirtualClock, default_clock
from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.common.polling import poll
from pytest_robofixtures.recording import (
    NameFactory,
    Recorder,
    RecordingMismatch,
    Scrubber,
    recording_path,
)
from pytest_robofixtures.recording.stable import read_document
from pytest_robofixtures.sim._wsgi import SimServer

from .conftest import PROJECT, RERECORD, TOKEN, SleepCounter, headers

NODEID = "tests/hil/test_demo.py::TestThing::test_ready[a-1]"


def scenario(base: str, names: NameFactory) -> dict[str, Any]:
    s = make_session(headers=headers(), retries=0)
    name = names.new("thing")
    thing = s.post(f"{base}/things", json={
        "name": name, "created_at": time.time(), "request_id": str(uuid.uuid4()),
    }).json()
    seen: list[dict[str, Any]] = []

    def fetch() -> dict[str, Any]:
        value = s.get(f"{base}/things/{thing['id']}/status").json()
        seen.append(value)
        return value

    poll(fetch, lambda v: v["status"] == "READY", timeout=10, what="thing",
         describe=lambda v: v["status"])
    job = s.post(f"{base}/jobs", json={}).json()
    jstates: list[str] = []

    def fetch_job() -> dict[str, Any]:
        value = s.get(f"{base}/jobs/{job['id']}").json()
        jstates.append(value["status"])
        return value

    poll(fetch_job, lambda v: v["status"] == "DONE", timeout=30, what="job")
    cam = s.get(f"{base}/addon/cam/inst-1/0/img").json()
    return {
        "name": name, "thing_id": thing["id"], "sshkey": thing["sshkey"],
        "polls": [(v["status"], v["poll"]) for v in seen], "job_states": jstates,
        "jpeg": base64.b64decode(cam["data"]),
    }


def record(root: Path, demo: SimServer, scrubber: Scrubber | None = None) -> dict[str, Any]:
    rec = Recorder.open(recording_path(root, NODEID), "record", RERECORD,
                        scrubber or Scrubber(secrets=[TOKEN, PROJECT]),
                        metadata={"nodeid": NODEID, "mode": "sim"}, run_id="r1", worker="gw0")
    rec.set_endpoint("demo", demo.url)
    with rec.active():
        result = scenario(demo.url, rec.names)
    assert rec.close().written
    return result


@pytest.fixture
def recorded(tmp_path: Path, demo: SimServer) -> dict[str, Any]:
    result = record(tmp_path, demo)
    demo.stop()  # replay must not need it
    return result


def replay(root: Path) -> Recorder:
    return Recorder.open(recording_path(root, NODEID), "replay", RERECORD, Scrubber())


def test_replay_gives_identical_results_without_server_or_sleeping(
    tmp_path: Path, recorded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = SleepCounter().install(monkeypatch)
    rec = replay(tmp_path)
    with rec.active():
        assert isinstance(default_clock(), VirtualClock)
        result = scenario(rec.endpoints["demo"], rec.names)
    assert {k: v for k, v in result.items() if k != "sshkey"} == {
        k: v for k, v in recorded.items() if k != "sshkey"
    }
    assert result["polls"] == [("PENDING", 1), ("PENDING", 2), ("READY", 3)]
    assert len(recorded["job_states"]) >= 2 and recorded["job_states"][-1] == "DONE"
    assert sleeps.calls == []  # the job took real time live; replay slept only virtually
    assert isinstance(rec.clock, VirtualClock) and rec.clock.slept > 0
    assert rec.close().unused == []


def test_record_really_sleeps_so_the_sleep_counter_can_fail(
    tmp_path: Path, demo: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = SleepCounter().install(monkeypatch)
    record(tmp_path, demo)
    assert sleeps.calls


def test_polls_replay_in_order_then_last_response_repeats(
    tmp_path: Path, recorded: dict[str, Any]
) -> None:
    rec = replay(tmp_path)
    s = make_session(headers=headers(), retries=0)
    url = f"{rec.endpoints['demo']}/things/{recorded['thing_id']}/status"
    with rec.active():
        got = [s.get(url).json() for _ in range(5)]
    assert [(g["status"], g["poll"]) for g in got] == [
        ("PENDING", 1), ("PENDING", 2), ("READY", 3), ("READY", 3), ("READY", 3)
    ]
    unused = rec.close().unused
    assert any("POST" in u and "/things" in u for u in unused)  # not asked for this time


def test_recording_is_structured_yaml_with_metadata(
    tmp_path: Path, recorded: dict[str, Any]
) -> None:
    path = recording_path(tmp_path, NODEID) / "recording.yaml"
    assert yaml.safe_load(path.read_text())["format_version"] == 2
    doc = read_document(path)  # format 2 expanded: per-run values back in place
    assert doc["metadata"]["nodeid"] == NODEID and doc["metadata"]["mode"] == "sim"
    assert doc["metadata"]["endpoints"]["demo"].startswith("http://127.0.0.1:")
    assert doc["metadata"]["plugin_version"] and doc["metadata"]["recorded_at"]
    assert doc["names"] == [{"hint": "thing", "name": "robo-r1-gw0-1-thing"}]
    first = doc["http"][0]
    assert first["request"]["method"] == "POST"
    assert first["request"]["body"]["json"]["name"] == "robo-r1-gw0-1-thing"  # structured
    assert first["response"]["body"]["json"]["id"] == recorded["thing_id"]
    assert first["request"]["headers"]["Authorization"] == "<scrubbed:1>"
    assert doc["end_of_recording"] is True


def test_camera_jpeg_goes_to_a_blob_and_is_restored_byte_identical(
    tmp_path: Path, recorded: dict[str, Any]
) -> None:
    bundle = recording_path(tmp_path, NODEID)
    blobs = list((bundle / "blobs").iterdir())
    assert len(blobs) == 1 and blobs[0].suffix == ".jpg"
    assert blobs[0].read_bytes() == recorded["jpeg"]
    text = (bundle / "recording.yaml").read_text()
    assert base64.b64encode(recorded["jpeg"]).decode()[:40] not in text
    assert blobs[0].name in text
    rec = replay(tmp_path)
    with rec.active():
        cam = make_session(headers=headers()).get(
            f"{rec.endpoints['demo']}/addon/cam/inst-1/0/img").json()
    assert base64.b64decode(cam["data"]) == recorded["jpeg"]
    assert cam["format"] == "JPEG" and cam["success"] is True


def test_changed_body_fails_with_a_clear_message(tmp_path: Path, demo: SimServer) -> None:
    root = tmp_path
    rec = Recorder.open(recording_path(root, NODEID), "record", RERECORD, Scrubber())
    s = make_session(headers=headers(), retries=0)
    with rec.http():
        s.post(f"{demo.url}/echo", json={"speed": 1, "mode": "fast"})
    rec.close()
    demo.stop()
    rep = replay(root)
    with rep.active(), pytest.raises(RecordingMismatch) as info:
        s.post(f"{demo.url}/echo", json={"speed": 2, "mode": "fast"})
    message = str(info.value)
    assert str(recording_path(root, NODEID) / "recording.yaml") in message
    assert f"POST {demo.url}/echo" in message
    assert "nearest recorded HTTP request" in message
    assert "body: $.speed: recorded 1, got 2" in message
    assert RERECORD in message
    assert "mode" not in message.split("it differs in:")[1].split(RERECORD)[0]


def test_changed_query_and_unknown_path_are_mismatches(tmp_path: Path, demo: SimServer) -> None:
    rec = Recorder.open(recording_path(tmp_path, NODEID), "record", RERECORD, Scrubber())
    s = make_session(headers=headers(), retries=0)
    with rec.http():
        s.post(f"{demo.url}/echo?page=1", json={"a": 1})
    rec.close()
    demo.stop()
    rep = replay(tmp_path)
    with rep.active():
        assert s.post(f"{demo.url}/echo?page=1", json={"a": 1}).json()["args"] == {"page": "1"}
        with pytest.raises(RecordingMismatch, match=r"query: recorded \(\('page', '1'\),\)"):
            s.post(f"{demo.url}/echo?page=2", json={"a": 1})
        with pytest.raises(RecordingMismatch, match="path: recorded '/echo', got '/other'"):
            s.post(f"{demo.url}/other?page=1", json={"a": 1})


def test_volatile_fields_and_client_uuids_do_not_break_matching_but_resource_ids_do(
    tmp_path: Path, demo: SimServer
) -> None:
    rec = Recorder.open(recording_path(tmp_path, NODEID), "record", RERECORD, Scrubber())
    s = make_session(headers=headers(), retries=0)
    with rec.http():
        tid = s.post(f"{demo.url}/things", json={"name": "x"}).json()["id"]
        s.post(f"{demo.url}/echo", json={"CreatedAt": "2024-01-01T00:00:00Z",
                                         "nonce": str(uuid.uuid4()), "ref": tid,
                                         "tag": f"run-{uuid.uuid4()}"})
    rec.close()
    demo.stop()
    rep = replay(tmp_path)
    with rep.active():
        s.post(f"{demo.url}/things", json={"name": "x"})
        body = {"CreatedAt": "2031-05-05T10:00:00Z", "nonce": str(uuid.uuid4()), "ref": tid,
                "tag": f"run-{uuid.uuid4()}"}
        assert s.post(f"{demo.url}/echo", json=body).json()["got"]["ref"] == tid
        other = str(uuid.uuid4())
        with pytest.raises(RecordingMismatch, match=r"\$\.ref"):
            s.post(f"{demo.url}/echo", json={**body, "ref": other})


def test_replay_does_not_touch_a_running_server(tmp_path: Path, demo: SimServer) -> None:
    rec = Recorder.open(recording_path(tmp_path, NODEID), "record", RERECORD, Scrubber())
    s = make_session(headers=headers(), retries=0)
    with rec.http():
        s.post(f"{demo.url}/echo", json={"a": 1})
    rec.close()
    seen = demo.app.requests_seen
    with replay(tmp_path).active():
        s.post(f"{demo.url}/echo", json={"a": 1})
        with pytest.raises(RecordingMismatch):
            s.post(f"{demo.url}/echo", json={"a": 3})
    assert demo.app.requests_seen == seen
    direct = requests.post(f"{demo.url}/echo", json={"a": 1}, headers=headers(), timeout=5)
    assert direct.status_code == 200 and demo.app.requests_seen == seen + 1


def test_rerecording_overwrites_and_drops_stale_blobs(tmp_path: Path, demo: SimServer) -> None:
    path = recording_path(tmp_path, NODEID)
    s = make_session(headers=headers(), retries=0)
    rec = Recorder.open(path, "record", RERECORD, Scrubber())
    with rec.http():
        s.get(f"{demo.url}/addon/cam/i/0/img")
    rec.close()
    assert len(list((path / "blobs").iterdir())) == 1
    rec = Recorder.open(path, "record", RERECORD, Scrubber())
    with rec.http():
        s.post(f"{demo.url}/echo", json={"only": True})
    rec.close()
    assert not (path / "blobs").exists()
    doc = yaml.safe_load((path / "recording.yaml").read_text())
    assert [e["request"]["uri"].rsplit("/", 1)[1] for e in doc["http"]] == ["echo"]
    assert not [p for p in path.iterdir() if p.name.endswith(".tmp")]
