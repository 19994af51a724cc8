from __future__ import annotations

import io
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from pytest_robofixtures.reporting.picture import PlotsUnavailable, render_timeline
from pytest_robofixtures.reporting.timeline import (
    DELETED,
    PROVISIONING,
    READY,
    REQUESTED,
    TEARING_DOWN,
    Marker,
    Series,
    TimelineData,
    phase_of_state,
    status_series,
    timeline_from_events,
)

pytest.importorskip("matplotlib")

SVG = "{http://www.w3.org/2000/svg}"
RR = "rerobots e3e70682"
DEP = "deployment dep-talker"

EVENTS = [
    (0.05, RR, "created e3e70682-c209-4cac-a29f-6fbed82c07cd"),
    (0.10, RR, "state INIT"),
    (6.20, RR, "state READY"),
    (6.20, RR, "READY"),
    (9.00, RR, "add-on cam active"),
    (0.30, DEP, "created dep-abc"),
    (0.50, DEP, "state In progress/Pending"),
    (4.00, DEP, "state Provisioning/Pending"),
    (8.00, DEP, "state Succeeded/Running"),
    (8.00, DEP, "running"),
    (13.5, DEP, "torn down"),
    (14.0, RR, "state TERMINATING"),
    (16.5, RR, "state TERMINATED"),
    (16.5, RR, "torn down"),
]
WAITS = [(RR, 0.1, 6.1), (DEP, 0.5, 7.5)]
SSH = [
    {"command": "uname -a", "exit_status": 0},
    {"command": "grep -c dock mission.yaml", "exit_status": 0},
    {"command": "false", "exit_status": 1, "at": 12.0},
]
CALLS = [{"object": "vnir", "method": "openShutter", "at": 9.5},
         {"object": "vnir", "method": "capture", "at": 10.0, "error": {"code": -32000}}]
UPDATES = [
    (9.6, "status.instruments.vnir", {"temperature": 21.5, "captures": 0, "shutter": "open"}),
    (10.1, "status.instruments.vnir", {"temperature": 22.7, "captures": 3}),
    (11.0, "status.system", {"battery": {"v": 12.1}, "charging": True}),
    (12.5, "status.system", {"battery": {"v": 11.7}, "charging": False}),
    (12.6, "log.INFO.x", {"msg": "not a status", "levelno": 20}),
]


def sample() -> TimelineData:
    return timeline_from_events(
        EVENTS, title="test_workspace", waits=WAITS, ssh=SSH, roc_calls=CALLS,
        status_updates=UPDATES, frames=[10.5, None],
        markers=[Marker("battery_v", 12.5, "11.7 V", passed=True)],
    )


def test_phases_from_service_states() -> None:
    assert phase_of_state("INIT") == PROVISIONING
    assert phase_of_state("Provisioning/Pending") == PROVISIONING
    assert phase_of_state("Succeeded/Running") == READY
    assert phase_of_state("Succeeded/Pending") == PROVISIONING  # the status decides
    assert phase_of_state("Deployment stopped/Stopped") == DELETED
    assert phase_of_state("TERMINATING") == TEARING_DOWN
    assert phase_of_state("TERMINATED") == DELETED
    assert phase_of_state("Failed to start/Error") == "failed"
    assert phase_of_state("INIT_FAIL") == "failed"
    assert phase_of_state("something new") is None


def test_tracks_follow_the_events() -> None:
    data = sample()
    rows = {t.name: t for t in data.resources}
    assert set(rows) == {RR, DEP}
    rr = [(s.phase, s.start, s.end) for s in rows[RR].spans]
    assert rr == [(REQUESTED, 0.05, 0.10), (PROVISIONING, 0.10, 6.20), (READY, 6.20, 14.0),
                  (TEARING_DOWN, 14.0, 16.5), (DELETED, 16.5, 16.5)]
    dep = [s.phase for s in rows[DEP].spans]
    assert dep == [REQUESTED, PROVISIONING, READY, DELETED]
    assert rows[DEP].spans[1].detail == "In progress/Pending"  # first of the merged states
    assert [n.text for n in rows[RR].notes] == ["add-on cam active"]


def test_interactions_without_times_fall_in_the_test_body_window() -> None:
    data = sample()
    ssh = [t for t in data.ticks if t.kind == "ssh"]
    assert [t.label for t in ssh] == ["uname -a", "grep -c dock mission.yaml", "false"]
    assert [t.approximate for t in ssh] == [True, True, False]
    assert [t.failed for t in ssh] == [False, False, True]
    # After the last resource became ready (8.0), before the first teardown (13.5), in order.
    assert 8.0 < ssh[0].at < ssh[1].at < 13.5
    assert ssh[2].at == 12.0
    roc = [t for t in data.ticks if t.kind == "roc"]
    assert [(t.label, t.failed) for t in roc] == [("vnir.openShutter", False),
                                                  ("vnir.capture", True)]
    frames = [t for t in data.ticks if t.kind == "frame"]
    assert frames[0].at == 10.5 and frames[1].approximate


def test_status_series_are_numeric_leaves_by_dotted_path() -> None:
    series = {s.name: s for s in status_series(UPDATES)}
    assert set(series) == {"instruments.vnir.temperature", "instruments.vnir.captures",
                           "system.battery.v", "system.charging"}
    assert series["instruments.vnir.temperature"].values == [21.5, 22.7]
    assert series["instruments.vnir.temperature"].times == [9.6, 10.1]
    assert series["system.charging"].values == [1.0, 0.0]


def test_svg_is_valid_and_has_every_element() -> None:
    data = sample()
    svg = render_timeline(data, "svg")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    bars = {i for i in ids if i.startswith("bar-")}
    assert len(bars) == sum(len(t.spans) for t in data.resources) == 9
    assert {"bar-0-2-ready", "bar-0-3-tearing-down", "bar-1-1-provisioning"} <= bars
    assert {"wait-0", "wait-1"} <= ids
    assert {"tick-ssh-0", "tick-ssh-2", "tick-roc-1", "tick-frame-0", "marker-0"} <= ids
    assert {f"series-{i}" for i in range(4)} <= ids and "series-4" not in ids
    text = " ".join("".join(el.itertext()) for el in root.iter(f"{SVG}text"))
    for label in (RR, DEP, "ssh commands", "ROC calls", "camera frames", "waited 6.1 s",
                  "instruments.vnir.temperature", "system.battery.v", "add-on cam active"):
        assert label in text


def test_png_opens_with_pillow() -> None:
    png = render_timeline(sample(), "png", dpi=80)
    with Image.open(io.BytesIO(png)) as img:
        img.load()
        assert img.format == "PNG"
        assert img.width == 800 and img.height > 300
        # Not blank: the phase colours are in it.
        colours = {c for _, c in img.convert("RGB").getcolors(maxcolors=1 << 20) or []}
        assert (0x2E, 0x9D, 0x4F) in colours  # ready green


def test_same_data_same_svg_bytes() -> None:
    assert render_timeline(sample(), "svg") == render_timeline(sample(), "svg")


def test_many_series_are_capped_and_counted() -> None:
    data = TimelineData(series=[Series(f"s{i}", [0.0, 1.0], [i, i + 1.0]) for i in range(11)])
    svg = render_timeline(data, "svg")
    root = ET.fromstring(svg)
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert "series-7" in ids and "series-8" not in ids
    assert b"+3 status fields not plotted" in svg


def test_empty_data_still_draws_and_bad_format_is_refused() -> None:
    ET.fromstring(render_timeline(TimelineData(title="nothing happened"), "svg"))
    with pytest.raises(ValueError, match="svg"):
        render_timeline(TimelineData(), "pdf")


def test_no_pyplot_state_is_left_behind() -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    render_timeline(sample(), "png")
    assert plt.get_fignums() == before


BLOCKED = """
import sys
sys.modules["matplotlib"] = None  # as if the plots extra were not installed
from pytest_robofixtures.reporting.picture import PlotsUnavailable, render_timeline
from pytest_robofixtures.reporting.timeline import TimelineData
try:
    render_timeline(TimelineData())
except PlotsUnavailable as exc:
    print("unavailable:", exc)
"""


def test_without_matplotlib_a_clear_error_says_what_to_install() -> None:
    out = subprocess.run([sys.executable, "-c", BLOCKED], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert "unavailable:" in out and "pytest-robofixtures[plots]" in out
    assert issubclass(PlotsUnavailable, ImportError)  # callers may catch ImportError


def test_replay_events_keep_instant_phases_and_general_notes() -> None:
    # The shape of a replayed test's events: waiting took no time, so ready and torn down
    # share an instant; "replay clock" is not a resource.
    dep = "deployment robo-dd58aa9212-main-5-dep"
    events = [
        (0.35, dep, "created dep-vbakmwsrdzkpkbmdaqqc"),
        (0.35, dep, "state In progress/Pending"),
        (0.50, dep, "state Succeeded/Pending"),
        (0.55, dep, "state Succeeded/Running"),
        (0.55, dep, "running"),
        (0.55, dep, "torn down"),
        (0.55, "replay clock", "skipped 0.5s of waiting"),
    ]
    data = timeline_from_events(events)
    assert [t.name for t in data.resources] == [dep]
    assert [s.phase for s in data.resources[0].spans] == [REQUESTED, PROVISIONING, READY, DELETED]
    assert [n.text for n in data.notes] == ["replay clock: skipped 0.5s of waiting"]
    svg = render_timeline(data, "svg")
    ids = {el.get("id") for el in ET.fromstring(svg).iter() if el.get("id")}
    assert "bar-0-2-ready" in ids  # drawn although it lasted no time
    assert b"replay clock: skipped 0.5s of waiting" in svg


def test_a_timeout_marks_where_the_resource_stalled() -> None:
    dep = "deployment dep-stuck"
    data = timeline_from_events([
        (0.0, dep, "created dep-1"), (0.1, dep, "state Provisioning/Pending"),
        (60.1, dep, "timed out after 60 s waiting for Running (last: Provisioning/Pending)"),
        (60.4, dep, "torn down"),
    ], waits=[(dep, 0.1, 60.0)])
    spans = [(s.phase, s.start, s.end) for s in data.resources[0].spans]
    assert spans == [(REQUESTED, 0.0, 0.1), (PROVISIONING, 0.1, 60.1), ("failed", 60.1, 60.4),
                     (DELETED, 60.4, 60.4)]
    assert data.resources[0].notes[0].text.startswith("timed out after 60 s")
