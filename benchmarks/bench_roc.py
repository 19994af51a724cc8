"""ROC benchmark: call latency vs raw REQ/REP, status throughput vs a raw XSUB/XPUB proxy.

Run: ``python benchmarks/bench_roc.py [--calls 1000] [--rounds 5] [--messages 100000]``.
Every role (broker, proxy, servers, subscribers) runs in its own process on 127.0.0.1; the
client/publisher is this process. Latency is measured interleaved (raw, ROC, raw, ROC, ...) so
both see the same machine state; ratios are per round, then the median. Runtime < 60 s.
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

import zmq

from pytest_robofixtures.roc import Endpoints, RocClient, RocStatusUpdater

PY = sys.executable

REP_CODE = """
import sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REP); s.linger = 0
port = s.bind_to_random_port("tcp://127.0.0.1")
print(port, flush=True)
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

SUB_CODE = """
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


class Proc:
    """A child process with a line queue on its stdout."""

    def __init__(self, code: str, *args: str) -> None:
        self.p = subprocess.Popen([PY, "-c", code, *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.put(line.strip())

    def line(self, timeout: float = 20.0) -> str:
        return self.lines.get(timeout=timeout)

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)


def time_calls(fn, n: int) -> list[float]:
    out = []
    pc = time.perf_counter
    for _ in range(n):
        t0 = pc()
        fn()
        out.append(pc() - t0)
    return out


def bench_latency(router: str, rep_port: int, calls: int, rounds: int) -> dict[str, float]:
    ctx = zmq.Context.instance()
    req = ctx.socket(zmq.REQ)
    req.linger = 0
    req.rcvtimeo = 5000
    req.connect(f"tcp://127.0.0.1:{rep_port}")
    payload = b"x" * 100
    text = "x" * 100

    def raw() -> None:
        req.send(payload)
        req.recv()

    client = RocClient(router, timeout=5.0)
    client.wait_for_object("bench", 10)
    proxy = client["bench"]
    echo = proxy.echo  # resolve the method stub once (metadata cached)

    def roc() -> None:
        echo(text)

    time_calls(raw, 200)
    time_calls(roc, 200)
    raw_all: list[float] = []
    roc_all: list[float] = []
    ratios = []
    for _ in range(rounds):
        r = time_calls(raw, calls)
        c = time_calls(roc, calls)
        raw_all += r
        roc_all += c
        ratios.append(statistics.median(c) / statistics.median(r))
    client.close()
    req.close(0)
    return {"raw_us": statistics.median(raw_all) * 1e6, "roc_us": statistics.median(roc_all) * 1e6,
            "roc_p99_us": sorted(roc_all)[int(len(roc_all) * 0.99)] * 1e6,
            "ratio": statistics.median(ratios), "ratio_min": min(ratios),
            "ratio_max": max(ratios)}


def bench_throughput(xsub: str, xpub: str, messages: int, use_roc: bool,
                     rate: float | None = None) -> dict[str, float]:
    sub = Proc(SUB_CODE, xpub)
    assert sub.line() == "subscribed"
    ctx = zmq.Context.instance()
    body = json.dumps({"cpu": 0.3, "memory": 0.7, "pad": "y" * 50}).encode()
    if use_roc:
        upd = RocStatusUpdater(xsub)
        send = upd._pub.send
    else:
        pub = ctx.socket(zmq.PUB)
        pub.linger = 200
        pub.sndhwm = 100_000
        pub.connect(xsub)
        def send(topic: bytes, payload: bytes) -> None:
            pub.send_multipart([topic, payload])

    # slow-joiner handshake: probe until the subscriber has seen one (bounded)
    deadline = time.monotonic() + 10
    while True:
        send(b"status.probe\x00", b"{}")
        try:
            if sub.lines.get(timeout=0.01) == "ready":
                break
        except queue.Empty:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("subscriber never became ready")
    topic = b"status.system.foo\x00"
    t0 = time.perf_counter()
    if rate is None:
        for _ in range(messages):
            send(topic, body)
    else:
        for i in range(messages):
            target = t0 + i / rate
            while time.perf_counter() < target:
                pass
            send(topic, body)
    send_rate = messages / (time.perf_counter() - t0)
    result = None
    deadline = time.monotonic() + 20
    while result is None and time.monotonic() < deadline:
        send(b"status.end\x00", b"{}")
        try:
            line = sub.lines.get(timeout=0.05)
            if line.startswith("{"):
                result = json.loads(line)
        except queue.Empty:
            pass
    sub.stop()
    if use_roc:
        upd.close()
    else:
        pub.close()
    if result is None:
        raise RuntimeError("subscriber reported nothing")
    return {"rate": result["rate"], "received": result["count"],
            "lost": messages - result["count"], "send_rate": send_rate}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--paced", type=int, default=5_000, help="messages in the paced run")
    ap.add_argument("--pace", type=float, default=10_000.0, help="msgs/s in the paced run")
    args = ap.parse_args()
    started = time.monotonic()
    procs: list[Proc] = []
    try:
        broker = Proc("from pytest_robofixtures.roc.cli import broker_main; import sys; "
                      "sys.exit(broker_main(sys.argv[1:]))", "--port", "0", "--json",
                      "--log-level", "WARNING")
        procs.append(broker)
        info = json.loads(broker.line())
        ep = Endpoints("127.0.0.1", info["base_port"])
        rep = Proc(REP_CODE)
        procs.append(rep)
        rep_port = int(rep.line())
        server = Proc(SERVER_CODE, ep.rocBroker)
        procs.append(server)
        server.line()
        proxy = Proc(PROXY_CODE)
        procs.append(proxy)
        a, b = proxy.line().split()
        raw_xsub, raw_xpub = f"tcp://127.0.0.1:{a}", f"tcp://127.0.0.1:{b}"

        lat = bench_latency(ep.rocBroker, rep_port, args.calls, args.rounds)
        print(f"call round trip (median of {args.calls * args.rounds}, interleaved):")
        print(f"  raw REQ/REP         {lat['raw_us']:8.1f} us")
        print(f"  ROC call            {lat['roc_us']:8.1f} us   (p99 {lat['roc_p99_us']:.1f} us)")
        verdict = ("met" if lat["ratio"] <= 3
                   else f"MISSED by {(lat['ratio'] / 3 - 1) * 100:.0f}%")
        print(f"  ratio ROC/raw       {lat['ratio']:8.2f} x    (rounds {lat['ratio_min']:.2f}"
              f"..{lat['ratio_max']:.2f}; target <= 3x: {verdict})")

        for _label, n, pace in (("burst", args.messages, None), ("paced", args.paced, args.pace)):
            roc = bench_throughput(ep.generalXSUB, ep.generalXPUB, n, True, pace)
            raw = bench_throughput(raw_xsub, raw_xpub, n, False, pace)
            ratio = roc["rate"] / raw["rate"] if raw["rate"] else float("nan")
            what = f"{n} msgs" + (f" at {pace:.0f}/s" if pace else " full speed")
            print(f"status updates, {what}:")
            print(f"  raw PUB->proxy->SUB {raw['rate']:10.0f} msg/s  lost {raw['lost']}")
            print(f"  ROC updater->broker {roc['rate']:10.0f} msg/s  lost {roc['lost']}")
            if pace is None:
                print(f"  ratio ROC/raw       {ratio:10.2f}      (target >= 0.5: "
                      f"{'met' if ratio >= 0.5 else 'MISSED'})")
            else:
                print(f"  nothing lost at normal rate: {'met' if roc['lost'] == 0 else 'MISSED'}")
    finally:
        for p in reversed(procs):
            p.stop()
    print(f"total {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
