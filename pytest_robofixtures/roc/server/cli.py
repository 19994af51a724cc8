"""Console entry points: ``rocbroker`` and ``roclogdump``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

import zmq

from ..endpoints import Endpoints, find_free_base_port, find_free_ipc_base
from .broker import DEFAULT_MAX_FRAME_SIZE, RocBroker
from .logdump import dump_logs


def _stop_on_signals(stop: threading.Event) -> dict[int, Any]:
    """Make SIGINT/SIGTERM set ``stop`` (main thread only); returns the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}


def _restore(previous: dict[int, Any]) -> None:
    for sig, h in previous.items():
        signal.signal(sig, h)


def broker_main(argv: Sequence[str] | None = None) -> int:
    """Run a ROC broker until Ctrl-C/SIGTERM, printing its endpoints."""
    p = argparse.ArgumentParser(prog="rocbroker", description="ROC broker (7/MDP + log/status "
                                "forwarder) on ports BASE (router), BASE+1 (XSUB), BASE+2 (XPUB)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5555,
                   help="base port (default 5555; 0 picks a free block of three)")
    p.add_argument("--transport", default="tcp", choices=["tcp", "ipc"])
    p.add_argument("--heartbeat-interval", type=float, default=2.5, metavar="SECONDS")
    p.add_argument("--heartbeat-liveness", type=int, default=3)
    p.add_argument("--unknown-timeout", type=float, default=1.0, metavar="SECONDS",
                   help="how long a request for an unregistered object waits before -32001")
    p.add_argument("--request-timeout", type=float, default=None, metavar="SECONDS")
    p.add_argument("--max-frame-size", type=int, default=DEFAULT_MAX_FRAME_SIZE, metavar="BYTES",
                   help="drop (and log) messages with a frame above this size "
                        f"(default {DEFAULT_MAX_FRAME_SIZE}; 0 for no limit)")
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--json", action="store_true", help="print the endpoints as one JSON line")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.transport == "ipc" and args.host != "127.0.0.1" and not os.path.isdir(args.host):
        print(f"rocbroker: with --transport ipc, --host must be a directory for the socket "
              f"files (got {args.host!r})", file=sys.stderr)
        return 2
    # --port 0 picks a free base, retrying if another process takes it before we bind.
    attempts = 10 if args.port == 0 else 1
    for attempt in range(attempts):
        try:
            if args.port:
                port = args.port
            elif args.transport == "ipc":
                port = find_free_ipc_base(args.host)
            else:
                port = find_free_base_port(args.host)
            ep = Endpoints(args.host, port, args.transport)
            broker = RocBroker(ep, args.heartbeat_interval, args.heartbeat_liveness,
                               unknown_timeout=args.unknown_timeout,
                               request_timeout=args.request_timeout,
                               max_frame_size=args.max_frame_size or None)
            broker.start()
            break
        except zmq.ZMQError as exc:
            if exc.errno == zmq.EADDRINUSE and attempt + 1 < attempts:
                continue
            print(f"rocbroker: cannot bind: {exc}", file=sys.stderr)
            return 1
        except (OSError, ValueError) as exc:
            print(f"rocbroker: {exc}", file=sys.stderr)
            return 1
    stop = threading.Event()
    previous = _stop_on_signals(stop)
    if args.json:
        print(json.dumps({"base_port": port, **ep.as_dict()}), flush=True)
    else:
        print(f"ROC broker: rocBroker={ep.rocBroker} generalXSUB={ep.generalXSUB} "
              f"generalXPUB={ep.generalXPUB}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        broker.stop()
        _restore(previous)
    return 0


def logdump_main(argv: Sequence[str] | None = None) -> int:
    """Write the distributed ROC log to a file until interrupted or ``--duration``."""
    p = argparse.ArgumentParser(prog="roclogdump",
                                description="Write ROC log records to disk (one per line)")
    p.add_argument("--host", default="127.0.0.1", help="broker address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5555, help="broker base port (default 5555)")
    p.add_argument("--source", default=None, help="explicit XPUB endpoint (overrides host/port)")
    p.add_argument("-o", "--output", default="-", help="output file (default stdout)")
    p.add_argument("--format", default="json", choices=["json", "text"])
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS")
    p.add_argument("--level", action="append", default=[],
                   help="only these level names (repeatable; default all)")
    args = p.parse_args(argv)
    source: Endpoints | str = args.source or Endpoints(args.host, args.port)
    stop = threading.Event()
    previous = _stop_on_signals(stop)
    out = sys.stdout if args.output == "-" else args.output
    try:
        count = dump_logs(source, out, args.format, duration=args.duration, stop=stop,
                          levels=args.level or "")
    finally:
        _restore(previous)
    print(f"roclogdump: {count} records", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(broker_main())
