"""Run every benchmark and report each target: ``python benchmarks/run.py [--json] [--quick]``.

Each benchmark module (``bench_replay``, ``bench_roc``, ``bench_polling``, ``bench_parallel``)
exposes ``results(quick: bool) -> dict`` of figures. Each runs in its own Python process (so one
benchmark's load, memory or crash cannot skew or break another), in turn, never in parallel.
A module that is missing, fails, or lacks a figure is reported as null with the reason.

``--json`` prints one JSON object: every target key (a number or null), plus ``missing``
(key -> reason), ``targets`` (key -> [comparison, bound]) and ``details`` (everything each
module returned). Without it, a table of each target, its value and whether it is met.
``--check`` makes the exit status 1 when a target is not met or has no value.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODULES = ("bench_replay", "bench_roc", "bench_polling", "bench_parallel")
MARKER = "@@robofixtures-bench-results@@ "


@dataclass(frozen=True)
class Target:
    """One figure and its bound: ``value <= bound`` (``"<="``) or ``value >= bound``."""

    key: str
    module: str
    op: str
    bound: float
    what: str

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value <= self.bound if self.op == "<=" else value >= self.bound


TARGETS = (
    Target("replay_load_1000_vs_json", "bench_replay", "<=", 3.0,
           "load 1,000 interactions / json.load"),
    Target("replay_load_10000_vs_json", "bench_replay", "<=", 3.0,
           "load 10,000 interactions / json.load"),
    Target("replay_per_test_ms_over_empty", "bench_replay", "<=", 2.0,
           "replay ms per recorded test over an empty test"),
    Target("replay_request_us", "bench_replay", "<=", 120.0, "µs per replayed HTTP request"),
    Target("roc_call_vs_reqrep", "bench_roc", "<=", 1.3, "ROC call / raw REQ-REP round trip"),
    Target("roc_calls_per_s_16_vs_c_queue", "bench_roc", ">=", 0.7,
           "ROC calls/s, 16 clients / C queue device"),
    Target("status_e2e_vs_raw", "bench_roc", ">=", 0.8, "status emit->tree / raw SUB"),
    Target("poll_overshoot_vs_sdk_max", "bench_polling", "<=", 0.25,
           "poll overshoot / SDK's, worst band (hint)"),
    Target("poll_gets_vs_sdk_over_30s", "bench_polling", "<=", 1.0,
           "poll GETs / SDK's, waits > 30 s (hint)"),
    Target("parallel_n4_vs_n1", "bench_parallel", "<=", 0.35, "sim run wall, -n 4 / -n 1"),
)

_CHILD = """
import json, sys
sys.path.insert(0, {here!r})
import {module} as bench
figures = bench.results({quick!r})
sys.stdout.flush()
print({marker!r} + json.dumps(figures), flush=True)
"""


def run_module(module: str, quick: bool, timeout: float) -> tuple[dict[str, Any] | None, str]:
    """(figures, "") from ``module.results(quick)`` in a child process, or (None, reason)."""
    if not (HERE / f"{module}.py").exists():
        return None, f"benchmarks/{module}.py does not exist"
    code = _CHILD.format(here=str(HERE), module=module, quick=quick, marker=MARKER)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=HERE.parent)
    except subprocess.TimeoutExpired:
        return None, f"{module}.results() did not finish within {timeout:g} s"
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            try:
                figures = json.loads(line[len(MARKER):])
            except ValueError as exc:
                return None, f"{module}.results() printed bad JSON: {exc}"
            if not isinstance(figures, dict):
                return None, f"{module}.results() returned {type(figures).__name__}, not a dict"
            return figures, ""
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    if "has no attribute 'results'" in done.stderr:
        return None, f"{module} has no results(quick) function"
    return None, f"{module} failed (exit {done.returncode}): {last[:300]}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def collect(quick: bool, timeout: float) -> dict[str, Any]:
    """Run every module; the report (see module docstring)."""
    report: dict[str, Any] = {}
    missing: dict[str, str] = {}
    details: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for module in MODULES:
        started = time.monotonic()
        figures, reason = run_module(module, quick, timeout)
        seconds[module] = round(time.monotonic() - started, 1)
        details[module] = figures if figures is not None else {"error": reason}
        for target in (t for t in TARGETS if t.module == module):
            if figures is None:
                report[target.key], missing[target.key] = None, reason
                continue
            value = _number(figures.get(target.key))
            report[target.key] = value
            if value is None:
                missing[target.key] = (
                    f"{module}.results() has no {target.key!r}" if target.key not in figures
                    else f"{module}.results() gave {figures[target.key]!r}, not a finite number")
    report["missing"] = missing
    report["targets"] = {t.key: [t.op, t.bound] for t in TARGETS}
    report["details"] = details
    report["seconds"] = seconds
    report["quick"] = quick
    return report


def table(report: dict[str, Any]) -> str:
    """The report as a readable table."""
    lines = [f"{'target':32s} {'value':>10s}  {'bound':>8s}  {'result':8s} what",
             "-" * 100]
    for t in TARGETS:
        value = report.get(t.key)
        met = t.met(value)
        shown = "null" if value is None else f"{value:.3g}"
        verdict = "met" if met else "NOT MET" if met is False else "no value"
        lines.append(f"{t.key:32s} {shown:>10s}  {t.op}{t.bound:<6g}  {verdict:8s} {t.what}")
    for key, reason in report.get("missing", {}).items():
        lines.append(f"  {key}: {reason}")
    met_count = sum(1 for t in TARGETS if t.met(report.get(t.key)))
    lines.append(f"{met_count}/{len(TARGETS)} targets met"
                 + (" (--quick: fewer samples)" if report.get("quick") else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer samples, for a smoke run")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless every target is met")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per benchmark module (default 1200, 300 with --quick)")
    args = parser.parse_args(argv)
    timeout = args.timeout or (300.0 if args.quick else 1200.0)
    report = collect(args.quick, timeout)
    print(json.dumps(report) if args.json else table(report))
    if args.check and not all(t.met(report.get(t.key)) for t in TARGETS):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
