"""Write the distributed ROC log to disk: one JSON line per record, or formatted text."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import IO, Any

import zmq

from ..endpoints import Endpoints
from ..protocol import LOG_PREFIX
from ..topics import decode_message, log_subscriptions

TEXT_FORMAT = "%(asctime)s %(nodeId)s@%(host)s %(levelname)s %(name)s: %(message)s"


def format_record(payload: dict[str, Any], fmt: str = "json") -> str:
    """One output line (without newline) for a received record payload."""
    if fmt == "json":
        return json.dumps(payload, sort_keys=True, default=repr)
    record = logging.makeLogRecord(dict(payload))
    for key in ("nodeId", "host"):
        if not hasattr(record, key):
            setattr(record, key, "?")
    text = logging.Formatter(TEXT_FORMAT).format(record)
    return text.replace("\n", "\n    ")


def dump_logs(
    source: Endpoints | str | None,
    out: str | IO[str],
    fmt: str = "json",
    *,
    duration: float | None = None,
    stop: threading.Event | None = None,
    levels: str | list[str] = "",
    ctx: zmq.SyncContext | None = None,
    ready: threading.Event | None = None,
) -> int:
    """Write log records from ``source`` to ``out`` until ``duration`` or ``stop``; return count.

    Each record is flushed as it is written, so a killed dump loses nothing it received.
    ``ready`` is set once the subscription is open.
    """
    if fmt not in ("json", "text"):
        raise ValueError("fmt must be 'json' or 'text'")
    # Its own SUB socket: the server side does not use the client's subscriber feed.
    address = (source or Endpoints("127.0.0.1"))
    sub = (ctx or zmq.Context.instance()).socket(zmq.SUB)
    sub.linger = 0
    sub.rcvhwm = 100_000
    for prefix in log_subscriptions(levels):
        sub.setsockopt(zmq.SUBSCRIBE, prefix)
    sub.connect(address.generalXPUB if isinstance(address, Endpoints) else address)
    own_file = isinstance(out, str)
    fh: IO[str] = open(out, "a", encoding="utf-8") if isinstance(out, str) else out
    count = 0
    deadline = None if duration is None else time.monotonic() + duration
    try:
        if ready is not None:
            ready.set()
        while not (stop is not None and stop.is_set()):
            wait = 0.1
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    break
            if not sub.poll(max(1, int(wait * 1000))):
                continue
            item = decode_message(sub.recv_multipart())
            if item is None:
                continue
            topic, payload = item
            if not topic.startswith(LOG_PREFIX) or not isinstance(payload, dict):
                continue
            fh.write(format_record(payload, fmt) + "\n")
            fh.flush()
            count += 1
    finally:
        sub.close(0)
        if own_file:
            fh.close()
    return count


class LogDump:
    """Runs :func:`dump_logs` in a background thread; ``stop()`` returns the record count."""

    def __init__(self, source: Endpoints | str | None, out: str | IO[str], fmt: str = "json",
                 **kwargs: Any) -> None:
        self._stop = threading.Event()
        self._ready = threading.Event()
        self.count = 0
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.count = dump_logs(source, out, fmt, stop=self._stop, ready=self._ready,
                                       **kwargs)
            except BaseException as exc:  # pragma: no cover - reported via .error
                self.error = exc
                self._ready.set()

        self._thread = threading.Thread(target=run, name="roc-logdump", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def stop(self, timeout: float = 5.0) -> int:
        """Stop dumping, close the file and return how many records were written."""
        self._stop.set()
        self._thread.join(timeout)
        return self.count
