"""The recorded timeline of a recording: when each interaction happened, known or estimated.

Shared by the MCAP export and by the timeline picture (which, in replay, can place ssh commands,
ROC calls, status updates and camera frames at their recorded times with
:func:`recorded_interactions`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..recording.bundle import Bundle

#: A rerobots camera image request: ``/addon/cam/<instance>/<camera>/img``.
CAMERA_URI = re.compile(r"/addon/cam/(?P<instance>[^/?]+)/(?P<camera>[^/?]+)/img")


def number(v: Any) -> float | None:
    """``v`` as a finite float, or None (bools, text and NaN are not times)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def _listed(v: Any) -> list[float | None] | None:
    """A list of offsets from a clock entry: a list, or one whitespace-separated line."""
    if isinstance(v, str):
        v = v.split()
    if not isinstance(v, list):
        return None
    out: list[float | None] = []
    for x in v:
        try:
            out.append(number(float(x)))
        except (TypeError, ValueError):
            out.append(None)
    return out


def fill_times(known: list[float | None], start: float, end: float) -> list[float]:
    """Every ``None`` spread evenly, in order, between the known times around it.

    Known times that go backwards are dropped first (order is the recording's truth).
    """
    cleaned: list[float | None] = []
    last = start
    for t in known:
        if t is not None and t >= last:
            cleaned.append(t)
            last = t
        else:
            cleaned.append(None)
    out: list[float] = []
    i, n = 0, len(cleaned)
    while i < n:
        t = cleaned[i]
        if t is not None:
            out.append(t)
            i += 1
            continue
        j = i
        while j < n and cleaned[j] is None:
            j += 1
        lo = out[-1] if out else start
        nxt = cleaned[j] if j < n else None
        hi = nxt if nxt is not None else max(end, lo)
        step = (hi - lo) / (j - i + 1)
        out.extend(lo + step * (k + 1) for k in range(j - i))
        i = j
    return out


def interaction_offsets(bundle: Bundle) -> tuple[dict[str, list[float | None]], float]:
    """Known times (seconds after ``clock.epoch``) per section, and the recording's duration.

    A time is taken, in this order, from the entry's own ``at`` key, or from ``clock.times``
    (alias ``clock.timing``): a mapping of section to a list (or one whitespace-separated line)
    of offsets, with sections ``http``, ``ssh`` and ``roc`` (ROC calls and feed items together,
    in ``seq`` order). ROC log records also carry their wall time (``created``), used when it
    falls inside the recording. Unknown times are None.
    """
    clock = bundle.clock or {}
    epoch = number(clock.get("epoch")) or 0.0
    # Format 2 loads its per-interaction times as clock.at (seconds after the epoch).
    times = clock.get("times", clock.get("timing", clock.get("at")))
    listed = times if isinstance(times, Mapping) else {}
    sections: dict[str, list[dict[str, Any]]] = {
        "http": bundle.http, "ssh": bundle.ssh,
        "roc": [item for _, item in roc_items(bundle)]}
    duration = number(clock.get("duration"))
    out: dict[str, list[float | None]] = {}
    for name, entries in sections.items():
        from_clock = _listed(listed.get(name)) or []
        offsets: list[float | None] = []
        for i, entry in enumerate(entries):
            t = number(entry.get("at"))
            if t is None and i < len(from_clock):
                t = from_clock[i]
            if t is None and name == "roc":
                created = number((entry.get("payload") or {}).get("created")
                                  if isinstance(entry.get("payload"), dict) else None)
                if created is not None and epoch and 0.0 <= created - epoch <= (
                        duration if duration is not None else math.inf):
                    t = created - epoch
            offsets.append(t)
        out[name] = offsets
    if duration is None:
        known = [t for ts in out.values() for t in ts if t is not None]
        count = max((len(ts) for ts in out.values()), default=0)
        duration = max(known + [0.1 * count, 1.0])
    return out, duration


def roc_items(bundle: Bundle) -> list[tuple[str | None, dict[str, Any]]]:
    """ROC calls (feed None) and feed items (feed name) in their shared ``seq`` order."""
    items: list[tuple[float, int, str | None, dict[str, Any]]] = []
    for i, call in enumerate(bundle.roc_calls):
        items.append((number(call.get("seq")) or math.inf, i, None, call))
    offset = len(items)
    for feed in bundle.roc_feeds:
        for item in feed.get("items") or []:
            items.append((number(item.get("seq")) or math.inf, offset, str(feed.get("name")),
                          item))
            offset += 1
    items.sort(key=lambda x: (x[0], x[1]))
    return [(name, item) for _, _, name, item in items]


@dataclass
class RecordedInteractions:
    """A recording's interactions on the test's time axis, as ``timeline_from_events`` takes them.

    ``timeline_from_events(events, **vars(recorded_interactions(bundle)))`` draws them at their
    recorded (or, for old recordings, estimated) times.
    """

    ssh: list[dict[str, Any]] = field(default_factory=list)
    roc_calls: list[dict[str, Any]] = field(default_factory=list)
    status_updates: list[tuple[float, str, Any]] = field(default_factory=list)
    frames: list[float | None] = field(default_factory=list)


def recorded_interactions(bundle: Bundle, offset: float = 0.0) -> RecordedInteractions:
    """The ssh commands, ROC calls, ROC status updates and camera frames of a recording.

    Times are seconds after the recording's epoch plus ``offset`` (the test axis may start a
    little before the recorder did).
    """
    known, duration = interaction_offsets(bundle)
    at = {name: [t + offset for t in fill_times(ts, 0.0, duration)]
          for name, ts in known.items()}
    out = RecordedInteractions()
    for entry, t in zip(bundle.ssh, at["ssh"]):
        if "exec" in entry:
            command, status = str(entry["exec"]), entry.get("exit_status")
        else:
            op = "put" if "put" in entry else "get"
            command, status = f"{op} {entry.get(op)}", 0
        failed = "raised" in entry or status not in (0, None)
        out.ssh.append({"command": command, "exit_status": 1 if failed else 0, "at": t})
    for (feed, item), t in zip(roc_items(bundle), at["roc"]):
        if feed is None:
            call = {"object": item.get("object"), "method": item.get("method"), "at": t}
            if "error" in item or "raised" in item:
                call["error"] = item.get("error") or item.get("raised")
            out.roc_calls.append(call)
        else:
            out.status_updates.append((t, str(item.get("topic", "")), item.get("payload")))
    for entry, t in zip(bundle.http, at["http"]):
        if CAMERA_URI.search(str(entry["request"].get("uri", ""))) and int(
                entry["response"]["status"]["code"]) < 400:
            out.frames.append(t)
    return out
