from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_robofixtures.export.timing import interaction_offsets, recorded_interactions
from pytest_robofixtures.recording.bundle import Bundle
from pytest_robofixtures.reporting.timeline import timeline_from_events

# Format-1 recordings of the examples, as first committed (no per-interaction times).
ROOT = Path(__file__).resolve().parent / "data"
ROC_TEST = ROOT / "test_shutter_opens_and_status_follows"
WORKSPACE_TEST = ROOT / "test_robot_workspace_over_ssh_and_camera"


def test_workspace_recording_gives_ssh_ticks_and_frames_in_order() -> None:
    bundle = Bundle.load(WORKSPACE_TEST, "")
    found = recorded_interactions(bundle)
    assert [s["command"] for s in found.ssh] == [
        "uname -a", "put mission.yaml", "grep -c dock mission.yaml", "echo 'battery: 87' > "
        "status.txt", "get status.txt"]
    assert all(s["exit_status"] == 0 for s in found.ssh)
    times = [s["at"] for s in found.ssh]
    duration = bundle.clock["duration"]
    assert times == sorted(times) and 0 < times[0] and times[-1] < duration
    assert len(found.frames) == 2 and found.roc_calls == [] and found.status_updates == []
    known, _ = interaction_offsets(bundle)
    assert all(t is None for ts in known.values() for t in ts)  # an old recording: estimated


def test_roc_recording_gives_calls_and_status_history_for_the_picture() -> None:
    pytest.importorskip("matplotlib")
    from pytest_robofixtures.reporting.picture import render_timeline

    found = recorded_interactions(Bundle.load(ROC_TEST, ""), offset=0.25)
    assert [c["method"] for c in found.roc_calls] == [
        "__dir__", "openShutter", "capture", "__getattr__", "closeShutter", "capture"]
    assert [("error" in c) for c in found.roc_calls] == [False] * 5 + [True]
    assert [u[1] for u in found.status_updates].count("status.instruments.vnir") == 3
    assert min(c["at"] for c in found.roc_calls) > 0.25  # shifted onto the test's axis
    data = timeline_from_events([(0.0, "roc vnir", "connected")], **vars(found))
    names = {s.name: s.values for s in data.series}
    assert names["instruments.vnir.captures"] == [0.0, 3.0, 3.0]
    ids = {el.get("id") for el in ET.fromstring(render_timeline(data, "svg")).iter()}
    assert {"tick-roc-5", "series-0", "bar-0-0-ready"} <= ids
    assert not any(t.approximate for t in data.ticks)
