"""What one test's timeline picture shows, as plain data, and how to derive it from its events.

The data classes here are what :func:`pytest_robofixtures.reporting.picture.render_timeline`
draws. They hold only floats and strings (seconds on the test's time axis, 0 = its fixtures
started), so the plugin can fill them from a live run, a replayed one or a recording alike.
:func:`timeline_from_events` builds them from the plugin's event list (``(at, resource, what)``),
its waits, its ssh transcript, ROC calls, ROC status updates and camera frames.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..roc.protocol import STATUS_PREFIX, TOPIC_END

REQUESTED = "requested"
PROVISIONING = "provisioning"
READY = "ready"
TEARING_DOWN = "tearing down"
DELETED = "deleted"
FAILED = "failed"
#: Every phase a resource bar can show, in life order.
PHASES: tuple[str, ...] = (REQUESTED, PROVISIONING, READY, TEARING_DOWN, DELETED, FAILED)


@dataclass
class PhaseSpan:
    """One stretch of a resource's life in one phase: ``[start, end)`` seconds."""

    phase: str  # one of PHASES
    start: float
    end: float
    detail: str = ""  # what the service said, e.g. "Provisioning/Pending"


@dataclass
class Annotation:
    """A labelled instant on a resource's row (e.g. "add-on cam active", "kept")."""

    at: float
    text: str


@dataclass
class ResourceTrack:
    """One row of the picture: a resource's phases over time."""

    name: str
    spans: list[PhaseSpan] = field(default_factory=list)
    notes: list[Annotation] = field(default_factory=list)


@dataclass
class Wait:
    """Time the test spent waiting on a resource (readiness, an add-on...)."""

    resource: str
    start: float
    duration: float


@dataclass
class Tick:
    """An instantaneous interaction: an ssh command, a ROC call, a camera frame.

    ``approximate`` is set when the time was not known and the tick was spread out in order.
    """

    at: float
    kind: str  # "ssh", "roc" or "frame"
    label: str
    failed: bool = False
    approximate: bool = False


@dataclass
class Series:
    """A numeric status field over time, e.g. ``instruments.vnir.temperature``."""

    name: str
    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    unit: str = ""


@dataclass
class Marker:
    """A measurement (or any named value) to show on the picture at a time."""

    name: str
    at: float
    text: str
    passed: bool = True


@dataclass
class TimelineData:
    """Everything one test's picture shows. ``end`` defaults to the latest time in the data."""

    title: str = ""
    resources: list[ResourceTrack] = field(default_factory=list)
    waits: list[Wait] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    #: notes not about one resource's life (e.g. "replay clock: skipped 0.4s of waiting")
    notes: list[Annotation] = field(default_factory=list)
    start: float = 0.0
    end: float | None = None

    def span(self) -> tuple[float, float]:
        """``(start, end)`` of the time axis (never empty: at least one second long)."""
        times = [self.start]
        for r in self.resources:
            times += [t for s in r.spans for t in (s.start, s.end)]
            times += [n.at for n in r.notes]
        times += [n.at for n in self.notes]
        times += [w.start + w.duration for w in self.waits]
        times += [t.at for t in self.ticks] + [m.at for m in self.markers]
        times += [t for s in self.series for t in s.times]
        end = self.end if self.end is not None else max(times)
        return self.start, end if end - self.start > 1e-6 else self.start + 1.0


# -- deriving from the plugin's event list -----------------------------------------------------

# Service words -> phase, first match wins (checked in this order: "terminating" before
# "terminated", failures before everything). rapyuta.io: phase/status such as
# "Provisioning/Pending", "Succeeded/Running", "Failed to start/Error"; rerobots: INIT, READY,
# TERMINATING, TERMINATED, INIT_FAIL; camera add-on: starting, active.
_STATE_WORDS: tuple[tuple[str, str], ...] = (
    (r"fail|error", FAILED),
    (r"terminating|stopping|deleting|partially|deprovision", TEARING_DOWN),
    (r"terminated|stopped|deleted|released", DELETED),
    (r"running|succeeded|ready|active|online|bound|available", READY),
    (r"init|pending|progress|provision|starting|unknown", PROVISIONING),
)

# Plain event texts the plugin writes (factory.py) -> phase.
_EVENT_PHASES: dict[str, str] = {
    "ready": READY,
    "running": READY,
    "connected": READY,
    "torn down": DELETED,
    "deleted": DELETED,
}


def phase_of_state(state: str) -> str | None:
    """The phase a service state text means, or None when it says nothing known."""
    low = state.lower()
    if re.search(_STATE_WORDS[0][0], low):
        return FAILED  # a failure anywhere in the text wins
    # rapyuta.io's "phase/status": the status says more ("Succeeded/Pending" is not running
    # yet), so it is read first, then the whole text.
    for text in (low.rsplit("/", 1)[-1], low):
        for pattern, phase in _STATE_WORDS[1:]:
            if re.search(pattern, text):
                return phase
    return None


def _event_phase(what: str) -> tuple[str | None, str | None]:
    """``(phase, note)`` for one event text: a phase change, a note on the row, or both."""
    if what.startswith("created"):
        return REQUESTED, None
    if what.startswith("state "):
        return phase_of_state(what[6:]), None
    if what in _EVENT_PHASES:
        return _EVENT_PHASES[what], None
    if what.upper() == "READY":
        return READY, None
    if what.startswith(("selected", "shared")):
        return READY, what
    if what.startswith("kept"):
        return None, "kept"
    if re.search(r"fail|error|timed out|timeout|leaked", what.lower()):
        return FAILED, what  # e.g. "teardown failed (...)", "timed out after 60 s"
    return None, what  # e.g. "add-on cam active": shown as a note


def tracks_from_events(events: Iterable[tuple[float, str, str]], end: float) -> list[ResourceTrack]:
    """Resource rows from ``(at, resource, what)`` events (in any order), bars up to ``end``."""
    rows: dict[str, list[tuple[float, str, str]]] = {}
    notes: dict[str, list[Annotation]] = {}
    for at, resource, what in sorted(events, key=lambda e: e[0]):
        phase, note = _event_phase(what)
        rows.setdefault(resource, [])
        notes.setdefault(resource, [])
        if phase is not None:
            rows[resource].append((float(at), phase, what[6:] if what.startswith("state ") else ""))
        if note is not None:
            notes[resource].append(Annotation(float(at), note))
    tracks = []
    for name, changes in rows.items():
        spans: list[PhaseSpan] = []
        for at, phase, detail in changes:
            if spans and spans[-1].phase == phase:
                continue  # same phase again (e.g. a second "state INIT"): the bar goes on
            if spans:
                spans[-1].end = at
            spans.append(PhaseSpan(phase, at, end, detail))
        # Zero-length phases are kept (drawn as a sliver): in replay, where waiting takes no
        # time, "ready" and "torn down" often share an instant, and the bar must still show
        # that the resource was ready.
        tracks.append(ResourceTrack(name, spans, notes[name]))
    return tracks


def _ready_window(tracks: Sequence[ResourceTrack], end: float) -> tuple[float, float]:
    """Where the test body most likely ran: last "ready" start to the first teardown."""
    ready = [s.start for t in tracks for s in t.spans if s.phase == READY]
    down = [s.start for t in tracks for s in t.spans if s.phase in (TEARING_DOWN, DELETED)]
    lo = max(ready) if ready else 0.0
    later = [d for d in down if d > lo]
    hi = min(later) if later else end
    return lo, hi if hi > lo else end


def _spread(n: int, lo: float, hi: float) -> list[float]:
    """``n`` evenly spaced instants strictly inside ``(lo, hi)``."""
    step = (hi - lo) / (n + 1)
    return [lo + step * (i + 1) for i in range(n)]


def numeric_leaves(payload: Any, prefix: str = "") -> list[tuple[str, float]]:
    """``(dotted.path, value)`` of every numeric leaf (bools as 0/1; NaN and text skipped)."""
    out: list[tuple[str, float]] = []
    if isinstance(payload, Mapping):
        for key, value in payload.items():
            out += numeric_leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(payload, bool):
        out.append((prefix, 1.0 if payload else 0.0))
    elif isinstance(payload, (int, float)) and math.isfinite(payload):
        out.append((prefix, float(payload)))
    return out


def status_series(updates: Iterable[tuple[float, str, Any]]) -> list[Series]:
    """Series from ROC status updates ``(at, topic, payload)``, named by dotted path.

    A topic ``status.instruments.vnir`` with ``{"temperature": 21.5}`` gives the series
    ``instruments.vnir.temperature``. Log topics and non-status topics are ignored. Series
    whose value never changes are kept (a flat line is information too).
    """
    by_name: dict[str, Series] = {}
    for at, topic, payload in sorted(updates, key=lambda u: u[0]):
        if not topic.startswith(STATUS_PREFIX):
            continue
        key = topic[len(STATUS_PREFIX):].rstrip(TOPIC_END)
        for name, value in numeric_leaves(payload, key):
            s = by_name.setdefault(name, Series(name))
            s.times.append(float(at))
            s.values.append(value)
    return list(by_name.values())


def timeline_from_events(
    events: Iterable[tuple[float, str, str]],
    *,
    title: str = "",
    waits: Iterable[tuple[str, float, float]] = (),
    ssh: Iterable[Mapping[str, Any]] = (),
    roc_calls: Iterable[Mapping[str, Any]] = (),
    status_updates: Iterable[tuple[float, str, Any]] = (),
    frames: Iterable[float | None] = (),
    metrics: Iterable[Series] = (),
    markers: Iterable[Marker] = (),
    end: float | None = None,
) -> TimelineData:
    """Build a :class:`TimelineData` from what the plugin records about a test today.

    ``events`` are ``(at, resource, what)``; ``waits`` are ``(resource, start, duration)``;
    ``ssh`` entries are ``{"command", "exit_status", "at"?}``; ``roc_calls`` are ``{"object",
    "method", "at"?, "error"?}``; ``frames`` are the times frames were taken (None: unknown);
    ``metrics`` are extra series (e.g. device metrics). Interactions without a time are spread
    evenly, in order, over the window where the test body ran (after the last resource became
    ready, before teardown) and drawn as approximate.
    """
    events = list(events)
    waits_ = [Wait(r, float(s), float(d)) for r, s, d in waits]
    ssh_ = list(ssh)
    calls = list(roc_calls)
    frames_ = list(frames)
    updates = list(status_updates)
    markers_ = list(markers)
    known = [float(e[0]) for e in events] + [w.start + w.duration for w in waits_]
    known += [float(u[0]) for u in updates] + [m.at for m in markers_]
    known += [float(x["at"]) for x in (*ssh_, *calls) if x.get("at") is not None]
    known += [float(f) for f in frames_ if f is not None]
    axis_end = end if end is not None else (max(known) if known else 1.0)
    if axis_end <= 1e-6:
        axis_end = 1.0  # everything at 0 (e.g. a replay with no waiting): bars still show
    rows = tracks_from_events(events, axis_end)
    # A "resource" that never had a phase (e.g. "replay clock") is not a bar: its events are
    # general notes.
    tracks = [t for t in rows if t.spans]
    notes = [Annotation(n.at, f"{t.name}: {n.text}") for t in rows if not t.spans for n in t.notes]
    lo, hi = _ready_window(tracks, axis_end)

    ticks: list[Tick] = []

    def place(kind: str, items: list[tuple[float | None, str, bool]]) -> None:
        missing = [i for i, (at, _, _) in enumerate(items) if at is None]
        guessed = dict(zip(missing, _spread(len(missing), lo, hi)))
        for i, (at, label, failed) in enumerate(items):
            ticks.append(Tick(float(at) if at is not None else guessed[i], kind, label, failed,
                              approximate=at is None))

    place("ssh", [(x.get("at"), str(x.get("command", "")),
                   int(x.get("exit_status") or 0) != 0) for x in ssh_])
    place("roc", [(c.get("at"), f"{c.get('object', '')}.{c.get('method', '')}",
                   "error" in c or "raised" in c) for c in calls])
    place("frame", [(f, f"frame {i + 1}", False) for i, f in enumerate(frames_)])
    return TimelineData(
        title=title, resources=tracks, waits=waits_, ticks=ticks,
        series=status_series(updates) + list(metrics), markers=markers_, notes=notes, end=end,
    )
