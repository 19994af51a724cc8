"""Sample ROC object servers for the embedded sandbox: a VNIR camera and a rover.

They are real ROC servers (7/MDP workers on a real broker) that publish status updates and log
records, so the plugin, the examples and the ROC tests have something realistic to talk to:

* ``vnir``: ``openShutter()``, ``closeShutter()``, ``capture(frames=1)`` (a small summary dict;
  raises RuntimeError while the shutter is closed), attributes ``fps`` (settable),
  ``exposure_ms`` (settable), ``shutter_open`` and ``temperature`` (read-only properties).
  Status under ``instruments.vnir``.
* ``rover``: ``drive(v, w, duration=1.0)`` (unicycle model; raises ValueError beyond limits or on
  an empty battery), ``stop()``, ``charge()``, attributes ``battery`` (percent), ``position``
  (``[x, y, theta]``), ``max_speed`` (settable). Status under ``robots.rover``.

A periodic thread also publishes ``system.<node>`` (``uptime``, ``load``) every
``status_period`` seconds.

With a ``seed``, nothing the objects publish or return depends on wall time: the temperature
drifts with the number of captures, ``uptime`` counts status ticks (``tick * status_period``) and
``load`` is drawn from a ``random.Random(seed)`` sequence, so a ROC test re-recorded with the same
seed sees the same status payloads in the same order. Without a seed they follow the clock.

Only the *server side* of ROC is used here (the sandbox imports no client code).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import zmq

from pytest_robofixtures.roc.endpoints import Endpoints
from pytest_robofixtures.roc.server import RocLogger, RocServer, RocStatusUpdater

log = logging.getLogger(__name__)


class VNIRCamera:
    """A simulated VNIR camera: shutter, frame rate, exposure and captures."""

    def __init__(self, status: RocStatusUpdater | None = None, seed: int | None = None) -> None:
        self._status = status
        self._lock = threading.Lock()
        self._shutter_open = False
        self._captures = 0
        self._seed = seed
        self._phase = random.Random(seed).uniform(0, 2 * math.pi) if seed is not None else 0.0
        self._t0 = time.monotonic()
        self.fps = 10.0
        self.exposure_ms = 20.0
        self.model = "SIM-VNIR-400"

    def _publish(self) -> None:
        if self._status is not None:
            self._status.emit("instruments.vnir", {
                "shutter": "open" if self._shutter_open else "closed",
                "fps": self.fps, "exposure_ms": self.exposure_ms,
                "captures": self._captures, "temperature": self.temperature,
            })

    @property
    def shutter_open(self) -> bool:
        """Whether the shutter is open."""
        return self._shutter_open

    @property
    def temperature(self) -> float:
        """Sensor temperature in degrees Celsius (slowly drifting; by captures when seeded)."""
        if self._seed is not None:
            return round(21.5 + 0.5 * math.sin(self._phase + self._captures / 10.0), 3)
        return round(21.5 + 0.5 * math.sin((time.monotonic() - self._t0) / 10.0), 3)

    def openShutter(self) -> bool:
        """Open the shutter; returns True."""
        with self._lock:
            self._shutter_open = True
        log.info("vnir: shutter opened")
        self._publish()
        return True

    def closeShutter(self) -> bool:
        """Close the shutter; returns False (the new state)."""
        with self._lock:
            self._shutter_open = False
        log.info("vnir: shutter closed")
        self._publish()
        return False

    def capture(self, frames: int = 1) -> dict[str, Any]:
        """Capture ``frames`` frames and return a summary (no pixel data)."""
        if not self._shutter_open:
            raise RuntimeError("cannot capture: shutter is closed")
        if not 1 <= int(frames) <= 1000:
            raise ValueError(f"frames must be in 1..1000, got {frames}")
        with self._lock:
            self._captures += int(frames)
            index = self._captures
        mean = round(0.4 + 0.1 * math.sin(index), 4)
        log.info("vnir: captured %d frame(s), mean %.3f", frames, mean)
        self._publish()
        return {"frames": int(frames), "width": 64, "height": 48, "bands": 40,
                "exposure_ms": self.exposure_ms, "mean": mean, "index": index}


class Rover:
    """A simulated differential-drive rover with a battery."""

    def __init__(self, status: RocStatusUpdater | None = None) -> None:
        self._status = status
        self._lock = threading.Lock()
        self._battery = 100.0
        self._pose = [0.0, 0.0, 0.0]
        self.max_speed = 1.0
        self.name = "rover-1"

    def _publish(self) -> None:
        if self._status is not None:
            self._status.emit("robots.rover", {
                "battery": self._battery, "odometry": {"x": self._pose[0], "y": self._pose[1],
                                                       "theta": self._pose[2]},
            })

    @property
    def battery(self) -> float:
        """Battery charge in percent."""
        return round(self._battery, 3)

    @property
    def position(self) -> list[float]:
        """Pose ``[x, y, theta]`` in metres and radians."""
        return [round(v, 6) for v in self._pose]

    def drive(self, v: float, w: float = 0.0, duration: float = 1.0) -> list[float]:
        """Drive at ``v`` m/s and ``w`` rad/s for ``duration`` simulated seconds; new pose."""
        if abs(v) > self.max_speed:
            raise ValueError(f"speed {v} exceeds max_speed {self.max_speed}")
        if duration < 0:
            raise ValueError("duration must be >= 0")
        with self._lock:
            if self._battery <= 0:
                raise RuntimeError("battery empty")
            x, y, th = self._pose
            steps = max(1, int(duration * 20))
            dt = duration / steps
            for _ in range(steps):
                x += v * math.cos(th) * dt
                y += v * math.sin(th) * dt
                th = (th + w * dt + math.pi) % (2 * math.pi) - math.pi
            self._pose = [x, y, th]
            self._battery = max(0.0, self._battery - (0.5 + abs(v)) * duration)
        log.info("rover: drove v=%.2f w=%.2f for %.2fs -> (%.2f, %.2f)", v, w, duration, x, y)
        self._publish()
        return self.position

    def stop(self) -> None:
        """Stop moving (a no-op in the simulation, logged)."""
        log.info("rover: stop")

    def charge(self) -> float:
        """Recharge to 100 percent; returns the new level."""
        with self._lock:
            self._battery = 100.0
        self._publish()
        return self._battery


@dataclass
class SampleObjects:
    """Handle to the running sample objects; ``stop()`` stops everything it started."""

    endpoints: Endpoints
    objects: dict[str, Any]
    servers: list[RocServer]
    status: RocStatusUpdater
    handler: RocLogger | None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def stop(self) -> None:
        """Stop the servers, the status thread and the log handler."""
        self._stop.set()
        for s in self.servers:
            s.stop()
        if self._thread is not None:
            self._thread.join(5)
        if self.handler is not None:
            log.removeHandler(self.handler)
            self.handler.close()
        self.status.close()


def start_sample_objects(
    endpoints: Endpoints,
    *,
    node: str = "sim",
    status_period: float = 0.5,
    heartbeat_interval: float = 2.5,
    heartbeat_liveness: int = 3,
    logs: bool = True,
    ctx: zmq.SyncContext | None = None,
    seed: int | None = None,
) -> SampleObjects:
    """Serve ``vnir`` and ``rover`` on the broker at ``endpoints``; returns a handle.

    ``seed`` makes every published value independent of wall time (see the module docs).
    """
    status = RocStatusUpdater(endpoints, ctx)
    handler: RocLogger | None = None
    if logs:
        handler = RocLogger(node, endpoints, ctx, level=logging.INFO)
        log.addHandler(handler)
        if log.level == logging.NOTSET or log.level > logging.INFO:
            log.setLevel(logging.INFO)
    objects: dict[str, Any] = {"vnir": VNIRCamera(status, seed), "rover": Rover(status)}
    servers = [
        RocServer(endpoints, oid, obj, ctx, heartbeat_interval=heartbeat_interval,
                  heartbeat_liveness=heartbeat_liveness).start()
        for oid, obj in objects.items()
    ]
    handle = SampleObjects(endpoints, objects, servers, status, handler)
    t0 = time.monotonic()
    rng = random.Random(seed)

    def system_status(tick: int) -> dict[str, float]:
        if seed is not None:
            return {"uptime": round(tick * status_period, 3),
                    "load": round(0.2 + 0.1 * rng.random(), 3)}
        return {"uptime": round(time.monotonic() - t0, 3),
                "load": round(0.2 + 0.1 * math.sin(time.monotonic() - t0), 3)}

    def tick() -> None:
        count = 0
        while not handle._stop.wait(status_period):
            count += 1
            try:
                status.emit(f"system.{node}", system_status(count))
                objects["vnir"]._publish()
                objects["rover"]._publish()
            except Exception:  # pragma: no cover - keep ticking
                log.debug("status tick failed", exc_info=True)

    handle._thread = threading.Thread(target=tick, name="roc-sim-status", daemon=True)
    handle._thread.start()
    return handle
