"""Draw one test's timeline picture (resources by phase, waits, interactions, status history).

matplotlib is optional (the ``plots`` extra) and imported only when a picture is drawn: without
it :func:`render_timeline` raises :class:`PlotsUnavailable` and the report keeps its text
sections. Figures are made with the object API on the Agg canvas, never through ``pyplot``, so
no global figure state is created or leaked, and style settings are scoped to each call.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import Any

from ..recording.bundle import atomic_write
from .timeline import (
    DELETED,
    FAILED,
    PHASES,
    PROVISIONING,
    READY,
    REQUESTED,
    TEARING_DOWN,
    TimelineData,
)

PHASE_COLOURS: dict[str, str] = {
    REQUESTED: "#a0a0a0",
    PROVISIONING: "#f0a830",
    READY: "#2e9d4f",
    TEARING_DOWN: "#4a86c8",
    DELETED: "#dcdcdc",
    FAILED: "#d0342c",
}
_TICK_ROWS: tuple[tuple[str, str, str], ...] = (
    # kind, row label, colour
    ("ssh", "ssh commands", "#333333"),
    ("roc", "ROC calls", "#7b4fb3"),
    ("frame", "camera frames", "#1f77b4"),
)
_WIDTH = 10.0  # inches
MAX_SERIES = 8  # more status fields than this are listed, not plotted (the picture stays legible)
_LABEL_MAX = 28
_ROW_LABEL_MAX = 64


class PlotsUnavailable(ImportError):
    """matplotlib is not installed: pictures are skipped, the text sections remain."""


def plots_available() -> bool:
    """True when matplotlib can be imported (the ``plots`` extra is installed)."""
    return importlib.util.find_spec("matplotlib") is not None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 1] + "…"


def render_timeline(data: TimelineData, fmt: str = "svg", dpi: int = 100) -> bytes:
    """The picture of ``data`` as SVG or PNG bytes.

    Rows, top to bottom: one bar per resource coloured by phase (waits hatched over it with
    their duration), then ticks for ssh commands, ROC calls and camera frames (failed ones red,
    hollow when their time is approximate), measurements, and below, on the same time axis, one
    plot per numeric status series.
    """
    if fmt not in ("svg", "png"):
        raise ValueError(f"fmt must be 'svg' or 'png', not {fmt!r}")
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
    except ImportError as exc:
        raise PlotsUnavailable(
            "timeline pictures need matplotlib: pip install 'pytest-robofixtures[plots]'"
        ) from exc

    t0, t1 = data.span()
    tick_rows = [(k, label, colour) for k, label, colour in _TICK_ROWS
                 if any(t.kind == k for t in data.ticks)]
    rows: list[str] = [r.name for r in data.resources] + [label for _, label, _ in tick_rows]
    if data.markers:
        rows.append("measurements")
    series = data.series[:MAX_SERIES]
    hidden = [s.name for s in data.series[MAX_SERIES:]]
    top_height = 0.9 + 0.42 * max(len(rows), 1)
    heights = [top_height] + [1.25] * len(series)

    # svg.fonttype "none" keeps labels as text (searchable, small); hashsalt makes ids stable.
    style: Any = {"svg.fonttype": "none", "svg.hashsalt": "robofixtures", "font.size": 8}
    with matplotlib.rc_context(style):
        # Margins are computed from the label lengths rather than by a layout engine: the
        # constrained layout took half of the drawing time.
        gaps = 0.3 * (len(heights) - 1)
        top_in, bottom_in = (0.6 if data.title else 0.4), (0.65 if data.notes else 0.5)
        height = sum(heights) + gaps + top_in + bottom_in
        # Rough text widths (inches per character at 8 and 6.5 pt); series also have numbers.
        label_in = max([0.066 * min(len(r), _ROW_LABEL_MAX) for r in rows]
                       + [0.056 * len(s.name) + 0.45 for s in series] + [0.5])
        left = min(label_in + 0.25, 4.5) / _WIDTH
        fig = Figure(figsize=(_WIDTH, height), dpi=dpi)
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(heights), 1, sharex=True, squeeze=False, gridspec_kw={
            "height_ratios": heights, "hspace": 0.3 / (sum(heights) / len(heights)),
            "left": left, "right": 0.985, "top": 1 - top_in / height,
            "bottom": bottom_in / height})[:, 0]
        ax = axes[0]

        def side(at: float) -> int:
            """Labels near the right end go to the left of their point (never off the figure)."""
            return -1 if at > t0 + 0.7 * (t1 - t0) else 1

        def align(at: float) -> str:
            return "right" if side(at) < 0 else "left"

        ypos = {name: len(rows) - 1 - i for i, name in enumerate(rows)}

        for row, track in enumerate(data.resources):
            y = ypos[track.name]
            for n, span in enumerate(track.spans):
                thin = span.phase == DELETED
                ax.broken_barh([(span.start, max(span.end - span.start, (t1 - t0) * 0.004))],
                               (y - (0.15 if thin else 0.3), 0.3 if thin else 0.6),
                               facecolors=PHASE_COLOURS.get(span.phase, "#888888"),
                               edgecolors="white", linewidth=0.5,
                               gid=f"bar-{row}-{n}-{span.phase.replace(' ', '-')}")
            for note in track.notes:
                ax.plot([note.at], [y + 0.38], marker="v", color="#444444", markersize=4)
                ax.annotate(_short(note.text), (note.at, y + 0.38), xytext=(side(note.at) * 2, 1),
                            textcoords="offset points", fontsize=6.5, color="#444444",
                            ha=align(note.at))
        for n, wait in enumerate(data.waits):
            wy = ypos.get(wait.resource)
            if wy is None:
                continue
            ax.broken_barh([(wait.start, wait.duration)], (wy - 0.3, 0.6), facecolors="none",
                           edgecolors="#222222", hatch="///", linewidth=0.8, gid=f"wait-{n}")
            ax.annotate(f"waited {wait.duration:.1f} s", (wait.start + wait.duration / 2, wy - 0.3),
                        xytext=(0, -1), textcoords="offset points", ha="center", va="top",
                        fontsize=6.5)
        for kind, label, colour in tick_rows:
            y = ypos[label]
            ticks = [t for t in data.ticks if t.kind == kind]
            for n, t in enumerate(ticks):
                c = PHASE_COLOURS[FAILED] if t.failed else colour
                ax.vlines(t.at, y - 0.3, y + 0.3, colors=c, linewidth=1.4,
                          linestyles="dashed" if t.approximate else "solid",
                          gid=f"tick-{kind}-{n}")
                ax.plot([t.at], [y + 0.3], marker="o", markersize=3.5, color=c,
                        markerfacecolor="white" if t.approximate else c)
            if len(ticks) <= 12 and kind != "frame":
                for t in ticks:
                    ax.annotate(_short(t.label), (t.at, y + 0.3), xytext=(side(t.at) * 2, 2),
                                textcoords="offset points", fontsize=6, rotation=18 * side(t.at),
                                ha=align(t.at), rotation_mode="anchor",
                                color=PHASE_COLOURS[FAILED] if t.failed else "#333333")
        if data.markers:
            y = ypos["measurements"]
            for n, m in enumerate(data.markers):
                c = PHASE_COLOURS[READY] if m.passed else PHASE_COLOURS[FAILED]
                ax.plot([m.at], [y], marker="D", markersize=5, color=c, gid=f"marker-{n}")
                ax.annotate(_short(f"{m.name} {m.text}"), (m.at, y), xytext=(side(m.at) * 4, -3),
                            textcoords="offset points", fontsize=6.5, color=c, ha=align(m.at))

        names = [r if len(r) <= _ROW_LABEL_MAX else r[: _ROW_LABEL_MAX - 1] + "…" for r in rows]
        ax.set_yticks(range(len(rows)), list(reversed(names)))
        ax.set_ylim(-0.7, len(rows) - 0.2 if rows else 0.7)
        ax.grid(axis="x", color="#e6e6e6", linewidth=0.6)
        ax.set_axisbelow(True)
        if data.title:
            ax.set_title(data.title, loc="left", fontsize=9)
        handles: list[Any] = [Patch(facecolor=PHASE_COLOURS[p], label=p) for p in PHASES]
        handles.append(Patch(facecolor="none", edgecolor="#222222", hatch="///", label="waiting"))
        if any(t.approximate for t in data.ticks):
            handles.append(Line2D([], [], color="#333333", linestyle="dashed", marker="o",
                                  markerfacecolor="white", label="time approximate"))
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0 if not data.title
                  else 1.06), ncol=len(handles), fontsize=6.5, frameon=False,
                  handlelength=1.2, columnspacing=0.9)

        for n, (sax, s) in enumerate(zip(axes[1:], series)):
            # The last value holds until the end of the test (a status stays what it last was).
            tail = [t1] if s.times and s.times[-1] < t1 else []
            sax.step(list(s.times) + tail, list(s.values) + [s.values[-1]] * len(tail),
                     where="post", color="#1f5f9f", linewidth=1.2, gid=f"series-{n}")
            sax.plot(s.times, s.values, "o", markersize=2.5, color="#1f5f9f")
            sax.set_ylabel(f"{s.name}" + (f"\n[{s.unit}]" if s.unit else ""), fontsize=6.5,
                           rotation=0, ha="right", va="center")
            sax.grid(color="#e6e6e6", linewidth=0.6)
            sax.margins(y=0.25)
        if data.notes:
            shown = "; ".join(f"{n.text} (at {n.at:.3g} s)" for n in data.notes[:4])
            more = f"; +{len(data.notes) - 4} more" if len(data.notes) > 4 else ""
            fig.text(0.01, 0.08 / height, shown + more, fontsize=6.5, color="#555555",
                     ha="left", va="bottom")
        axes[-1].set_xlim(t0 - (t1 - t0) * 0.01, t1 + (t1 - t0) * 0.02)
        axes[-1].set_xlabel("seconds since the test's fixtures started"
                            + (f"   (+{len(hidden)} status fields not plotted)" if hidden else ""))
        out = io.BytesIO()
        # No dates or version strings in the file: the same data gives the same bytes.
        metadata: dict[str, Any] = ({"Date": None, "Creator": None} if fmt == "svg"
                                    else {"Software": None})
        fig.savefig(out, format=fmt, metadata=metadata)
        fig.clear()
    return out.getvalue()


def save_timeline(data: TimelineData, folder: str | Path, fmt: str = "svg",
                  name: str = "timeline") -> Path | None:
    """Render ``data`` into ``folder/<name>.<fmt>`` (atomically); None without matplotlib."""
    try:
        picture = render_timeline(data, fmt)
    except PlotsUnavailable:
        return None
    path = Path(folder) / f"{name}.{fmt}"
    atomic_write(path, picture)
    return path
