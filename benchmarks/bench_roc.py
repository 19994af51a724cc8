"""ROC benchmark against fair baselines measured in the same run.

Run: ``python benchmarks/bench_roc.py [--quick]``; ``results(quick)`` returns the ratios for
``benchmarks/run.py``.

What is compared (every server, broker, device and subscriber is its own process on 127.0.0.1;
baselines and ROC alternate round by round, after warm-up, and each figure is reported as the
min and the median over the rounds):

* call round trip, one client (this process): ``proxy.echo(text)`` through ROC (the direct path
  our client negotiates with our server; the MDP broker path is shown too) against a raw
  REQ -> REP echo of the same 100-byte payload, alternating batches of 10 calls (the order of
  the paths rotates from batch to batch); the headline ratio is the median, over every batch
  of every round, of the ROC batch's median over the adjacent raw batch's median (the host's
  speed changes within milliseconds, so adjacent batches are the fair pairs);
* calls/s with 16 clients (16 threads in one driver process, a fresh one per round): ROC calls
  to one ROC server against REQ clients through a C queue device (``zmq.proxy`` ROUTER/DEALER)
  to one REP echo worker;
* status updates end to end: ``RocStatusUpdater.emit(key, dict)`` -> the ROC broker ->
  :class:`SubscriberFeed` -> :class:`StatusTree` in a subscriber process, against a raw PUB of
  the same (pre-encoded) JSON -> a C XSUB/XPUB proxy -> a raw SUB that only receives. The rate
  is measured at the subscriber. A paced run (10 000 updates/s) checks that nothing is lost.

The machine is shared: read ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import zmq

from pytest_robofixtures.roc import Endpoints, RocClient, RocStatusUpdater

PY = sys.executable
TARGETS = {"roc_call_vs_reqrep": ("<=", 1.3), "roc_calls_per_s_16_vs_c_queue": (">=", 0.7),
           "status_e2e_vs_raw": (">=", 0.8)}

REP_CODE = """
import zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REP); s.linger = 0
port = s.bind_to_random_port("tcp://127.0.0.1")
print(port, flush=True)
while True:
    s.send(s.recv())
"""

QUEUE_CODE = """
import threading, zmq
ctx = zmq.Context()
front = ctx.socket(zmq.ROUTER); back = ctx.socket(zmq.DEALER)
for s in (front, back):
    s.linger = 0; s.sndhwm = s.rcvhwm = 100000
a = front.bind_to_random_port("tcp://127.0.0.1"); b = back.bind_to_random_port("tcp://127.0.0.1")
print(a, b, flush=True)
zmq.proxy(front, back)
"""

WORKER_CODE = """
import sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REP); s.linger = 0
s.connect(sys.argv[1])
print("ok", flush=True)
while True:
    s.send(s.recv())
"""

SERVER_CODE = """
import sys
from pytest_robofixtures.roc import RocServer
class Echo:
    def echo(self, x):
        return x
print("ok", flush=True)
RocServer(sys.argv[1], "bench", Echo()).serve_forever()
"""

PROXY_CODE = """
import zmq
ctx = zmq.Context()
xsub = ctx.socket(zmq.XSUB); xpub = ctx.socket(zmq.XPUB)
for s in (xsub, xpub):
    s.linger = 0; s.sndhwm = s.rcvhwm = 100000
a = xsub.bind_to_random_port("tcp://127.0.0.1"); b = xpub.bind_to_random_port("tcp://127.0.0.1")
print(a, b, flush=True)
zmq.proxy(xsub, xpub)
"""

# 16 client threads; mode "roc" calls a ROC object, "raw" sends REQ through the queue device.
DRIVER_CODE = """
import json, sys, threading, time, zmq
mode, address, clients, calls = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
payload = b"x" * 100
text = "x" * 100
ready = threading.Barrier(clients + 1)
done = []
via_broker = []
def run_raw():
    s = zmq.Context.instance().socket(zmq.REQ); s.linger = 0; s.rcvtimeo = 10000
    s.connect(address)
    for _ in range(20):
        s.send(payload); s.recv()
    ready.wait()
    for _ in range(calls):
        s.send(payload); s.recv()
    done.append(time.perf_counter()); s.close(0)
def run_roc():
    from pytest_robofixtures.roc import RocClient
    c = RocClient(address, timeout=10.0)
    echo = c["bench"].echo
    for _ in range(20):
        echo(text)
    ready.wait()
    for _ in range(calls):
        echo(text)
    done.append(time.perf_counter())
    via_broker.append(c.transport.broker_calls - 1)  # minus the discovery probe
    c.close()
target = run_roc if mode == "roc" else run_raw
threads = [threading.Thread(target=target) for _ in range(clients)]
for t in threads:
    t.start()
ready.wait()
t0 = time.perf_counter()
for t in threads:
    t.join()
print(json.dumps({"rate": clients * calls / (max(done) - t0), "via_broker": sum(via_broker)}),
      flush=True)
"""

RAW_SUB_CODE = """
import json, sys, time, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.SUB); s.linger = 0; s.rcvhwm = 100000
s.setsockopt(zmq.SUBSCRIBE, b"status.")
s.connect(sys.argv[1])
print("subscribed", flush=True)
count = 0; first = last = None; ready = False
while True:
    if not s.poll(20000):
        break
    topic, body = s.recv_multipart()
    if topic == b"status.probe\\x00":
        if not ready:
            ready = True
            print("ready", flush=True)
        continue
    if topic == b"status.end\\x00":
        break
    now = time.perf_counter()
    if first is None:
        first = now
    last = now
    count += 1
span = (last - first) if first is not None and last is not None else 0.0
print(json.dumps({"count": count, "rate": (count - 1) / span if span > 0 else 0.0}), flush=True)
"""

ROC_SUB_CODE = """
import json, sys, time
from pytest_robofixtures.roc import StatusTree
from pytest_robofixtures.roc.pubsub import SubscriberFeed
from pytest_robofixtures.roc.status import subscriptions_for
feed = SubscriberFeed(sys.argv[1], subscriptions_for(""))
tree = StatusTree()
print("subscribed", flush=True)
count = 0; first = last = None; ready = False
apply = tree.apply; receive = feed.receive
while True:
    item = receive(20.0)
    if item is None:
        break
    topic = item[0]
    if topic == "status.probe":
        if not ready:
            ready = True
            print("ready", flush=True)
        continue
    if topic == "status.end":
        break
    apply(topic, item[1])
    now = time.perf_counter()
    if first is None:
        first = now
    last = now
    count += 1
span = (last - first) if first is not None and last is not None else 0.0
seq = tree.get("system.foo.seq", None)
print(json.dumps({"count": count, "rate": (count - 1) / span if span > 0 else 0.0,
                  "last_seq": seq}), flush=True)
"""


class Proc:
    """A child process with a line queue on its stdout; stopped by PID."""

    def __init__(self, code: str, *args: str) -> None:
        self.p = subprocess.Popen([PY, "-c", code, *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.put(line.strip())

    def line(self, timeout: float = 30.0) -> str:
        return self.lines.get(timeout=timeout)

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)


def _timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    pc = time.perf_counter
    for _ in range(n):
        t0 = pc()
        fn()
        out.append(pc() - t0)
    return out


def _summary(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values)}


class Rig:
    """Every process the benchmark needs, started once."""

    def __init__(self) -> None:
        self.procs: list[Proc] = []

    def start(self) -> Rig:
        broker = self._spawn("from pytest_robofixtures.roc.cli import broker_main; import sys; "
                             "sys.exit(broker_main(sys.argv[1:]))", "--port", "0", "--json",
                             "--log-level", "WARNING")
        self.ep = Endpoints("127.0.0.1", json.loads(broker.line())["base_port"])
        self.rep_port = int(self._spawn(REP_CODE).line())
        self._spawn(SERVER_CODE, self.ep.rocBroker).line()
        front, back = self._spawn(QUEUE_CODE).line().split()
        self.queue_front = f"tcp://127.0.0.1:{front}"
        self._spawn(WORKER_CODE, f"tcp://127.0.0.1:{back}").line()
        a, b = self._spawn(PROXY_CODE).line().split()
        self.raw_xsub, self.raw_xpub = f"tcp://127.0.0.1:{a}", f"tcp://127.0.0.1:{b}"
        return self

    def _spawn(self, code: str, *args: str) -> Proc:
        p = Proc(code, *args)
        self.procs.append(p)
        return p

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()

    def __enter__(self) -> Rig:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bench_latency(rig: Rig, calls: int, rounds: int) -> dict[str, Any]:
    ctx = zmq.Context.instance()
    req = ctx.socket(zmq.REQ)
    req.linger = 0
    req.rcvtimeo = 5000
    req.connect(f"tcp://127.0.0.1:{rig.rep_port}")
    payload = b"x" * 100
    text = "x" * 100

    def raw() -> None:
        req.send(payload)
        req.recv()

    direct = RocClient(rig.ep, timeout=5.0)
    direct.wait_for_object("bench", 20)
    echo = direct["bench"].echo
    via_broker = RocClient(rig.ep, timeout=5.0, direct=False)
    echo_broker = via_broker["bench"].echo

    def roc() -> None:
        echo(text)

    def roc_broker() -> None:
        echo_broker(text)

    for fn in (raw, roc, roc_broker):
        _timed(fn, 300)
    med: dict[str, list[float]] = {"raw": [], "roc": [], "broker": []}
    ratios: list[float] = []
    broker_ratios: list[float] = []
    # Per batch: ROC's median over raw's median of the batches just before/after it. The host
    # changes speed within milliseconds, so adjacent batches are the fairest pairs; the
    # headline is the median of these ratios pooled over all rounds.
    batch_ratios: list[float] = []
    batch_broker_ratios: list[float] = []
    batch = 10  # alternate small batches, so a change in machine load hits every path alike
    paths: list[tuple[str, Callable[[], None]]] = [("raw", raw), ("roc", roc),
                                                    ("broker", roc_broker)]
    for _ in range(rounds):
        samples: dict[str, list[float]] = {"raw": [], "roc": [], "broker": []}
        for i in range(max(1, calls // batch)):
            # Rotate which path goes first, so none always follows the same neighbour.
            got: dict[str, list[float]] = {}
            for key, fn in paths[i % 3:] + paths[:i % 3]:
                got[key] = _timed(fn, batch)
                samples[key] += got[key]
            raw_batch = statistics.median(got["raw"])
            batch_ratios.append(statistics.median(got["roc"]) / raw_batch)
            batch_broker_ratios.append(statistics.median(got["broker"]) / raw_batch)
        r, c, b = (statistics.median(samples[k]) for k in ("raw", "roc", "broker"))
        med["raw"].append(r)
        med["roc"].append(c)
        med["broker"].append(b)
        ratios.append(c / r)
        broker_ratios.append(b / r)
    direct.close()
    via_broker.close()
    req.close(0)
    return {"raw_us": _summary([v * 1e6 for v in med["raw"]]),
            "roc_us": _summary([v * 1e6 for v in med["roc"]]),
            "broker_us": _summary([v * 1e6 for v in med["broker"]]),
            "ratio": _summary(ratios), "broker_ratio": _summary(broker_ratios),
            "ratio_paired": statistics.median(batch_ratios),
            "broker_ratio_paired": statistics.median(batch_broker_ratios),
            "batches": len(batch_ratios)}


def _drive(mode: str, address: str, clients: int, calls: int) -> float:
    p = Proc(DRIVER_CODE, mode, address, str(clients), str(calls))
    try:
        out = json.loads(p.line(120))
        if out.get("via_broker"):
            print(f"  (driver: {out['via_broker']} calls went through the broker)",
                  file=sys.stderr)
        return float(out["rate"])
    finally:
        p.stop()


def bench_clients(rig: Rig, clients: int, calls: int, rounds: int) -> dict[str, Any]:
    raw_rates: list[float] = []
    roc_rates: list[float] = []
    ratios: list[float] = []
    for _ in range(rounds):
        q = _drive("raw", rig.queue_front, clients, calls)
        r = _drive("roc", rig.ep.rocBroker, clients, calls)
        raw_rates.append(q)
        roc_rates.append(r)
        ratios.append(r / q)
    return {"c_queue": _summary(raw_rates), "roc": _summary(roc_rates),
            "ratio": _summary(ratios)}


def _status_run(use_roc: bool, rig: Rig, messages: int, rate: float | None) -> dict[str, float]:
    sub = Proc(ROC_SUB_CODE if use_roc else RAW_SUB_CODE,
               rig.ep.generalXPUB if use_roc else rig.raw_xpub)
    try:
        assert sub.line() == "subscribed"
        value = {"cpu": 0.3, "memory": 0.7, "pad": "y" * 50, "seq": 0}
        topic = b"status.system.foo\x00"
        send: Callable[[int], None]
        probe: Callable[[], None]
        end: Callable[[], None]
        if use_roc:
            upd = RocStatusUpdater(rig.ep)
            emit = upd.emit

            def send(i: int) -> None:
                value["seq"] = i
                emit("system.foo", value)

            def probe() -> None:
                emit("probe", {})

            def end() -> None:
                emit("end", {})

            closer = upd.close
        else:
            pub = zmq.Context.instance().socket(zmq.PUB)
            pub.linger = 200
            pub.sndhwm = 100_000
            pub.connect(rig.raw_xsub)
            body = json.dumps(value).encode()  # raw PUB/SUB: bytes in, bytes out

            def send(i: int) -> None:
                pub.send_multipart([topic, body])

            def probe() -> None:
                pub.send_multipart([b"status.probe\x00", b"{}"])

            def end() -> None:
                pub.send_multipart([b"status.end\x00", b"{}"])

            def closer() -> None:
                pub.close()

        deadline = time.monotonic() + 10  # bounded slow-joiner handshake
        while True:
            probe()
            try:
                if sub.lines.get(timeout=0.01) == "ready":
                    break
            except queue.Empty:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("subscriber never became ready")
        t0 = time.perf_counter()
        if rate is None:
            for i in range(messages):
                send(i)
        else:
            for i in range(messages):
                target = t0 + i / rate
                while time.perf_counter() < target:
                    pass
                send(i)
        result = None
        deadline = time.monotonic() + 30
        while result is None and time.monotonic() < deadline:
            end()
            try:
                line = sub.lines.get(timeout=0.05)
                if line.startswith("{"):
                    result = json.loads(line)
            except queue.Empty:
                pass
        closer()
        if result is None:
            raise RuntimeError("subscriber reported nothing")
        return {"rate": result["rate"], "lost": messages - result["count"]}
    finally:
        sub.stop()


def bench_status(rig: Rig, messages: int, rounds: int, paced: int,
                 pace: float) -> dict[str, Any]:
    raw_rates: list[float] = []
    roc_rates: list[float] = []
    ratios: list[float] = []
    _status_run(True, rig, 2000, None)  # warm-up
    _status_run(False, rig, 2000, None)
    for _ in range(rounds):
        raw = _status_run(False, rig, messages, None)
        roc = _status_run(True, rig, messages, None)
        raw_rates.append(raw["rate"])
        roc_rates.append(roc["rate"])
        ratios.append(roc["rate"] / raw["rate"] if raw["rate"] else float("nan"))
    paced_roc = _status_run(True, rig, paced, pace)
    paced_raw = _status_run(False, rig, paced, pace)
    return {"raw": _summary(raw_rates), "roc": _summary(roc_rates), "ratio": _summary(ratios),
            "paced_lost_roc": paced_roc["lost"], "paced_lost_raw": paced_raw["lost"],
            "paced": paced, "pace": pace}


def measure(quick: bool = False) -> dict[str, Any]:
    """Run every comparison; the full result (for the table)."""
    if quick:
        cfg = {"calls": 1000, "rounds": 5, "clients": 16, "client_calls": 300,
               "client_rounds": 2, "messages": 30_000, "status_rounds": 2, "paced": 2000}
    else:
        cfg = {"calls": 2000, "rounds": 9, "clients": 16, "client_calls": 1000,
               "client_rounds": 5, "messages": 100_000, "status_rounds": 5, "paced": 5000}
    started = time.monotonic()
    with Rig() as rig:
        lat = bench_latency(rig, cfg["calls"], cfg["rounds"])
        clients = bench_clients(rig, cfg["clients"], cfg["client_calls"], cfg["client_rounds"])
        status = bench_status(rig, cfg["messages"], cfg["status_rounds"], cfg["paced"], 10_000.0)
    return {"latency": lat, "clients": clients, "status": status, "config": cfg,
            "seconds": time.monotonic() - started}


def results(quick: bool = False) -> dict[str, float]:
    """The headline ratios (medians over rounds) for ``benchmarks/run.py``."""
    m = measure(quick)
    return _headline(m)


def _headline(m: dict[str, Any]) -> dict[str, float]:
    return {
        "roc_call_vs_reqrep": m["latency"]["ratio_paired"],
        "roc_calls_per_s_16_vs_c_queue": m["clients"]["ratio"]["median"],
        "status_e2e_vs_raw": m["status"]["ratio"]["median"],
        "roc_call_via_broker_vs_reqrep": m["latency"]["broker_ratio_paired"],
        "status_paced_lost": float(m["status"]["paced_lost_roc"]),
    }


def _verdict(key: str, value: float) -> str:
    op, target = TARGETS[key]
    ok = value <= target if op == "<=" else value >= target
    return f"target {op} {target}: {'met' if ok else 'MISSED'}"


def print_table(m: dict[str, Any]) -> None:
    lat, cl, st = m["latency"], m["clients"], m["status"]
    print("ROC benchmark (min / median over rounds; baselines in the same run)")
    print(f"{'what':44} {'min':>12} {'median':>12}")

    def row(label: str, s: dict[str, float], fmt: str = "{:12.1f}") -> None:
        print(f"{label:44} {fmt.format(s['min'])} {fmt.format(s['median'])}")

    row("call: raw REQ/REP echo (us)", lat["raw_us"])
    row("call: ROC direct path (us)", lat["roc_us"])
    row("call: ROC via MDP broker (us)", lat["broker_us"])
    row("  ratio ROC direct / raw (per round)", lat["ratio"], "{:12.2f}")
    print(f"{'  ratio ROC direct / raw (paired batches)':44} {'':12} "
          f"{lat['ratio_paired']:12.2f}")
    print(f"{'':44} {_verdict('roc_call_vs_reqrep', lat['ratio_paired'])}")
    row("  ratio ROC via broker / raw (per round)", lat["broker_ratio"], "{:12.2f}")
    print(f"{'  ratio ROC via broker / raw (paired)':44} {'':12} "
          f"{lat['broker_ratio_paired']:12.2f}")
    row(f"{m['config']['clients']} clients: C queue device (calls/s)", cl["c_queue"], "{:12.0f}")
    row(f"{m['config']['clients']} clients: ROC (calls/s)", cl["roc"], "{:12.0f}")
    row("  ratio ROC / C queue", cl["ratio"], "{:12.2f}")
    print(f"{'':44} {_verdict('roc_calls_per_s_16_vs_c_queue', cl['ratio']['median'])}")
    row("status: raw PUB->proxy->SUB (msg/s)", st["raw"], "{:12.0f}")
    row("status: emit->broker->feed->tree (msg/s)", st["roc"], "{:12.0f}")
    row("  ratio ROC / raw", st["ratio"], "{:12.2f}")
    print(f"{'':44} {_verdict('status_e2e_vs_raw', st['ratio']['median'])}")
    print(f"status paced {st['paced']} at {st['pace']:.0f}/s: lost ROC {st['paced_lost_roc']}, "
          f"raw {st['paced_lost_raw']} (target: ROC loses nothing: "
          f"{'met' if st['paced_lost_roc'] == 0 else 'MISSED'})")
    print(f"total {m['seconds']:.1f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds (about 30 s)")
    ap.add_argument("--json", action="store_true", help="print the headline ratios as JSON")
    args = ap.parse_args()
    m = measure(args.quick)
    if args.json:
        print(json.dumps(_headline(m)))
    else:
        print_table(m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
