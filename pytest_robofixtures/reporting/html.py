"""HTML snippets for pytest-html: the run summary, pictures, measurements, open sections.

Every function returns a self-contained, well-formed HTML fragment (inline styles only, since
pytest-html's stylesheet knows nothing of ours) with all text escaped. Attach them with
``pytest_html.extras.html(...)`` or put the summary into ``pytest_html_results_summary``'s
``prefix`` list. Pictures are embedded as ``data:`` URIs so each one is its own document: the
element ids inside two inline SVGs could otherwise clash on one page.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from .measurements import Measurement
from .picture import PlotsUnavailable, render_timeline
from .timeline import TimelineData

_BOX = ("border:1px solid #c8c8c8;border-radius:4px;padding:6px 10px;margin:6px 0;"
        "font-family:sans-serif;font-size:13px")
_OK = "#2e7d32"
_BAD = "#c62828"
_WARN = "#b26a00"
_MIME = {"svg": "image/svg+xml", "png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg"}


@dataclass
class InfraErrorEntry:
    """One test that ended in an infrastructure error (not the test's own failure)."""

    nodeid: str
    message: str


@dataclass
class RunSummary:
    """What the run summary block shows."""

    mode: str  # "replay", "sim", "live" or "record"
    provisioned: int = 0
    torn_down: int = 0
    leaked: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    waited: float = 0.0  # seconds, summed over tests
    infra_errors: list[InfraErrorEntry] = field(default_factory=list)

    @classmethod
    def from_stats(cls, mode: str, stats: Mapping[str, Any],
                   infra_errors: Iterable[tuple[str, str]] = ()) -> RunSummary:
        """From ``RunStats.as_dict()`` and ``(nodeid, message)`` pairs of infra errors."""
        return cls(mode, int(stats.get("provisioned", 0)), int(stats.get("torn_down", 0)),
                   [str(x) for x in stats.get("leaked", [])],
                   [str(x) for x in stats.get("kept", [])], float(stats.get("waited", 0.0)),
                   [InfraErrorEntry(n, m) for n, m in infra_errors])


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _items(values: Sequence[str], colour: str) -> str:
    lis = "".join(f"<li>{escape(v)}</li>" for v in values)
    return f'<ul style="margin:2px 0 2px 18px;padding:0;color:{colour}">{lis}</ul>'


def run_summary_html(summary: RunSummary) -> str:
    """The run summary block: mode, resources provisioned/torn down/leaked, waiting, infra."""
    mode = escape(summary.mode)
    leaked = len(summary.leaked)
    parts = [
        f'<div class="robo-summary" style="{_BOX}">',
        f'<p style="margin:2px 0"><b>robofixtures</b> &#8212; mode <b>{mode}</b></p>',
        '<p style="margin:2px 0">',
        f"provisioned <b>{summary.provisioned}</b>, torn down <b>{summary.torn_down}</b>, ",
        f'leaked <b style="color:{_BAD if leaked else _OK}">{leaked}</b>',
        f", kept <b>{len(summary.kept)}</b>" if summary.kept else "",
        f", waited <b>{escape(_duration(summary.waited))}</b> for resources</p>",
    ]
    if summary.leaked:
        parts.append(f'<p style="margin:2px 0;color:{_BAD}">Leaked (still running, '
                     "clean up with <code>robofixtures reap</code>):</p>")
        parts.append(_items(summary.leaked, _BAD))
    if summary.kept:
        parts.append('<p style="margin:2px 0">Kept (--robo-keep):</p>')
        parts.append(_items(summary.kept, "#333333"))
    n = len(summary.infra_errors)
    if n:
        parts.append(f'<p style="margin:2px 0;color:{_WARN}"><b>{n} infra error'
                     f'{"s" if n != 1 else ""} (not your code)</b>:</p>')
        parts.append(_items([f"{e.nodeid}: {e.message}" for e in summary.infra_errors], _WARN))
    else:
        parts.append(f'<p style="margin:2px 0;color:{_OK}">no infra errors</p>')
    parts.append("</div>")
    return "".join(parts)


def figure_html(data: bytes, fmt: str = "svg", alt: str = "", caption: str = "",
                max_width: str = "100%") -> str:
    """A picture (SVG, PNG or JPEG bytes) embedded inline as a ``data:`` URI, with a caption."""
    mime = _MIME.get(fmt.lower())
    if mime is None:
        raise ValueError(f"unsupported picture format {fmt!r} (svg, png or jpeg)")
    src = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    cap = (f'<figcaption style="font-size:12px;color:#555">{escape(caption)}</figcaption>'
           if caption else "")
    return (f'<figure class="robo-figure" style="margin:6px 0">'
            f'<img src="{src}" alt="{escape(alt, quote=True)}" '
            f'style="max-width:{escape(max_width, quote=True)};height:auto"/>{cap}</figure>')


def measurements_html(measurements: Iterable[Measurement]) -> str:
    """A table of measurements with their limits, failures in red; empty string for none."""
    rows = []
    for m in measurements:
        colour = _OK if m.passed else _BAD
        value = f"{float(m.value):.6g}"
        rows.append(
            "<tr>"
            f'<td style="padding:1px 8px">{escape(m.name)}</td>'
            f'<td style="padding:1px 8px;text-align:right">{escape(value)}</td>'
            f'<td style="padding:1px 8px">{escape(m.unit)}</td>'
            f'<td style="padding:1px 8px">{escape(m.limits())}</td>'
            f'<td style="padding:1px 8px;color:{colour};font-weight:bold">'
            f'{"pass" if m.passed else "FAIL"}</td></tr>'
        )
    if not rows:
        return ""
    head = "".join(f'<th style="padding:1px 8px;text-align:left">{h}</th>'
                   for h in ("measurement", "value", "unit", "limits", "verdict"))
    return (f'<table class="robo-measurements" style="border-collapse:collapse;{_BOX}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def section_html(title: str, text: str, open_: bool = True) -> str:
    """A report text section as a ``<details>`` block, open by default (seen without clicks)."""
    opened = ' open="open"' if open_ else ""  # the XHTML spelling: parses as XML too
    return (f'<details class="robo-section"{opened} style="margin:4px 0">'
            f'<summary style="cursor:pointer;font-weight:bold">{escape(title)}</summary>'
            f'<pre style="margin:2px 0 2px 12px;white-space:pre-wrap">{escape(text)}</pre>'
            "</details>")


def timeline_html(data: TimelineData, fallback_text: str = "", fmt: str = "svg") -> str:
    """The test's timeline picture inline; without matplotlib, ``fallback_text`` as a section.

    ``fallback_text`` is the text timeline the report already has (empty: nothing is shown).
    """
    try:
        picture = render_timeline(data, fmt)
    except PlotsUnavailable:
        return section_html("robo: resource timeline", fallback_text) if fallback_text else ""
    return figure_html(picture, fmt, alt=f"timeline of {data.title}".strip(),
                       caption="resources by phase, waits, interactions and status over time")
