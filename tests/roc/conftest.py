"""Fixtures for ROC tests: a real broker on free loopback ports with short heartbeats."""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pytest_robofixtures.roc import Endpoints, RocBroker, RocClient, RocServer, start_broker

HB = 0.1  # heartbeat interval used in tests (liveness 3 -> workers expire after 0.3 s)
LIVENESS = 3


class Camera:
    """A small shared object used across the ROC tests."""

    model = "TEST-CAM"

    def __init__(self) -> None:
        self.fps = 10.0
        self.gain = 1
        self._secret = "hidden"
        self._shutter = False
        self.log = logging.getLogger("roc_test.camera")

    @property
    def shutter_open(self) -> bool:
        return self._shutter

    def openShutter(self) -> bool:
        """Open the shutter."""
        self._shutter = True
        self.log.info("shutter opened on camera")
        return True

    def add(self, a: float, b: float = 1, *, c: float = 0) -> float:
        return a + b + c

    def echo(self, *args: Any, **kwargs: Any) -> Any:
        return {"args": list(args), "kwargs": kwargs}

    def boom(self, message: str = "bad gain") -> None:
        raise ValueError(message)

    def key_error(self) -> None:
        {}["missing"]

    def custom_error(self) -> None:
        class CalibrationError(Exception):
            pass

        raise CalibrationError("sensor not calibrated")

    def type_error_inside(self, x: int) -> None:
        return len(x)  # type: ignore[arg-type,return-value]

    def nan(self) -> list[float]:
        return [1.0, math.nan, math.inf]

    def numpy_values(self) -> Any:
        import numpy as np

        return {"scalar": np.float32(1.5), "array": np.arange(3), "int": np.int64(7)}

    def unserialisable(self) -> Any:
        return object()

    def sleep(self, seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    def pid(self) -> int:
        return os.getpid()


@pytest.fixture
def broker() -> Iterator[RocBroker]:
    b = start_broker(heartbeat_interval=HB, heartbeat_liveness=LIVENESS, unknown_timeout=0.3)
    yield b
    b.stop()


@pytest.fixture
def endpoints(broker: RocBroker) -> Endpoints:
    return broker.endpoints


@pytest.fixture
def client(endpoints: Endpoints) -> Iterator[RocClient]:
    c = RocClient(endpoints, timeout=2.0)
    yield c
    c.close()


@pytest.fixture
def serve(endpoints: Endpoints) -> Iterator[Callable[..., RocServer]]:
    """Start RocServers (short heartbeats) and wait until the broker knows them."""
    servers: list[RocServer] = []
    probe = RocClient(endpoints, timeout=1.0)

    def start(object_id: str, obj: Any, wait: bool = True, **kw: Any) -> RocServer:
        kw.setdefault("heartbeat_interval", HB)
        kw.setdefault("heartbeat_liveness", LIVENESS)
        s = RocServer(endpoints, object_id, obj, **kw).start()
        servers.append(s)
        if wait:
            probe.wait_for_object(object_id, timeout=5)
        return s

    yield start
    for s in servers:
        s.stop()
    probe.close()


@pytest.fixture
def camera(serve: Callable[..., RocServer], client: RocClient) -> Any:
    serve("cam", Camera())
    return client["cam"]


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    """Run ``code`` in a fresh Python process (stdout piped); the caller stops it by PID."""
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def stop_process(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def until(predicate: Callable[[], Any], timeout: float = 5.0, step: Callable[[], Any] | None = None,
          what: str = "condition") -> Any:
    """Repeat ``step`` (if any) and check ``predicate`` until true; bounded by ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        if step is not None:
            step()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        threading.Event().wait(0.01)
