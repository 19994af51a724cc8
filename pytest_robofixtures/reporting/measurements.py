"""Measurements with limits, and the run-wide CSV/JSON of all of them.

A :class:`Measurement` is a named value with an optional unit and optional low/high limits;
:attr:`Measurement.passed` says whether it is within them and :meth:`Measurement.failure` says
clearly why not. A :class:`MeasurementLog` keeps one test run's rows: each process (the main
one, or each pytest-xdist worker) writes its own part file atomically after every row, so a
crashed worker loses nothing, and the controller merges the parts into ``measurements.csv`` and
``measurements.json`` with :func:`merge_measurements`.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import numbers
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..recording.bundle import atomic_write
from .timeline import Marker

CSV_NAME = "measurements.csv"
JSON_NAME = "measurements.json"
_PART_GLOB = "measurements.*.part.json"
#: Columns of the CSV and keys of each JSON row, in order.
COLUMNS: tuple[str, ...] = ("nodeid", "name", "value", "unit", "low", "high", "passed", "time")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _num(value: float) -> str:
    """A number as people write it: ``11.5``, ``0.3``, ``1e-06``."""
    return format(value, ".6g")


@dataclass(frozen=True)
class Measurement:
    """A named value and its limits (either limit may be None: unbounded on that side)."""

    name: str
    value: float
    unit: str = ""
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a measurement needs a name")
        for what in ("value", "low", "high"):
            v = getattr(self, what)
            if v is None and what != "value":
                continue
            # numbers.Real takes numpy scalars too (a sensor reading often is one).
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"measurement {self.name!r}: {what} must be a number, "
                                f"not {type(v).__name__}")
            object.__setattr__(self, what, float(v))
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"measurement {self.name!r}: low limit {_num(self.low)} is above "
                             f"the high limit {_num(self.high)}")

    def _with_unit(self, value: float) -> str:
        return f"{_num(value)} {self.unit}" if self.unit else _num(value)

    @property
    def passed(self) -> bool:
        """Within its limits (NaN never is)."""
        return self.failure() is None

    def failure(self) -> str | None:
        """Why the value is outside its limits; None when it passed.

        E.g. ``battery_v = 10.9 V is below the low limit 11.5 V``.
        """
        value = float(self.value)
        if math.isnan(value):
            return f"{self.name} is not a number (NaN)"
        if self.low is not None and value < self.low:
            return (f"{self.name} = {self._with_unit(value)} is below the low limit "
                    f"{self._with_unit(self.low)}")
        if self.high is not None and value > self.high:
            return (f"{self.name} = {self._with_unit(value)} is above the high limit "
                    f"{self._with_unit(self.high)}")
        return None

    def limits(self) -> str:
        """The limits as text: ``11.5 .. 13 V``, ``>= 11.5 V``, ``<= 13 V`` or ``no limits``."""
        unit = f" {self.unit}" if self.unit else ""
        if self.low is not None and self.high is not None:
            return f"{_num(self.low)} .. {_num(self.high)}{unit}"
        if self.low is not None:
            return f">= {_num(self.low)}{unit}"
        if self.high is not None:
            return f"<= {_num(self.high)}{unit}"
        return "no limits"

    def describe(self) -> str:
        """One line for a report: ``battery_v = 12.1 V (11.5 .. 13 V) pass``."""
        verdict = "pass" if self.passed else "FAIL"
        return f"{self.name} = {self._with_unit(float(self.value))} ({self.limits()}) {verdict}"

    def junit_property(self) -> tuple[str, str]:
        """A JUnit ``<property>`` pair: ``("robo.measure.battery_v", "12.1 V (...) pass")``."""
        return f"robo.measure.{self.name}", self.describe().split(" = ", 1)[1]

    def marker(self, at: float) -> Marker:
        """The measurement as a mark on the test's timeline picture, at ``at`` seconds."""
        return Marker(self.name, at, self._with_unit(float(self.value)), self.passed)


@dataclass(frozen=True)
class MeasurementRow:
    """One row of the run-wide table: which test measured what, when, and the verdict."""

    nodeid: str
    name: str
    value: float
    unit: str
    low: float | None
    high: float | None
    passed: bool
    time: str  # ISO 8601, UTC

    @classmethod
    def of(cls, nodeid: str, m: Measurement, when: _dt.datetime | None = None) -> MeasurementRow:
        """The row for ``m`` measured in test ``nodeid`` at ``when`` (default: now)."""
        when = when or _dt.datetime.now(_dt.timezone.utc)
        return cls(nodeid, m.name, float(m.value), m.unit, m.low, m.high, m.passed,
                   when.astimezone(_dt.timezone.utc).isoformat(timespec="milliseconds"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MeasurementRow:
        """A row read back from JSON."""
        def opt(v: Any) -> float | None:
            return None if v is None else float(v)

        value = math.nan if d["value"] is None else float(d["value"])
        return cls(str(d["nodeid"]), str(d["name"]), value, str(d.get("unit") or ""),
                   opt(d.get("low")), opt(d.get("high")), bool(d["passed"]), str(d["time"]))


def _json_bytes(rows: list[MeasurementRow]) -> bytes:
    # NaN is written as null: JSON has no NaN, and a tracking tool should see "no value".
    doc = [{k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(r).items()} for r in rows]
    return (json.dumps(doc, indent=1) + "\n").encode("utf-8")


def _csv_bytes(rows: list[MeasurementRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r.nodeid, r.name, repr(r.value), r.unit,
                         "" if r.low is None else repr(r.low),
                         "" if r.high is None else repr(r.high),
                         "true" if r.passed else "false", r.time])
    return out.getvalue().encode("utf-8")


class MeasurementLog:
    """The measurements one process took during a run, kept in its own part file.

    ``worker`` names the process (``"main"``, or the xdist worker id such as ``"gw0"``); each
    :meth:`add` rewrites ``measurements.<worker>.part.json`` in ``directory`` atomically.
    """

    def __init__(self, directory: str | Path, worker: str = "main") -> None:
        self.directory = Path(directory)
        self.worker = _UNSAFE.sub("_", worker) or "main"
        self.rows: list[MeasurementRow] = []
        self._lock = threading.Lock()

    @property
    def part_path(self) -> Path:
        """The part file of this process."""
        return self.directory / f"measurements.{self.worker}.part.json"

    def add(self, nodeid: str, m: Measurement, when: _dt.datetime | None = None) -> MeasurementRow:
        """Record ``m`` for test ``nodeid`` and write the part file; returns the row."""
        row = MeasurementRow.of(nodeid, m, when)
        with self._lock:
            self.rows.append(row)
            atomic_write(self.part_path, _json_bytes(self.rows))
        return row


def clear_measurements(directory: str | Path) -> None:
    """Remove an earlier run's part files and merged files (on the controller, at run start)."""
    directory = Path(directory)
    for old in [*directory.glob(_PART_GLOB), directory / CSV_NAME, directory / JSON_NAME]:
        old.unlink(missing_ok=True)


def read_rows(path: str | Path) -> list[MeasurementRow]:
    """Rows of a part file or of a merged ``measurements.json``."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return [MeasurementRow.from_dict(d) for d in doc]


def merge_measurements(directory: str | Path) -> tuple[Path, Path] | None:
    """Merge every part file in ``directory`` into ``measurements.csv`` and ``.json``.

    Rows are ordered by time, then test and name. Both files are written atomically and the
    parts are removed. Returns the two paths, or None when no measurement was taken (then no
    file is written).
    """
    directory = Path(directory)
    parts = sorted(directory.glob(_PART_GLOB))
    if not parts:
        return None
    rows = [row for part in parts for row in read_rows(part)]
    rows.sort(key=lambda r: (r.time, r.nodeid, r.name))
    csv_path, json_path = directory / CSV_NAME, directory / JSON_NAME
    atomic_write(json_path, _json_bytes(rows))
    atomic_write(csv_path, _csv_bytes(rows))
    for part in parts:
        part.unlink(missing_ok=True)
    return csv_path, json_path
