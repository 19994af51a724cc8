"""Per-process state of a run: mode, endpoints, sandbox, journal, rentals, counters.

One :class:`RoboSession` lives in ``config.stash`` of each pytest process (the controller and
each xdist worker). It hands each test a :class:`~pytest_robofixtures.factory.Robo`.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .common.clock import Clock, VirtualClock
from .factory import Robo
from .journal import Journal
from .report import RunStats, TestRecord
from .settings import REPLAY, SIM, RoboSettings, credential

# Placeholders used in replay: the recordings hold no credentials.
REPLAY_TOKEN = "replay-token"


class RentalSlot:
    """One of ``--robo-max-rentals`` slots, held (as a file lock) while a workspace is rented."""

    def __init__(self, lock: Any = None) -> None:
        self._lock = lock

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


class RoboSession:
    """State shared by the tests of one pytest process."""

    def __init__(self, config: pytest.Config, settings: RoboSettings) -> None:
        self.config = config
        self.settings = settings
        workerinput = getattr(config, "workerinput", None) or {}
        self.worker = str(workerinput.get("workerid", "main"))
        self.run_id = str(workerinput.get("robo_run_id") or workerinput.get("testrunuid", "")
                          or os.environ.get("ROBO_RUN_ID") or uuid.uuid4().hex)[:10]
        self.journal = Journal(settings.journal_dir, self.run_id, self.worker)
        self.stats = RunStats()
        self.records: dict[str, TestRecord] = {}
        self._sandbox: Any = None
        self.current_robo: Robo | None = None  # the Robo of the test running now
        self._shared: dict[str, tuple[Robo, Any, Any]] = {}

    # -- journal -------------------------------------------------------------------------------
    def journal_created(self, kind: str, ident: str, *, name: str, endpoint: str) -> None:
        if self.settings.mode != REPLAY:
            self.journal.created(kind, ident, name=name, endpoint=endpoint,
                                 sandbox=self.settings.mode == SIM)

    def journal_deleted(self, kind: str, ident: str) -> None:
        if self.settings.mode != REPLAY:
            self.journal.deleted(kind, ident)

    # -- sandbox -------------------------------------------------------------------------------
    @property
    def sandbox(self) -> Any:
        """The embedded sandbox of this process (``--robo-sim``), started on first use."""
        if self._sandbox is None:
            from .sim.sandbox import Sandbox

            self._sandbox = Sandbox(delay=self.settings.sim_delay).start()
        return self._sandbox

    def close(self) -> None:
        """Tear down shared resources, then stop the sandbox and count what it still holds."""
        self.close_shared()
        if self._sandbox is not None:
            kept_ids = {line.split()[1] for line in self.stats.kept if len(line.split()) > 1}
            self.stats.leaked.extend(f"sandbox: {line}" for line in self._sandbox.leaked()
                                     if line.split()[-1] not in kept_ids)
            self._sandbox.stop()
            self._sandbox = None

    # -- endpoints and credentials -------------------------------------------------------------
    def endpoints(self, recorder: Any) -> dict[str, dict[str, Any]]:
        """Where each service is, and the credentials to use, in this mode."""
        mode = self.settings.mode
        if mode == REPLAY:
            flat = recorder.endpoints
            return {
                "rapyuta": {
                    "catalog_host": flat.get("rapyuta_catalog", self.settings.rapyuta_catalog_url),
                    "core_api_host": flat.get("rapyuta_core", self.settings.rapyuta_core_url),
                    "auth_token": REPLAY_TOKEN, "project": REPLAY_TOKEN,
                },
                "rerobots": {"base_uri": flat.get("rerobots", self.settings.rerobots_url),
                             "api_token": REPLAY_TOKEN},
            }
        if mode == SIM:
            info = self.sandbox.describe()
            return {"rapyuta": info["rapyuta"], "rerobots": info["rerobots"]}
        return {
            "rapyuta": _Lazy({
                "catalog_host": self.settings.rapyuta_catalog_url,
                "core_api_host": self.settings.rapyuta_core_url,
            }, {"auth_token": "RIO_AUTH_TOKEN", "project": "RIO_PROJECT"}),
            "rerobots": _Lazy({"base_uri": self.settings.rerobots_url},
                              {"api_token": "REROBOTS_API_TOKEN"}),
        }

    def public_endpoints(self) -> dict[str, str]:
        """Service URLs without credentials, as written into recordings."""
        if self.settings.mode == SIM:
            info = self.sandbox.describe()
            return {
                "rapyuta_catalog": info["rapyuta"]["catalog_host"],
                "rapyuta_core": info["rapyuta"]["core_api_host"],
                "rerobots": info["rerobots"]["base_uri"],
            }
        return {
            "rapyuta_catalog": self.settings.rapyuta_catalog_url,
            "rapyuta_core": self.settings.rapyuta_core_url,
            "rerobots": self.settings.rerobots_url,
        }

    def roc_endpoints(self, robo: Robo, base_port: int | None) -> Any:
        """Broker endpoints for a test: --roc-broker, the recording, the sandbox, or a new one."""
        from .roc import Endpoints, RocBroker

        if self.settings.roc_broker:
            host, _, port = self.settings.roc_broker.partition(":")
            return Endpoints(host, int(port) if port else (base_port or 5555))
        if self.settings.mode == REPLAY:
            flat = robo.recorder.endpoints
            return Endpoints(flat.get("roc_address", "127.0.0.1"),
                             int(flat.get("roc_base_port", 5555)))
        if self.settings.mode == SIM and base_port is None:
            endpoints = self.sandbox.roc_endpoints
        else:
            endpoints = (Endpoints("127.0.0.1", base_port) if base_port
                         else Endpoints.free("127.0.0.1"))
            broker = RocBroker(endpoints).start()
            robo.teardown.push("roc broker", broker.stop)
        robo.recorder.set_endpoint("roc_address", str(endpoints.brokerAddress))
        robo.recorder.set_endpoint("roc_base_port", str(endpoints.brokerBasePort))
        return endpoints

    # -- resources shared by the tests of this process ----------------------------------------
    def shared_instance(self, robo: Robo, kwargs: dict[str, Any]) -> Any:
        """A rerobots instance shared by every test of this worker that asks for ``kwargs``.

        Its provisioning and teardown go to a recording of their own, one per configuration and
        worker; each test's recording notes which one it used, so a replay (with any number of
        workers) brings back the very instance the test talked to.
        """
        import hashlib
        import json

        from .recording import RecordingMismatch
        from .recording_support import open_scope_recorder

        key = json.dumps(kwargs, sort_keys=True, default=str)
        digest = hashlib.sha1(key.encode()).hexdigest()[:10]
        used = robo.recorder.metadata.setdefault("shared", {})
        if self.settings.mode == REPLAY:
            scope = used.get(digest)
            if scope is None:
                raise RecordingMismatch(
                    robo.recorder.path, "shared resource", f"shared rerobots instance {key}",
                    None, ["the recording used no shared instance with this configuration"],
                    f"pytest '{robo.nodeid}' --robo-sim (or --robo-live)",
                )
        else:
            scope = used[digest] = f"rerobots_instance-{digest}-{self.worker}"
        if scope not in self._shared:
            recorder = open_scope_recorder(self, scope)
            owner = Robo(self, f"@session/{scope}", recorder, TestRecord(scope), recorder.clock)
            with recorder.active():
                instance = owner.rerobots_instance(**kwargs)
            self._shared[scope] = (owner, recorder, instance)
        return self._shared[scope][2]

    def close_shared(self) -> None:
        """Terminate the shared resources and write their recordings."""
        while self._shared:
            _key, (owner, recorder, _instance) = self._shared.popitem()
            try:
                with recorder.active():
                    owner.close()
            finally:
                recorder.close()

    # -- rentals across xdist workers ----------------------------------------------------------
    def rental_slot(self, clock: Clock, timeout: float) -> RentalSlot:
        """Wait for one of ``--robo-max-rentals`` slots (shared by all workers via file locks)."""
        limit = self.settings.max_rentals
        if not limit or self.settings.mode == REPLAY:
            return RentalSlot()
        from filelock import FileLock, Timeout

        folder = Path(self.settings.journal_dir) / "rentals"
        folder.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        while True:
            for slot in range(limit):
                lock = FileLock(str(folder / f"slot-{slot}.lock"))
                try:
                    lock.acquire(timeout=0)
                except Timeout:
                    continue
                return RentalSlot(lock)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no rental slot free after {timeout:.0f}s: all {limit} "
                    "(--robo-max-rentals) are held by other workers"
                )
            time.sleep(0.05)

    # -- live progress -------------------------------------------------------------------------
    def progress(self, resource: str, what: str, elapsed: float) -> None:
        """Show state changes of long waits in the terminal (main process only)."""
        after = self.settings.progress_after
        if self.worker != "main" or elapsed < after or self.settings.mode == REPLAY:
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        ctx = (capture.global_and_fixture_disabled() if capture is not None
               else contextlib.nullcontext())
        with ctx:
            reporter.write_line(f"robo: {resource}: {what} ({elapsed:.1f}s)")

    # -- one test ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def test(self, item: pytest.Item) -> Iterator[Robo]:
        """Open the test's recording, the right clock and guards; yield its Robo; tear down."""
        from .recording_support import open_recorder

        record = TestRecord(item.nodeid)
        self.records[item.nodeid] = record
        recorder = open_recorder(self, item)
        record.recording = recorder.path
        record.scrub = recorder.scrubber.text
        clock: Clock = recorder.clock
        robo = Robo(self, item.nodeid, recorder, record, clock)
        failures: list[tuple[str, BaseException]] = []
        try:
            with recorder.active():
                self.current_robo = robo
                try:
                    yield robo
                finally:
                    failures = robo.close()
                    self.current_robo = None
        finally:
            # A missing credential is a configuration error, not a test outcome: keep the old
            # recording rather than overwrite it with an empty one.
            recorder.close(discard=robo.config_error)
            if isinstance(clock, VirtualClock):
                record.event(robo._elapsed(), "replay clock",
                             f"skipped {clock.slept:.1f}s of waiting")
        if failures:
            what, exc = failures[0]
            raise RuntimeError(
                f"teardown failed for {len(failures)} resource(s); first: {what}: {exc}. "
                f"Run `robofixtures reap --journal-dir {self.settings.journal_dir}` to delete "
                "what is left."
            ) from exc


class _Lazy(dict):
    """Endpoint info whose credentials are read from the environment when first needed."""

    def __init__(self, data: dict[str, Any], env: dict[str, str]) -> None:
        super().__init__(data)
        self._env = env

    def __getitem__(self, key: str) -> Any:
        if key in self._env:
            return credential(self._env[key])
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._env:
            return self[key]
        return super().get(key, default)


__all__ = ["RoboSession", "RentalSlot"]
