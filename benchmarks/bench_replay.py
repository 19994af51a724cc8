"""Replay benchmarks against fair baselines, measured in the same run.

Run: ``python benchmarks/bench_replay.py [--quick]``; :func:`results` returns the headline ratios.

* Load: a recording of 1,000 and 10,000 HTTP interactions written by ``Bundle.save`` (the real
  format), opened for replay (``Recorder.open``: parse, every check, blob references), against
  ``json.load`` of the same document and libyaml's ``CSafeLoader`` of the same YAML; the parsed
  form comes from the content-addressed cache (warm; the cold figure is shown too). Peak memory
  by ``tracemalloc``.
* One replayed request through ``requests`` (our clients' session), against vcrpy replaying its
  own YAML cassette holding the same interactions.
* Per test: 200 tests replayed through pytest with the plugin, each with its own generated
  recording, against 200 empty tests in the same project.

Every measurement is warmed, repeated and interleaved with its baseline; tables show min and
median; ratios use medians of the same rounds.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import tempfile
import textwrap
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml
from vcr.request import Request as VcrRequest
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import Bundle, Recorder, Scrubber, recording_path

BASE = "http://api.bench.test"
TESTS = 200
REQUESTS_PER_TEST = 5


def _item(i: int) -> bytes:
    return json.dumps({
        "id": i, "name": f"item-{i}", "status": "READY" if i % 3 else "PENDING",
        "tags": ["a", "b", "c"], "spec": {"cpu": 0.5, "memory": 512, "replicas": i % 4},
        "created_at": "2024-05-01T10:00:00Z",
    }).encode()


def _exchange(method: str, uri: str, req_body: bytes | None, body: bytes) -> dict[str, Any]:
    return {
        "request": {"method": method, "uri": uri, "body": req_body,
                    "headers": {"User-Agent": "python-requests/2.32", "Accept": "*/*",
                                "project": "p-1"}},
        "response": {"status": {"code": 200, "message": "OK"}, "body": body,
                     "headers": {"Content-Type": ["application/json"],
                                 "Server": ["Werkzeug/3.0"]}},
    }


def write_recording(directory: Path, n: int, prefix: str = "", nodeid: str = "bench") -> Path:
    """A recording of ``n`` exchanges (GET and PUT alternating) saved through ``Bundle.save``."""
    bundle = Bundle(directory, "pytest bench --robo-sim")
    bundle.metadata = {"nodeid": nodeid, "mode": "sim"}
    bundle.clock = {"epoch": 1_700_000_000.0, "duration": 1.0}
    for i in range(n):
        uri = f"{BASE}{prefix}/items/{i}"
        if i % 2:
            bundle.http.append(_exchange("GET", uri, None, _item(i)))
        else:
            put = json.dumps({"name": f"item-{i}", "spec": {"cpu": 0.5}}).encode()
            bundle.http.append(_exchange("PUT", uri, put, _item(i)))
    return bundle.save(Scrubber())


def write_vcr_cassette(path: Path, n: int) -> None:
    """vcrpy's own YAML cassette with the same exchanges."""
    requests, responses = [], []
    for i in range(n):
        method = "GET" if i % 2 else "PUT"
        put = None if i % 2 else json.dumps({"name": f"item-{i}", "spec": {"cpu": 0.5}})
        requests.append(VcrRequest(method, f"{BASE}/items/{i}", put,
                                   {"User-Agent": "python-requests/2.32", "project": "p-1"}))
        responses.append({"status": {"code": 200, "message": "OK"},
                          "headers": {"Content-Type": ["application/json"]},
                          "body": {"string": _item(i).decode()}})
    path.write_text(serialize({"requests": requests, "responses": responses}, yamlserializer))


def rounds(fns: dict[str, Callable[[], Any]], repeat: int, warm: int = 1,
           self_timed: bool = False) -> dict[str, list[float]]:
    """Run every function ``repeat`` times, interleaved (a, b, a, b...), after ``warm`` runs.

    Times are wall seconds of each call, or with ``self_timed`` the ``(wall, cpu)`` each call
    returns; ``"<name> [cpu]"`` holds this process's CPU seconds (less sensitive to a loaded
    machine than wall time).
    """
    for _ in range(warm):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            value = fn()
            wall, cpu = value if self_timed else (time.perf_counter() - t0,
                                                  time.process_time() - c0)
            times.setdefault(name, []).append(float(wall))
            times.setdefault(f"{name} [cpu]", []).append(float(cpu))
    return times


def peak_bytes(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        tracemalloc.stop()
    return peak


# -- load -----------------------------------------------------------------------------------
def bench_load(tmp: Path, n: int, repeat: int, quick: bool) -> dict[str, Any]:
    bundle_dir = tmp / f"load{n}"
    path = write_recording(bundle_dir, n)
    text = path.read_bytes()
    doc = yaml.load(text, Loader=yaml.CSafeLoader)
    json_path = tmp / f"load{n}.json"
    json_path.write_text(json.dumps(doc))
    cold_dirs = iter(range(10**6))

    def load_json() -> Any:
        with json_path.open("rb") as f:
            return json.load(f)

    def open_warm() -> Any:
        return Recorder.open(bundle_dir, "replay", "x", Scrubber())

    def open_cold() -> Any:
        os.environ["ROBOFIXTURES_CACHE_DIR"] = str(tmp / f"cold{next(cold_dirs)}")
        try:
            return Recorder.open(bundle_dir, "replay", "x", Scrubber())
        finally:
            os.environ["ROBOFIXTURES_CACHE_DIR"] = str(tmp / "cache")

    def open_ready() -> Any:  # loaded and the HTTP cassette ready to serve
        rec = Recorder.open(bundle_dir, "replay", "x", Scrubber())
        with rec.http():
            pass
        return rec

    fns: dict[str, Callable[[], Any]] = {
        "json.load": load_json,
        "Recorder.open": open_warm,
        "Recorder.open + HTTP ready": open_ready,
    }
    times = rounds(fns, repeat)
    slow = rounds({"libyaml CSafeLoader": lambda: yaml.load(text, Loader=yaml.CSafeLoader),
                   "Recorder.open, cold cache": open_cold}, 1 if quick or n > 1000 else 3, warm=0)
    times.update(slow)
    return {
        "n": n, "yaml_kib": len(text) / 1024, "times": times,
        "mem_json": peak_bytes(load_json), "mem_open": peak_bytes(open_warm),
    }


# -- one request ----------------------------------------------------------------------------
def bench_request(tmp: Path, n: int, repeat: int, count: int = 200) -> dict[str, list[float]]:
    """``count`` GETs cycling over the recorded GET URLs, ours and vcrpy's, per request."""
    bundle_dir = tmp / f"req{n}"
    write_recording(bundle_dir, n)
    cassette = tmp / f"vcrpy{n}.yaml"
    write_vcr_cassette(cassette, n)
    gets = [f"{BASE}/items/{i}" for i in range(1, n, 2)]
    urls = [gets[i % len(gets)] for i in range(count)]
    session = make_session(retries=0, headers={"project": "p-1"})
    ours = Recorder.open(bundle_dir, "replay", "x", Scrubber())
    theirs = vcr.VCR(record_mode="none")

    def ours_run() -> None:
        with ours.http():
            for url in urls:
                session.get(url)

    def vcrpy_run() -> None:
        with theirs.use_cassette(str(cassette), allow_playback_repeats=True):
            for url in urls:
                session.get(url)

    times = rounds({"robofixtures replay": ours_run, "vcrpy replay (same cassette)": vcrpy_run},
                   repeat)
    return {k: [t / len(urls) for t in v] for k, v in times.items()}


# -- per test through pytest ----------------------------------------------------------------
class _Timer:
    """Per test: pytest's durations (setup + call + teardown) and the CPU time of the protocol."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu = 0.0
        self.failed = 0
        self._cpu0 = 0.0

    def pytest_runtest_logstart(self) -> None:
        self._cpu0 = time.process_time()

    def pytest_runtest_logfinish(self) -> None:
        self.cpu += time.process_time() - self._cpu0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds += report.duration
        self.failed += int(report.failed)


def _pytest(project: Path, test_file: str) -> tuple[float, float]:
    timer = _Timer()
    code = pytest.main(
        [str(project / test_file), "-q", "-p", "no:cacheprovider", "--rootdir", str(project),
         "-o", "addopts=", "--import-mode=importlib", "--no-header", "--no-summary"],
        plugins=[timer],
    )
    if code != 0 or timer.failed:
        raise SystemExit(f"benchmark run {test_file} failed (exit {code})")
    return timer.seconds / TESTS, timer.cpu / TESTS


def bench_per_test(tmp: Path, repeat: int) -> dict[str, list[float]]:
    project = tmp / "suite"
    project.mkdir()
    (project / "test_empty.py").write_text(textwrap.dedent(f"""
        import pytest
        @pytest.mark.parametrize("i", range({TESTS}))
        def test_empty(i):
            pass
    """))
    (project / "test_replayed.py").write_text(textwrap.dedent(f"""
        import pytest
        from pytest_robofixtures.common.http import make_session
        SESSION = make_session(retries=0, headers={{"project": "p-1"}})
        @pytest.mark.parametrize("i", range({TESTS}))
        def test_replayed(robo, i):
            for k in range({REQUESTS_PER_TEST}):
                assert SESSION.get(f"{BASE}/t{{i}}/items/{{2 * k + 1}}").json()["id"] == 2 * k + 1
    """))
    for i in range(TESTS):
        nodeid = f"test_replayed.py::test_replayed[{i}]"
        write_recording(recording_path(project / "cassettes", nodeid), 2 * REQUESTS_PER_TEST,
                        prefix=f"/t{i}", nodeid=nodeid)
    # The recordings hold PUTs the test does not make: replay lists them as unused, not an error.
    times = rounds({"empty test": lambda: _pytest(project, "test_empty.py"),
                    "replayed test": lambda: _pytest(project, "test_replayed.py")}, repeat,
                   self_timed=True)
    return times


# -- report ---------------------------------------------------------------------------------
def _med(values: list[float]) -> float:
    return statistics.median(values)


def measure(quick: bool = False) -> dict[str, Any]:
    repeat = 3 if quick else 7
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        saved = os.environ.get("ROBOFIXTURES_CACHE_DIR")
        os.environ["ROBOFIXTURES_CACHE_DIR"] = str(tmp / "cache")
        try:
            loads = [bench_load(tmp, n, repeat, quick) for n in (1000, 10000)]
            # more rounds than the loads: a round of requests is short, so noise weighs more
            request = {n: bench_request(tmp, n, repeat + 4, 200 if n < 1000 else 100)
                       for n in (20, 1000)}
            per_test = bench_per_test(tmp, 3 if quick else 7)
        finally:
            if saved is None:
                os.environ.pop("ROBOFIXTURES_CACHE_DIR", None)
            else:
                os.environ["ROBOFIXTURES_CACHE_DIR"] = saved
    return {"loads": loads, "request": request, "per_test": per_test}


def summarize(m: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for load in m["loads"]:
        t = load["times"]
        n = load["n"]
        out[f"replay_load_{n}_vs_json"] = _med(t["Recorder.open"]) / _med(t["json.load"])
        out[f"replay_load_{n}_cpu_vs_json"] = (_med(t["Recorder.open [cpu]"])
                                               / _med(t["json.load [cpu]"]))
        out[f"replay_ready_{n}_vs_json"] = (_med(t["Recorder.open + HTTP ready"])
                                            / _med(t["json.load"]))
        out[f"replay_load_{n}_mem_vs_json"] = load["mem_open"] / load["mem_json"]
        out[f"replay_load_{n}_cold_vs_libyaml"] = (_med(t["Recorder.open, cold cache"])
                                                   / _med(t["libyaml CSafeLoader"]))
    small, big = (_med(load["times"]["Recorder.open"]) for load in m["loads"])
    out["replay_load_growth_10x"] = big / small
    out["replay_request_us"] = _med(m["request"][1000]["robofixtures replay"]) * 1e6
    for n, req in m["request"].items():
        out[f"replay_request_{n}_vs_vcrpy"] = (_med(req["robofixtures replay"])
                                               / _med(req["vcrpy replay (same cassette)"]))
    out["replay_request_cpu_us"] = _med(m["request"][1000]["robofixtures replay [cpu]"]) * 1e6
    pt = m["per_test"]
    out["replay_per_test_ms_over_empty"] = (_med(pt["replayed test"])
                                            - _med(pt["empty test"])) * 1000
    out["replay_per_test_cpu_ms_over_empty"] = (_med(pt["replayed test [cpu]"])
                                                - _med(pt["empty test [cpu]"])) * 1000
    return out


def results(quick: bool = False) -> dict[str, float]:
    """The headline figures (ratios are medians of interleaved rounds of one run)."""
    return summarize(measure(quick))


def _row(name: str, values: list[float], scale: float, unit: str, base: float | None) -> str:
    ratio = f"{_med(values) / base:7.2f}x" if base else " " * 8
    return (f"  {name:<34}{min(values) * scale:10.2f}{_med(values) * scale:10.2f} {unit:<6}"
            f"{ratio}")


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    started = time.perf_counter()
    m = measure(quick)
    summary = summarize(m)
    print(f"libyaml: {yaml.__with_libyaml__}; vcrpy {vcr.__version__}; "
          f"{'quick' if quick else 'full'} run; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs\n")
    print(f"  {'':<34}{'min':>10}{'median':>10} {'unit':<6}{'ratio':>8}")
    for load in m["loads"]:
        t = load["times"]
        print(f"load, {load['n']} interactions ({load['yaml_kib']:.0f} KiB of YAML)")
        base = _med(t["json.load"])
        for name in ("json.load", "Recorder.open", "Recorder.open + HTTP ready",
                     "libyaml CSafeLoader", "Recorder.open, cold cache"):
            print(_row(name, t[name], 1000, "ms", base))
        cpu_base = _med(t["json.load [cpu]"])
        print(_row("Recorder.open [cpu]", t["Recorder.open [cpu]"], 1000, "ms", cpu_base)
              + "  (vs json.load [cpu])")
        print(f"  peak memory: json.load {load['mem_json'] / 2**20:.1f} MiB, Recorder.open "
              f"{load['mem_open'] / 2**20:.1f} MiB "
              f"({load['mem_open'] / load['mem_json']:.2f}x)")
    for n, req in m["request"].items():
        print(f"one replayed GET through requests ({n}-interaction recording)")
        for name, values in req.items():
            base_name = "vcrpy replay (same cassette)" + (" [cpu]" if "[cpu]" in name else "")
            print(_row(name, values, 1e6, "us", _med(req[base_name])))
    print(f"per test, {TESTS} tests through pytest, {REQUESTS_PER_TEST} replayed GETs each")
    for name, values in m["per_test"].items():
        base = _med(m["per_test"]["empty test" + (" [cpu]" if "[cpu]" in name else "")])
        print(_row(name, values, 1000, "ms", base))
    base = _med(m["per_test"]["empty test"])
    print(f"  (setup + call + teardown per test; replayed test minus empty test: "
          f"{(_med(m['per_test']['replayed test']) - base) * 1000:.2f} ms)")
    print("\nheadline (ratios of medians; targets: load <= 3x json at both sizes, "
          "<= 2 ms/test, <= 120 us/request)")
    for key, value in summary.items():
        print(f"  {key:<36}{value:10.2f}")
    print(f"\ntotal benchmark time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
