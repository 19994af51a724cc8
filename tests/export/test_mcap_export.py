from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from pytest_robofixtures.export.mcap import ExportSummary, export_recording
from pytest_robofixtures.export.timing import fill_times
from pytest_robofixtures.recording import RecordingMissing
from pytest_robofixtures.recording.bundle import Bundle

pytest.importorskip("mcap")
from mcap.reader import make_reader  # noqa: E402

# Format-1 recordings of two examples, as first committed (no per-interaction times).
ROOT = Path(__file__).resolve().parent / "data"
ROC_TEST = ROOT / "test_shutter_opens_and_status_follows"
WORKSPACE_TEST = ROOT / "test_robot_workspace_over_ssh_and_camera"


def read_back(path: Path) -> tuple[list[tuple[str, str, str, int, dict[str, Any]]], Any]:
    """(topic, schema name, encoding, log_time, decoded message) in file order, and summary."""
    with path.open("rb") as f:
        reader = make_reader(f, validate_crcs=True)
        summary = reader.get_summary()
        out = []
        for schema, channel, message in reader.iter_messages(log_time_order=True):
            assert schema is not None and schema.encoding == "jsonschema"
            assert channel.message_encoding == "json"
            json.loads(schema.data)  # every schema is valid JSON
            out.append((channel.topic, schema.name, channel.message_encoding, message.log_time,
                        json.loads(message.data)))
    return out, summary


def test_roc_recording_has_status_log_and_call_channels(tmp_path: Path) -> None:
    bundle = Bundle.load(ROC_TEST, "")
    summary = export_recording(ROC_TEST, tmp_path / "roc.mcap")
    assert isinstance(summary, ExportSummary)
    assert summary.nodeid == "examples/test_roc_object.py::test_shutter_opens_and_status_follows"
    messages, file_summary = read_back(tmp_path / "roc.mcap")
    counts = Counter(topic for topic, *_ in messages)
    items = bundle.roc_feeds[0]["items"]
    statuses = [i for i in items if i["topic"].startswith("status.")]
    logs = [i for i in items if i["topic"].startswith("log.")]
    assert counts == {"/roc/calls": len(bundle.roc_calls), "/roc/log": len(logs),
                      "/roc/status/instruments/vnir": len(statuses)}
    assert summary.messages == dict(counts) and summary.total == len(messages) == 12
    assert file_summary.statistics.message_count == 12
    schema_names = {s.name for s in file_summary.schemas.values()}
    assert schema_names == {"robofixtures.RocCall", "foxglove.Log", "roc.status.instruments.vnir"}

    status = [m for t, _, _, _, m in messages if t == "/roc/status/instruments/vnir"]
    assert [s["captures"] for s in status] == [p["payload"]["captures"] for p in statuses]
    assert [s["shutter"] for s in status] == ["open", "open", "closed"]
    status_schema = next(json.loads(s.data) for s in file_summary.schemas.values()
                         if s.name == "roc.status.instruments.vnir")
    assert status_schema["properties"]["temperature"] == {"type": "number"}
    assert status_schema["properties"]["shutter"] == {"type": "string"}

    log = [m for t, _, _, _, m in messages if t == "/roc/log"]
    assert [m["message"] for m in log] == [p["payload"]["msg"] for p in logs]
    assert {m["level"] for m in log} == {2} and log[0]["line"] == 74
    calls = [m for t, _, _, _, m in messages if t == "/roc/calls"]
    assert [c["method"] for c in calls] == [c["method"] for c in bundle.roc_calls]
    assert "shutter is closed" in calls[-1]["error"]["message"]

    # On the recorded timeline, in the recorded (seq) order, each stamped with its log time.
    epoch_ns = int(round(bundle.clock["epoch"] * 1000)) * 1_000_000
    end_ns = epoch_ns + int(round(bundle.clock["duration"] * 1000)) * 1_000_000
    times = [lt for *_, lt, _ in messages]
    assert epoch_ns <= times[0] and times[-1] <= end_ns and times == sorted(times)
    assert [m["timestamp"]["sec"] * 10**9 + m["timestamp"]["nsec"] for *_, m in messages] == times
    order = [t for t, *_ in messages]
    assert order.index("/roc/log") < order.index("/roc/status/instruments/vnir")
    # The log records' own wall times anchor them (first one: created 1795269704.6008675).
    assert abs(next(lt for t, _, _, lt, _ in messages if t == "/roc/log")
               - 1795269704_600_867_500) < 1000


def test_workspace_recording_has_frames_as_images(tmp_path: Path) -> None:
    bundle = Bundle.load(WORKSPACE_TEST, "")
    summary = export_recording(WORKSPACE_TEST, tmp_path / "ws.mcap")
    messages, file_summary = read_back(tmp_path / "ws.mcap")
    images = [(t, s, m) for t, s, _, _, m in messages if s == "foxglove.CompressedImage"]
    assert len(images) == 2
    assert {t for t, _, _ in images} == {"/rerobots/e3e70682/camera/0"}
    blobs = sorted((WORKSPACE_TEST / "blobs").glob("*.jpg"))
    recorded = {p.read_bytes() for p in blobs}
    decoded = [base64.b64decode(m["data"]) for _, _, m in images]
    assert set(decoded) == recorded and len(recorded) == 2
    for _, _, m in images:
        assert m["format"] == "jpeg" and m["frame_id"] == "camera_0"
        with Image.open(io.BytesIO(base64.b64decode(m["data"]))) as img:
            assert img.format == "JPEG"

    ssh = [m for t, _, _, _, m in messages if t == "/ssh"]
    assert len(ssh) == len(bundle.ssh) == 5
    assert ssh[0]["message"].startswith("$ uname -a    [exit 0]")
    assert "stdout: Linux vm" in ssh[0]["message"]
    assert ssh[1]["message"] == "put mission.yaml (33 bytes)"
    http = [m for t, _, _, _, m in messages if t == "/http"]
    assert len(http) == len(bundle.http)
    not_found = [m for m in http if "-> 404" in m["message"]]
    assert len(not_found) == 1 and not_found[0]["level"] == 3  # warning
    assert "add-on cam not applied" in not_found[0]["message"]
    assert all("/9j/" not in m["message"] for m in http)  # frames are not dumped into logs
    instance = [m["status"] for t, s, _, _, m in messages
                if t == "/resources/instance/e3e70682-c209-4cac-a29f-6fbed82c07cd"]
    assert instance[0] == "INIT" and instance[-1] == "TERMINATED"
    assert [s for i, s in enumerate(instance) if i == 0 or instance[i - 1] != s] == [
        "INIT", "READY", "TERMINATING", "TERMINATED"]  # the instance's life, in order
    cam = [m["status"] for t, _, _, _, m in messages if t.startswith("/resources/addon/cam/")]
    assert cam[0] == "starting" and cam[-1] == "active"
    assert summary.timing == "estimated"  # this recording has no per-interaction times
    meta = list(make_reader((tmp_path / "ws.mcap").open("rb")).iter_metadata())
    assert meta[0].name == "robofixtures" and meta[0].metadata["timing"] == "estimated"
    assert meta[0].metadata["nodeid"].endswith("test_robot_workspace_over_ssh_and_camera")


def test_recorded_times_are_used_when_present(tmp_path: Path) -> None:
    copy = tmp_path / "timed"
    shutil.copytree(WORKSPACE_TEST, copy)
    doc = yaml.safe_load((copy / "recording.yaml").read_text())
    n_http = len(doc["http"])
    doc["clock"]["times"] = {"http": " ".join(f"{0.05 * i:.2f}" for i in range(n_http))}
    for i, entry in enumerate(doc["ssh"]):
        entry["at"] = 0.5 + 0.1 * i
    (copy / "recording.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    summary = export_recording(copy, tmp_path / "timed.mcap")
    assert summary.timing == "recorded"
    messages, _ = read_back(tmp_path / "timed.mcap")
    epoch_ns = int(round(doc["clock"]["epoch"] * 1000)) * 1_000_000
    ssh_times = [lt - epoch_ns for t, _, _, lt, _ in messages if t == "/ssh"]
    assert ssh_times == [500_000_000 + 100_000_000 * i for i in range(5)]
    http_times = [lt - epoch_ns for t, _, _, lt, _ in messages if t == "/http"]
    assert http_times == [50_000_000 * i for i in range(n_http)]


def test_fill_times_keeps_order_and_spreads_unknowns() -> None:
    assert fill_times([None, None, None], 0.0, 4.0) == [1.0, 2.0, 3.0]
    assert fill_times([None, 2.0, None, 4.0], 0.0, 6.0) == [1.0, 2.0, 3.0, 4.0]
    # A known time that goes backwards is not trusted: it is placed by order instead.
    assert fill_times([1.0, 0.5, 3.0], 0.0, 4.0) == [1.0, 2.0, 3.0]
    assert fill_times([], 0.0, 1.0) == []


def test_missing_recording_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RecordingMissing):
        export_recording(tmp_path / "nothing", tmp_path / "x.mcap")
    assert not (tmp_path / "x.mcap").exists()


BLOCKED = """
import sys
sys.modules["mcap"] = None
sys.modules["mcap.writer"] = None
from pytest_robofixtures.export.mcap import McapUnavailable, export_recording
try:
    export_recording(sys.argv[1], sys.argv[2])
except McapUnavailable as exc:
    print("unavailable:", exc)
"""


def test_without_mcap_a_clear_error_says_what_to_install(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", BLOCKED, str(ROC_TEST), str(tmp_path / "x")],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    assert "unavailable:" in out and "pytest-robofixtures[mcap]" in out


def test_rapyuta_deployment_and_network_states(tmp_path: Path) -> None:
    src = ROOT / "test_talker_runs_on_the_routed_network"
    export_recording(src, tmp_path / "talker.mcap")
    messages, _ = read_back(tmp_path / "talker.mcap")
    deployment = [(m.get("phase"), m["status"]) for t, _, _, _, m in messages
                  if t.startswith("/resources/serviceinstance/dep-")]
    network = [(m.get("phase"), m["status"]) for t, _, _, _, m in messages
               if t.startswith("/resources/routednetwork/net-")]
    assert deployment[0] == ("In progress", "Pending")
    assert deployment[-1] == ("Succeeded", "Running")
    assert network[0] == ("In progress", "Pending") and network[-1] == ("Succeeded", "Running")


def test_a_format_2_recording_exports_on_its_recorded_times(tmp_path: Path) -> None:
    current = (Path(__file__).resolve().parents[2] / "cassettes" / "examples" / "test_workspace"
               / "test_robot_workspace_over_ssh_and_camera")
    summary = export_recording(current, tmp_path / "now.mcap")
    assert summary.timing in ("recorded", "partly recorded")
    messages, _ = read_back(tmp_path / "now.mcap")
    assert len([m for _, s, _, _, m in messages if s == "foxglove.CompressedImage"]) == 2
