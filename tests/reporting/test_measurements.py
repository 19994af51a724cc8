from __future__ import annotations

import csv
import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_robofixtures.reporting.measurements import (
    COLUMNS,
    Measurement,
    MeasurementLog,
    clear_measurements,
    merge_measurements,
    read_rows,
)


def test_in_and_out_of_limits_with_clear_messages() -> None:
    ok = Measurement("battery_v", 12.1, "V", low=11.5, high=13.0)
    assert ok.passed and ok.failure() is None
    low = Measurement("battery_v", 10.9, "V", low=11.5, high=13.0)
    assert not low.passed
    assert low.failure() == "battery_v = 10.9 V is below the low limit 11.5 V"
    high = Measurement("time_to_ready", 95.25, "s", high=60)
    assert high.failure() == "time_to_ready = 95.25 s is above the high limit 60 s"
    assert Measurement("ratio", 0.1 + 0.2, low=0.3).passed  # limits are inclusive...
    assert not Measurement("ratio", 0.29, low=0.3).passed
    assert Measurement("x", 1e9).passed  # no limits: always passes
    nan = Measurement("temp", math.nan, "C", low=0, high=50)
    assert not nan.passed and "not a number" in str(nan.failure())


def test_limits_as_text_and_junit_property() -> None:
    assert Measurement("v", 12.1, "V", 11.5, 13.0).describe() == "v = 12.1 V (11.5 .. 13 V) pass"
    assert Measurement("v", 10, "V", low=11.5).describe() == "v = 10 V (>= 11.5 V) FAIL"
    assert Measurement("n", 3, high=2).limits() == "<= 2"
    assert Measurement("n", 3).limits() == "no limits"
    assert Measurement("v", 12.1, "V", 11.5, 13.0).junit_property() == (
        "robo.measure.v", "12.1 V (11.5 .. 13 V) pass")
    mark = Measurement("v", 10, "V", low=11.5).marker(3.5)
    assert (mark.name, mark.at, mark.text, mark.passed) == ("v", 3.5, "10 V", False)


def test_numpy_values_are_plain_floats() -> None:
    import numpy as np

    m = Measurement("temp", np.float32(21.5), "C", low=np.int64(0), high=50)
    assert type(m.value) is float and m.value == 21.5 and type(m.low) is float
    assert m.passed and m.describe() == "temp = 21.5 C (0 .. 50 C) pass"


def test_bad_measurements_are_refused() -> None:
    with pytest.raises(ValueError, match="above the high limit"):
        Measurement("v", 1, low=5, high=2)
    with pytest.raises(TypeError, match="value must be a number"):
        Measurement("v", "12")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="high must be a number"):
        Measurement("v", 1, high="2")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name"):
        Measurement("", 1)


def test_log_writes_its_part_file_after_every_row(tmp_path: Path) -> None:
    log = MeasurementLog(tmp_path, "gw3")
    when = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
    log.add("t.py::a", Measurement("v", 12.0, "V", 11.5), when)
    assert [r.name for r in read_rows(log.part_path)] == ["v"]
    log.add("t.py::a", Measurement("nan", math.nan), when)
    rows = read_rows(log.part_path)
    assert len(rows) == 2 and math.isnan(rows[1].value)
    assert rows[0].time == "2026-12-01T12:00:00.000+00:00"
    assert list(tmp_path.iterdir()) == [log.part_path]  # no temp files left behind


WORKER = """
import sys
from pytest_robofixtures.reporting.measurements import Measurement, MeasurementLog
log = MeasurementLog(sys.argv[1], sys.argv[2])
for i in range(25):
    log.add(f"tests/test_{sys.argv[2]}.py::test_{i}", Measurement("battery_v", 11 + i / 10, "V",
            low=11.5, high=13.0))
"""


def test_rows_of_several_worker_processes_are_merged(tmp_path: Path) -> None:
    (tmp_path / "measurements.csv").write_text("stale from an earlier run\n")
    (tmp_path / "measurements.old.part.json").write_text("[]")
    clear_measurements(tmp_path)
    assert list(tmp_path.iterdir()) == []
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path), w])
             for w in ("gw0", "gw1", "gw2")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    merged = merge_measurements(tmp_path)
    assert merged is not None
    csv_path, json_path = merged
    assert sorted(p.name for p in tmp_path.iterdir()) == ["measurements.csv",
                                                          "measurements.json"]
    rows = json.loads(json_path.read_text())
    assert len(rows) == 75 and list(rows[0]) == list(COLUMNS)
    assert {r["nodeid"].split("::")[0] for r in rows} == {
        f"tests/test_gw{i}.py" for i in range(3)}
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    with csv_path.open(newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 75 and tuple(table[0]) == COLUMNS
    by_test = {(r["nodeid"], r["name"]): r for r in table}
    first = by_test[("tests/test_gw1.py::test_0", "battery_v")]
    assert (first["value"], first["unit"], first["low"], first["high"], first["passed"]) == (
        "11.0", "V", "11.5", "13.0", "false")
    assert by_test[("tests/test_gw1.py::test_10", "battery_v")]["passed"] == "true"
    assert sum(r["passed"] == "true" for r in table) == 3 * 16  # 11.5 .. 13.0 of 11.0 .. 13.4


def test_merge_without_measurements_writes_nothing(tmp_path: Path) -> None:
    assert merge_measurements(tmp_path) is None
    assert list(tmp_path.iterdir()) == []
