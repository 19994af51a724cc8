"""Replay benchmarks: loading a 1,000-interaction recording and the per-request replay overhead.

Run: ``python benchmarks/bench_replay.py``. Baselines are measured in the same process:
plain ``yaml.safe_load`` of the same file, and a direct request to a loopback server.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from werkzeug.wrappers import Request, Response

from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import Recorder, Scrubber
from pytest_robofixtures.sim._wsgi import SimApp, SimServer, json_response

N = 1000
HEADERS = {"Authorization": "Bearer bench-token-0123456789", "project": "p-1"}


class ItemsApp(SimApp):
    def __init__(self) -> None:
        super().__init__()
        self.route("/items/<int:i>", self.item, methods=["GET", "PUT"])

    def item(self, request: Request, i: int) -> Response:
        return json_response({
            "id": i, "name": f"item-{i}", "status": "READY" if i % 3 else "PENDING",
            "tags": ["a", "b", "c"], "spec": {"cpu": 0.5, "memory": 512, "replicas": i % 4},
            "created_at": "2024-05-01T10:00:00Z",
        })


def best_of(fn: Any, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "bundle"
        server = SimServer(ItemsApp()).start()
        session = make_session(headers=HEADERS, retries=0)
        urls = [f"{server.url}/items/{i}" for i in range(N)]
        try:
            rec = Recorder.open(bundle, "record", "pytest bench --robo-sim",
                                Scrubber(secrets=["bench-token-0123456789"]))
            with rec.http():
                for i, url in enumerate(urls):
                    if i % 2:
                        session.get(url)
                    else:
                        session.put(url, json={"name": f"item-{i}", "spec": {"cpu": 0.5}})
            rec.close()
            # baseline 2: direct requests to the loopback server
            sample = urls[:300]

            def direct() -> None:
                for url in sample:
                    session.get(url)

            t_direct = best_of(direct, 3) / len(sample)
        finally:
            server.stop()

        path = bundle / "recording.yaml"
        text = path.read_bytes()
        t_safe = best_of(lambda: yaml.safe_load(text), 3)
        t_open = best_of(lambda: Recorder.open(bundle, "replay", "x", Scrubber()), 5)

        def open_and_index() -> None:
            r = Recorder.open(bundle, "replay", "x", Scrubber())
            with r.http():
                pass

        t_index = best_of(open_and_index, 5)

        rep = Recorder.open(bundle, "replay", "x", Scrubber())
        get_urls = [u for i, u in enumerate(urls) if i % 2][:300]
        per_request = []
        with rep.http():
            for _ in range(3):
                t0 = time.perf_counter()
                for url in get_urls:
                    session.get(url)
                per_request.append((time.perf_counter() - t0) / len(get_urls))
        t_replay = min(per_request)

    print(f"recording: {N} interactions, {len(text) / 1024:.0f} KiB of YAML "
          f"(libyaml: {yaml.__with_libyaml__})")
    print(f"load  yaml.safe_load (baseline)         {t_safe * 1000:8.1f} ms")
    print(f"load  Recorder.open (replay)            {t_open * 1000:8.1f} ms   "
          f"ratio {t_open / t_safe:5.2f}x of baseline")
    print(f"load  Recorder.open + HTTP match index  {t_index * 1000:8.1f} ms   "
          f"ratio {t_index / t_safe:5.2f}x of baseline")
    print(f"HTTP  direct loopback request (baseline){t_direct * 1e6:8.0f} us/request")
    print(f"HTTP  replayed request                  {t_replay * 1e6:8.0f} us/request   "
          f"ratio {t_replay / t_direct:5.2f}x of baseline "
          f"(median of runs {statistics.median(per_request) * 1e6:.0f} us)")
    print(f"total benchmark time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
