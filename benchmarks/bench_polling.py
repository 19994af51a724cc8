"""How soon after a resource becomes ready does the poller notice, and at how many GETs?

Ours (``common.polling.poll`` with ``Backoff.for_interval``: the schedule every client polls a
real service with in ``--robo-live``, where the hint is the same wait's time in the test's
previous recording, ``clock.ready``) against the official SDKs' fixed-interval polling, over
every band of waits, on a virtual clock (no real sleeping):

- the SDK intervals are read from the installed sources: rapyuta-io's
  ``poll_routed_network_till_ready`` and ``poll_deployment_till_ready`` defaults (5 s, 6 s) and
  the 1 s sleep of the rerobots CLI's ``isready`` loop;
- an SDK poll is modelled exactly: a GET at 0, I, 2I, ... until ready (its retry-count limit is
  lifted, so it is never charged for giving up);
- waits are drawn log-uniformly inside each band (0.3-3, 3-30, 30-120, 120-600 s), the same
  waits for both pollers;
- with a hint, the hint is the wait off by a random error up to ``--hint-error`` (default
  ±10%; the ±25% figures are printed too).

Overshoot is (time the poller returns - time ready); ratios are ours / SDK's mean per band.

    python benchmarks/bench_polling.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import math
import random
import statistics
import sys
import textwrap
from dataclasses import dataclass
from typing import Any

from pytest_robofixtures.common.clock import VirtualClock
from pytest_robofixtures.common.polling import Backoff, poll

BANDS: list[tuple[float, float]] = [(0.3, 3.0), (3.0, 30.0), (30.0, 120.0), (120.0, 600.0)]
HINT_ERROR = 0.10


def _sleep_constant(func: Any) -> float:
    """The constant passed to ``time.sleep`` inside ``func``'s loop (read from its source)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "sleep" and node.args
                and isinstance(node.args[0], ast.Constant)):
            return float(node.args[0].value)
    raise LookupError(f"no time.sleep(<constant>) in {func.__qualname__}")


def sdk_intervals() -> dict[str, float]:
    """The installed SDKs' fixed polling intervals, by what they wait for."""
    from rapyuta_io.clients.deployment import Deployment
    from rapyuta_io.clients.routed_network import RoutedNetwork
    from rerobots import cli as rerobots_cli

    def default(func: Any) -> float:
        return float(inspect.signature(func).parameters["sleep_interval"].default)

    return {
        "rapyuta routed network": default(RoutedNetwork.poll_routed_network_till_ready),
        "rapyuta deployment": default(Deployment.poll_deployment_till_ready),
        "rerobots instance": _sleep_constant(rerobots_cli.cli_isready),
    }


def sdk_wait(ready: float, interval: float) -> tuple[float, int]:
    """(overshoot, GETs) of fixed-interval polling: GETs at 0, I, 2I, ... until ready."""
    k = max(0, math.ceil(ready / interval - 1e-12))
    return k * interval - ready, k + 1


def our_wait(ready: float, interval: float, hint: float | None) -> tuple[float, int]:
    """(overshoot, GETs) of our poller on a virtual clock."""
    clock = VirtualClock()

    def fetch() -> bool:
        return clock.monotonic() >= ready

    result = poll(fetch, bool, timeout=10 * ready + 60, what="ready", clock=clock,
                  backoff=Backoff.for_interval(interval), hint=hint)
    return result.elapsed - ready, result.polls


@dataclass
class Band:
    """Mean figures of one band for one SDK interval."""

    sdk_overshoot: float
    sdk_gets: float
    overshoot: float
    gets: float
    hinted_overshoot: float
    hinted_gets: float
    wide_hint_overshoot: float
    wide_hint_gets: float

    def ratios(self) -> dict[str, float]:
        def r(a: float, b: float) -> float:
            return a / b if b > 0 else math.inf

        return {
            "overshoot_vs_sdk": r(self.overshoot, self.sdk_overshoot),
            "gets_vs_sdk": r(self.gets, self.sdk_gets),
            "hinted_overshoot_vs_sdk": r(self.hinted_overshoot, self.sdk_overshoot),
            "hinted_gets_vs_sdk": r(self.hinted_gets, self.sdk_gets),
            "wide_hint_overshoot_vs_sdk": r(self.wide_hint_overshoot, self.sdk_overshoot),
            "wide_hint_gets_vs_sdk": r(self.wide_hint_gets, self.sdk_gets),
        }


def measure_band(lo: float, hi: float, interval: float, samples: int, seed: int,
                 hint_error: float) -> Band:
    rng = random.Random(seed)
    waits = [math.exp(rng.uniform(math.log(lo), math.log(hi))) for _ in range(samples)]
    errors = [rng.uniform(-1.0, 1.0) for _ in range(samples)]
    sdk = [sdk_wait(w, interval) for w in waits]
    plain = [our_wait(w, interval, None) for w in waits]
    hinted = [our_wait(w, interval, w * (1 + hint_error * e)) for w, e in zip(waits, errors)]
    wide = [our_wait(w, interval, w * (1 + 0.25 * e)) for w, e in zip(waits, errors)]

    def mean(rows: list[tuple[float, int]], i: int) -> float:
        return statistics.fmean(row[i] for row in rows)

    return Band(mean(sdk, 0), mean(sdk, 1), mean(plain, 0), mean(plain, 1), mean(hinted, 0),
                mean(hinted, 1), mean(wide, 0), mean(wide, 1))


def measure(quick: bool = False, hint_error: float = HINT_ERROR) -> dict[str, dict[str, Band]]:
    """Every band for every SDK interval: {sdk: {"lo-hi": Band}}."""
    samples = 200 if quick else 600
    out: dict[str, dict[str, Band]] = {}
    for i, (name, interval) in enumerate(sdk_intervals().items()):
        out[name] = {
            f"{lo:g}-{hi:g}": measure_band(lo, hi, interval, samples, seed=1000 * i + j,
                                           hint_error=hint_error)
            for j, (lo, hi) in enumerate(BANDS)
        }
    return out


def results(quick: bool = False) -> dict[str, Any]:
    """The figures ``benchmarks/run.py`` reports.

    ``poll_overshoot_vs_sdk_max``: the worst band's mean overshoot with a hint, ours / SDK's;
    ``poll_gets_vs_sdk_over_30s``: the worst GETs ratio with a hint over the bands above 30 s;
    the ``*_no_hint`` figures are the same without a hint.
    """
    table = measure(quick)
    rows = [(name, band, b.ratios()) for name, bands in table.items() for band, b in bands.items()]
    long_rows = [r for _, band, r in rows if float(band.split("-")[0]) >= 30]
    return {
        "poll_overshoot_vs_sdk_max": max(r["hinted_overshoot_vs_sdk"] for _, _, r in rows),
        "poll_gets_vs_sdk_over_30s": max(r["hinted_gets_vs_sdk"] for r in long_rows),
        "poll_overshoot_vs_sdk_max_no_hint": max(r["overshoot_vs_sdk"] for _, _, r in rows),
        "poll_gets_vs_sdk_over_30s_no_hint": max(r["gets_vs_sdk"] for r in long_rows),
        "poll_overshoot_vs_sdk_max_hint_25pct": max(
            r["wide_hint_overshoot_vs_sdk"] for _, _, r in rows),
        "poll_gets_vs_sdk_over_30s_hint_25pct": max(r["wide_hint_gets_vs_sdk"] for r in long_rows),
        "poll_sdk_intervals_s": sdk_intervals(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 waits per band, not 600")
    parser.add_argument("--json", action="store_true", help="print results() as JSON")
    parser.add_argument("--hint-error", type=float, default=HINT_ERROR,
                        help="relative error of the hint (default 0.10)")
    args = parser.parse_args()
    if args.json:
        print(json.dumps(results(args.quick)))
        return 0
    table = measure(args.quick, args.hint_error)
    print(f"mean overshoot (s) and GETs per wait; hint off by up to ±{args.hint_error:.0%} "
          "(and ±25%)")
    print(f"{'SDK (interval)':28s} {'band s':>9s} | {'SDK':>13s} | {'ours, no hint':>13s} | "
          f"{'ours, hint':>13s} | {'hint ±25%':>13s}")
    for (name, bands), interval in zip(table.items(), sdk_intervals().values()):
        for band, b in bands.items():
            print(f"{name + f' ({interval:g} s)':28s} {band:>9s} | "
                  f"{b.sdk_overshoot:6.2f} {b.sdk_gets:6.1f} | {b.overshoot:6.2f} {b.gets:6.1f} |"
                  f" {b.hinted_overshoot:6.2f} {b.hinted_gets:6.1f} | "
                  f"{b.wide_hint_overshoot:6.2f} {b.wide_hint_gets:6.1f}")
    figures = results(args.quick)
    for key, value in figures.items():
        if isinstance(value, float):
            print(f"{key:40s} {value:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
