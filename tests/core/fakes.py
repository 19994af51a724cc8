"""A fake run context and scope: the core's seams, without pytest runs or services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_robofixtures.common.clock import VirtualClock
from pytest_robofixtures.context import Credentials, NoHooks
from pytest_robofixtures.journal import Journal
from pytest_robofixtures.report import RunStats
from pytest_robofixtures.settings import RoboSettings, Target


def settings(tmp: Path, **overrides: Any) -> RoboSettings:
    base: dict[str, Any] = {
        "target": Target.SIM, "rootdir": tmp, "cassette_dir": tmp / "cassettes",
        "artifacts_dir": tmp / "artifacts", "journal_dir": tmp / "journal",
        "rapyuta_catalog_url": "http://127.0.0.1:1", "rapyuta_core_url": "http://127.0.0.1:1",
        "rerobots_url": "http://127.0.0.1:2", "roc_broker": None, "timeout": 5.0,
        "max_rentals": None,
        "sim_delay": 0.0, "require_devices": False, "keep": False, "teardown_grace": 0.5,
    }
    base.update(overrides)
    return RoboSettings(**base)


class Names:
    def __init__(self) -> None:
        self._n = itertools.count(1)
        self.measurements: list[Any] = []

    def new(self, hint: str) -> str:
        return f"robo-run-main-{next(self._n)}-{hint}"


@dataclass
class FakeRecorder:
    names: Names = field(default_factory=Names)
    metadata: dict[str, Any] = field(default_factory=dict)


class FakeScope:
    def __init__(self, provisions: bool = True) -> None:
        self.recorder = FakeRecorder()
        self.provisions = provisions
        self._clock = VirtualClock()

    @property
    def clock(self) -> VirtualClock:
        return self._clock

    def credentials(self) -> Credentials:
        return Credentials("http://rio", "http://rio", "http://rr", secret=lambda name: "t")

    def roc_endpoints(self, base_port: int | None, teardown: Any) -> Any:
        raise NotImplementedError


class FakeContext:
    def __init__(self, tmp: Path, **overrides: Any) -> None:
        self.settings = settings(tmp, **overrides)
        self.run_id = "run1"
        self.worker = "main"
        self.journal = Journal(self.settings.journal_dir, self.run_id, self.worker)
        self.stats = RunStats()
        self.hooks = NoHooks()
        self.progress_lines: list[str] = []
        self._n = itertools.count(1)

    def progress(self, resource: str, what: str, elapsed: float) -> None:
        self.progress_lines.append(f"{resource}: {what}")

    def rental_slot(self, clock: Any, timeout: float) -> Any:
        raise NotImplementedError

    def next_name_number(self) -> int:
        return next(self._n)

    def record_measurement(self, nodeid: str, measurement: Any) -> None:
        self.measurements.append((nodeid, measurement))
