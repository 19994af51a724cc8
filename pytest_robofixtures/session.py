"""Per-process state of a run: the mode, journal, rentals, counters and live progress.

One :class:`RoboSession` lives in ``config.stash`` of each pytest process (the controller and
each xdist worker). It is the :class:`~.context.RunContext` the ``robo`` factory runs in; it
knows nothing of the factory or of resource kinds.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from .common.clock import Clock
from .context import Hooks
from .journal import Journal
from .modes import Mode, make_mode
from .report import RunStats, TestRecord
from .settings import RoboSettings


class HeldRental:
    """One of ``--robo-max-rentals`` slots, held (as a file lock) while a workspace is rented."""

    def __init__(self, lock: Any = None) -> None:
        self._lock = lock

    def release(self) -> None:
        """Give the slot back (idempotent)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None


class PluginHooks:
    """The ``pytest_robofixtures_*`` hooks of :mod:`.hookspecs`, as the factory calls them."""

    def __init__(self, config: pytest.Config) -> None:
        self._hook = config.hook

    def resource_created(self, nodeid: str, kind: str, name: str, ident: str) -> None:
        self._hook.pytest_robofixtures_resource_created(nodeid=nodeid, kind=kind, name=name,
                                                        ident=ident)

    def resource_deleted(self, nodeid: str, kind: str, name: str, ident: str) -> None:
        self._hook.pytest_robofixtures_resource_deleted(nodeid=nodeid, kind=kind, name=name,
                                                        ident=ident)


class RoboSession:
    """State shared by the tests of one pytest process."""

    def __init__(self, config: pytest.Config, settings: RoboSettings) -> None:
        self.config = config
        self.settings = settings
        workerinput = getattr(config, "workerinput", None) or {}
        self.worker = str(workerinput.get("workerid", "main"))
        self.run_id = str(workerinput.get("robo_run_id") or workerinput.get("testrunuid", "")
                          or os.environ.get("ROBO_RUN_ID") or uuid.uuid4().hex)[:10]
        self.mode: Mode = make_mode(settings, self.run_id, self.worker,
                                    shared=workerinput.get("robo_sandbox"))
        self.journal = Journal(settings.journal_dir, self.run_id, self.worker,
                               sandbox=self.mode.sandboxed)
        self.stats = RunStats()
        self.records: dict[str, TestRecord] = {}
        self.hooks: Hooks = PluginHooks(config)
        self._numbers = itertools.count(1)
        self._numbers_lock = threading.Lock()
        self._closed = False
        self._measurements: Any = None

    @property
    def sandbox(self) -> Any:
        """The embedded sandbox of this process (``--robo-sim``), started on first use."""
        return getattr(self.mode, "sandbox", None)

    def record_measurement(self, nodeid: str, measurement: Any) -> None:
        """Add a row to this process's part of the run-wide measurement files."""
        from .reporting.measurements import MeasurementLog

        if self._measurements is None:
            self._measurements = MeasurementLog(self.settings.artifacts_dir, self.worker)
        self._measurements.add(nodeid, measurement)

    def next_name_number(self) -> int:
        """A counter over the whole process: names never repeat across its tests."""
        with self._numbers_lock:
            return next(self._numbers)

    def close(self) -> None:
        """Stop what the mode started and count what its services still hold (idempotent)."""
        if self._closed:
            return
        self._closed = True
        kept_ids = {line.split()[1] for line in self.stats.kept if len(line.split()) > 1}
        self.stats.leaked.extend(line for line in self.mode.close()
                                 if line.split()[-1] not in kept_ids)

    # -- rentals across xdist workers ----------------------------------------------------------
    def rental_slot(self, clock: Clock, timeout: float) -> HeldRental:
        """Wait for one of ``--robo-max-rentals`` slots (shared by all workers via file locks).

        Waits on ``clock``, like every other wait.
        """
        limit = self.settings.max_rentals
        if not limit:
            return HeldRental()
        from filelock import FileLock, Timeout

        from .common.polling import PollTimeout, poll

        folder = Path(self.settings.journal_dir) / "rentals"
        folder.mkdir(parents=True, exist_ok=True)

        def try_slots() -> HeldRental | None:
            for slot in range(limit):
                lock = FileLock(str(folder / f"slot-{slot}.lock"))
                try:
                    lock.acquire(timeout=0)
                except Timeout:
                    continue
                return HeldRental(lock)
            return None

        try:
            held = poll(try_slots, lambda slot: slot is not None, timeout=timeout,
                        what="a free rental slot", describe=lambda s: "held" if s else "all busy",
                        clock=clock).value
        except PollTimeout:
            from .errors import RentalUnavailable

            raise RentalUnavailable(
                f"no rental slot free after {timeout:.0f}s: all {limit} "
                "(--robo-max-rentals) are held by other workers"
            ) from None
        assert held is not None
        return held

    # -- live progress -------------------------------------------------------------------------
    @property
    def progress_file(self) -> Path:
        """Where xdist workers append their progress lines for the main process to show."""
        return Path(self.settings.journal_dir) / "progress" / f"{self.run_id}.log"

    def progress(self, resource: str, what: str, elapsed: float) -> None:
        """Show state changes of long waits in the terminal (a worker's go via the main one)."""
        if elapsed < self.settings.progress_after:
            return
        line = f"robo: {resource}: {what} ({elapsed:.1f}s)"
        if self.worker != "main":
            line = f"[{self.worker}] {line}"
            path = self.progress_file
            with self._numbers_lock:
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
            return
        self.show_progress(line)

    def show_progress(self, line: str) -> None:
        """Write one progress line to this process's terminal (outside output capture)."""
        self.config.hook.pytest_robofixtures_progress(worker=self.worker, line=line)
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        ctx = (capture.global_and_fixture_disabled() if capture is not None
               else contextlib.nullcontext())
        with ctx:
            reporter.write_line(line)


__all__ = ["HeldRental", "PluginHooks", "RoboSession"]
