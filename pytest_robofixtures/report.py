"""What happened during a test, for its report: timeline, ROC log and status, ssh, frames.

Also the run-wide counters behind the terminal summary. Nothing here talks to a service.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Event:
    """One step in a resource's life: created, a new state, ready, torn down..."""

    at: float  # seconds since the test's fixtures started
    resource: str
    what: str


@dataclass
class TestRecord:
    """Everything the plugin saw during one test."""

    __test__ = False  # not a test class, despite the name

    nodeid: str
    timeline: list[Event] = field(default_factory=list)
    roc_logs: list[dict[str, Any]] = field(default_factory=list)
    roc_status: dict[str, Any] = field(default_factory=dict)
    ssh: list[dict[str, Any]] = field(default_factory=list)
    frames: list[Path] = field(default_factory=list)
    waited: float = 0.0
    #: (resource, start, seconds) of every wait, for the timeline picture
    waits: list[tuple[str, float, float]] = field(default_factory=list)
    #: (at, topic, payload) of every ROC status update seen, for status history plots
    roc_history: list[tuple[float, str, Any]] = field(default_factory=list)
    #: replay: recorded interactions the test never asked for
    unused: list[str] = field(default_factory=list)
    #: notes about the recording (e.g. where a failed attempt was written)
    notes: list[str] = field(default_factory=list)
    #: when each saved camera frame was taken (seconds on the test's axis)
    frame_times: list[float] = field(default_factory=list)
    #: (at, Measurement) of every ``robo.measure(...)``
    measurements: list[tuple[float, Any]] = field(default_factory=list)
    #: the timeline picture, once drawn
    picture: Path | None = None
    #: --robo-drift: differences between the live answers and the recording
    drift: list[str] = field(default_factory=list)
    drift_checked: bool = False
    recording: Path | None = None
    resources: list[str] = field(default_factory=list)
    #: called before a report is made, to pull in what is pending (e.g. ROC log records)
    flushers: list[Callable[[], object]] = field(default_factory=list)
    #: applied to every section's text: reports are scrubbed like recordings
    scrub: Callable[[str], str] = str

    def flush(self) -> None:
        """Pull in pending data from live sources before a report is written."""
        for flush in list(self.flushers):
            try:
                flush()
            except Exception:  # a report must never fail because a source went away
                pass

    def event(self, at: float, resource: str, what: str) -> None:
        self.timeline.append(Event(round(at, 3), resource, what))

    # -- report sections ---------------------------------------------------------------------
    def sections(self) -> list[tuple[str, str]]:
        """``(title, text)`` pairs for pytest's report sections; empty parts are left out."""
        out: list[tuple[str, str]] = []
        if self.timeline:
            width = max(len(e.resource) for e in self.timeline)
            lines = [f"{e.at:9.3f}s  {e.resource:<{width}}  {e.what}" for e in self.timeline]
            out.append(("robo: resource timeline", "\n".join(lines)))
        if self.roc_logs:
            lines = [
                f"{r.get('levelname', '?'):<8} {r.get('name', '')}: "
                f"{r.get('message', r.get('msg', ''))}"
                for r in self.roc_logs
            ]
            out.append(("robo: ROC log", "\n".join(lines)))
        if self.roc_status:
            out.append(("robo: ROC status", json.dumps(self.roc_status, indent=2, sort_keys=True)))
        if self.ssh:
            lines = []
            for r in self.ssh:
                lines.append(f"$ {r['command']}    [exit {r['exit_status']}]")
                for stream in ("stdout", "stderr"):
                    text = r.get(stream, "").rstrip("\n")
                    if text:
                        lines.extend(f"  {stream[3:]}| {line}" for line in text.splitlines()[-20:])
            out.append(("robo: ssh transcript", "\n".join(lines)))
        if self.frames:
            out.append(("robo: camera frames", "\n".join(str(p) for p in self.frames)))
        if self.measurements:
            out.append(("robo: measurements",
                        "\n".join(m.describe() for _, m in self.measurements)))
        if self.notes:
            out.append(("robo: recording notes", "\n".join(self.notes)))
        if self.drift_checked:
            out.append(("robo: drift", "\n".join(self.drift) or "no drift"))
        if self.recording is not None:
            out.append(("robo: recording", str(self.recording)))
        return [(title, self.scrub(text)) for title, text in out]

    def properties(self) -> list[tuple[str, object]]:
        """JUnit ``<property>`` pairs."""
        props: list[tuple[str, object]] = [("robo.resources", ", ".join(self.resources))]
        props.append(("robo.wait_seconds", round(self.waited, 3)))
        if self.recording is not None:
            props.append(("robo.recording", str(self.recording)))
        props.extend(("robo.frame", str(p)) for p in self.frames)
        props.extend(m.junit_property() for _, m in self.measurements)
        if self.drift_checked:
            props.append(("robo.drift", f"{len(self.drift)}" if self.drift else "none"))
        return props


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def artifact_dir(root: Path, nodeid: str) -> Path:
    """Where one test's artifacts go: ``<root>/<sanitized nodeid>/``."""
    name = _UNSAFE.sub("_", nodeid.replace("::", "__")).strip("_")[:150]
    return Path(root) / name


@dataclass
class RunStats:
    """Run-wide counters for the terminal summary."""

    provisioned: int = 0
    torn_down: int = 0
    leaked: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    waited: float = 0.0
    #: replay: recorded interactions each test never asked for
    unused: dict[str, list[str]] = field(default_factory=dict)
    #: notes about recordings (e.g. a failed attempt written beside a kept recording)
    notes: list[str] = field(default_factory=list)
    #: --robo-drift: the drifted tests and how
    drifted: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, other: dict[str, Any]) -> None:
        """Merge the counters a worker sent back."""
        with self._lock:
            self.provisioned += int(other.get("provisioned", 0))
            self.torn_down += int(other.get("torn_down", 0))
            self.leaked.extend(other.get("leaked", []))
            self.kept.extend(other.get("kept", []))
            self.waited += float(other.get("waited", 0.0))
            self.unused.update(other.get("unused", {}))
            self.notes.extend(other.get("notes", []))
            self.drifted.update(other.get("drifted", {}))

    def as_dict(self) -> dict[str, Any]:
        return {"provisioned": self.provisioned, "torn_down": self.torn_down,
                "leaked": list(self.leaked), "kept": list(self.kept), "waited": self.waited,
                "unused": dict(self.unused), "notes": list(self.notes),
                "drifted": dict(self.drifted)}
