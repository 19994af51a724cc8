"""Run modes as objects: replay, live and sim.

A :class:`Mode` owns what differs between them: where the services are and which credentials
to use, how each test's recording is opened (replayed, recorded, or run live without writing,
per ``--robo-record-mode``), the ROC broker, and the network guard. The rest of the plugin calls
the mode and never asks which one it is.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .common.clock import Clock, VirtualClock
from .common.polling import Backoff, PollPolicy
from .context import Credentials
from .recording import (
    RECORDING_FILE,
    Bundle,
    Recorder,
    RecordingError,
    Scrubber,
    network_guard,
    recording_path,
)
from .recording.config import RecordingConfig
from .settings import MissingCredential, RecordMode, RoboSettings, Target, credential

if TYPE_CHECKING:
    from .roc import Endpoints
    from .teardown import Teardown

#: Placeholder credential used in replay: recordings hold no credentials.
REPLAY_TOKEN = "replay-token"
#: Credentials scrubbed wherever they appear (live values are read from the environment).
CREDENTIAL_VARS = ("RIO_AUTH_TOKEN", "RIO_PROJECT", "REROBOTS_API_TOKEN")


@dataclass
class RecordingOptions:
    """Per-test recording configuration: the ``robo_config`` fixture's, and where to record."""

    config: RecordingConfig = field(default_factory=RecordingConfig)
    #: the root recordings live under (default: --robo-cassette-dir)
    cassette_dir: Path | None = None


class Outcome:
    """How a scope ended, which decides what happens to its new recording."""

    OK = "ok"  # passed, or failed on the test's own assertion: the recording is faithful
    FAILED_ATTEMPT = "failed-attempt"  # setup error, infra error, interrupt: keep the old one
    CONFIG_ERROR = "config-error"  # e.g. a missing credential: write nothing at all


class ModeScope(ABC):
    """One test's (or one shared scope's) view of the mode; see :class:`~.context.Scope`."""

    provisions: bool

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.ready_hints: dict[str, float] = {}

    @property
    def clock(self) -> Clock:
        """The recorder's clock: virtual in replay, real otherwise."""
        return self.recorder.clock

    @abstractmethod
    def credentials(self) -> Credentials:
        """Endpoints and credentials of the services in this scope."""

    @abstractmethod
    def roc_endpoints(self, base_port: int | None, teardown: Teardown) -> Endpoints:
        """The ROC broker of this scope."""

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Recording, clock and guard for the duration of the scope."""
        with self.recorder.active():
            yield

    @abstractmethod
    def close(self, outcome: str) -> ScopeResult:
        """Finish the recording according to ``outcome``."""


@dataclass
class ScopeResult:
    """What closing a scope did to its recording."""

    path: Path
    written: Path | None = None
    unused: list[str] = field(default_factory=list)
    skipped_waiting: float = 0.0
    note: str = ""
    #: --robo-drift: how the live answers differ from the recording (one line each)
    drift: list[str] = field(default_factory=list)
    drift_checked: bool = False


class ReplayScope(ModeScope):
    """Everything comes from the recording; nothing leaves the machine."""

    provisions = False

    def __init__(self, recorder: Recorder, settings: RoboSettings,
                 allowed_hosts: list[str]) -> None:
        super().__init__(recorder)
        self.settings = settings
        self.allowed_hosts = allowed_hosts

    def credentials(self) -> Credentials:
        flat = self.recorder.endpoints
        return Credentials(
            rapyuta_catalog=flat.get("rapyuta_catalog", self.settings.rapyuta_catalog_url),
            rapyuta_core=flat.get("rapyuta_core", self.settings.rapyuta_core_url),
            rerobots=flat.get("rerobots", self.settings.rerobots_url),
            secret=lambda name: REPLAY_TOKEN,
        )

    def roc_endpoints(self, base_port: int | None, teardown: Teardown) -> Endpoints:
        from .roc import Endpoints

        flat = self.recorder.endpoints
        return Endpoints(flat.get("roc_address", "127.0.0.1"),
                         int(flat.get("roc_base_port", base_port or 5555)))

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        with self.recorder.active(allowed_hosts=self.allowed_hosts):
            yield

    def close(self, outcome: str) -> ScopeResult:
        report = self.recorder.close()
        clock = self.recorder.clock
        slept = clock.slept if isinstance(clock, VirtualClock) else 0.0
        return ScopeResult(report.path, None, list(report.unused), slept)


class LiveScope(ModeScope):
    """Resources are really created; the recording is written (or not) at the end."""

    provisions = True

    def __init__(self, recorder: Recorder, mode: LiveMode, write: bool,
                 config: RecordingConfig | None = None, drift: bool = False) -> None:
        super().__init__(recorder)
        self.mode = mode
        self.write = write
        self.config = config or RecordingConfig()
        self.drift = drift
        for name, url in mode.public_endpoints().items():
            recorder.set_endpoint(name, url)
        # Read before anything is written: this run may replace the recording.
        self.ready_hints = read_ready_hints(recorder.path)

    def credentials(self) -> Credentials:
        return self.mode.credentials()

    def roc_endpoints(self, base_port: int | None, teardown: Teardown) -> Endpoints:
        endpoints = self.mode.roc_endpoints(base_port, teardown)
        self.recorder.set_endpoint("roc_address", str(endpoints.brokerAddress))
        self.recorder.set_endpoint("roc_base_port", str(endpoints.brokerBasePort))
        return endpoints

    def close(self, outcome: str) -> ScopeResult:
        path = self.recorder.path
        if self.drift and outcome == Outcome.OK and path.is_file():
            from .recording.drift import compare_bundle

            findings = compare_bundle(self.recorder.bundle, path.parent, self.recorder.scrubber,
                                      config=self.config)
            self.recorder.close(discard=True)
            return ScopeResult(path, drift=[str(f) for f in findings], drift_checked=True)
        if not self.write or outcome == Outcome.CONFIG_ERROR:
            self.recorder.close(discard=True)
            return ScopeResult(path)
        if outcome == Outcome.FAILED_ATTEMPT:
            # A failed attempt never becomes the recording: replay must not replay a flaky
            # service, and --robo-record-mode=once must try such a test again.
            kept = path.is_file()
            written = save_failed_attempt(self.recorder)
            what = (f"the previous recording {path.name} was kept" if kept
                    else "no recording was written")
            return ScopeResult(path, written, note=f"{what}; this failed attempt is in {written}")
        report = self.recorder.close()
        return ScopeResult(path, report.path if report.written else None)



def read_ready_hints(path: Path) -> dict[str, float]:
    """How long each wait took when the recording at ``path`` was made ({} if unknown).

    Only a hint: a missing, old or unreadable recording gives none, never an error.
    """
    if not path.is_file():
        return {}
    try:
        ready = Bundle.load(path.parent, "").clock.get("ready")
    except RecordingError:
        return {}
    if not isinstance(ready, dict):
        return {}
    return {str(k): float(v) for k, v in ready.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            and v > 0}


def save_failed_attempt(recorder: Recorder) -> Path:
    """Write a failed attempt beside the good recording, which stays byte-identical."""
    recorder.close(discard=True)  # the recorder is done; the attempt is saved aside instead
    return recorder.bundle.save(recorder.scrubber, failed=True)


class Mode(ABC):
    """What differs between replay, live and sim."""

    #: shown in the summary, the report and written into recordings' metadata
    label: str
    #: True when the run talks to services (journal, teardown timeouts, SIGTERM handling)
    live: bool
    #: True when the services are the embedded sandbox (its tokens are not secrets)
    sandboxed: bool = False

    def __init__(self, settings: RoboSettings, run_id: str, worker: str) -> None:
        self.settings = settings
        self.run_id = run_id
        self.worker = worker
        # id(test's config) -> (that config, merged): most tests share one config object
        self._merged: dict[int, tuple[RecordingConfig, RecordingConfig]] = {}
        self._scrubbers: dict[tuple[int, tuple[str, ...]], tuple[RecordingConfig, Scrubber]] = {}

    # -- recordings ----------------------------------------------------------------------------
    def config(self, options: RecordingOptions) -> RecordingConfig:
        """The test's recording config plus the ini keys' scrub rules."""
        cached = self._merged.get(id(options.config))
        if cached is not None and cached[0] is options.config:
            return cached[1]
        merged = options.config.merged({"scrub_fields": self.settings.scrub_fields,
                                        "scrub_patterns": self.settings.scrub_patterns})
        if len(self._merged) >= 1024:  # a fixture making a new config per test: stay bounded
            self._merged.clear()
        self._merged[id(options.config)] = (options.config, merged)
        return merged

    def scrubber(self, options: RecordingOptions) -> Scrubber:
        """The default scrubber plus the user's additions and the run's known secrets."""
        from .sim.tokens import RAPYUTA_PROJECT, RAPYUTA_TOKEN, REROBOTS_TOKEN

        secrets = [os.environ.get(name, "") for name in CREDENTIAL_VARS]
        # The sandbox's and replay's tokens are not secret, but scrubbing them the same way
        # keeps recordings identical whichever mode made them, and replay matching symmetric.
        secrets += [RAPYUTA_TOKEN, RAPYUTA_PROJECT, REROBOTS_TOKEN, REPLAY_TOKEN]
        config = self.config(options)
        known = tuple(s for s in secrets if s)
        # by identity: a config may hold hooks that cannot be hashed
        cached = self._scrubbers.get((id(config), known))
        if cached is None or cached[0] is not config:
            if len(self._scrubbers) >= 64:
                self._scrubbers.clear()
            cached = self._scrubbers[(id(config), known)] = (config,
                                                             config.scrubber(secrets=known))
        return cached[1].copy()  # each scope learns its own secrets

    def rerecord_command(self, nodeid: str) -> str:
        """How to record ``nodeid`` again (shown in replay errors)."""
        return f"pytest '{nodeid}' --robo-sim (or --robo-live)"

    def open_test(self, nodeid: str, options: RecordingOptions) -> ModeScope:
        """The scope of one test."""
        root = options.cassette_dir or self.settings.cassette_dir
        return self._open(recording_path(root, nodeid),
                          self.rerecord_command(nodeid), {"nodeid": nodeid}, options)

    def open_shared(self, scope_name: str, options: RecordingOptions) -> ModeScope:
        """The scope of a resource shared across tests (``cassettes/@session/@<scope>/``)."""
        return self._open(recording_path(self.settings.cassette_dir, "", scope_name=scope_name),
                          f"pytest --robo-sim (or --robo-live) the tests sharing {scope_name}",
                          {"scope": scope_name}, options)

    @abstractmethod
    def _open(self, path: Path, command: str, metadata: dict[str, Any],
              options: RecordingOptions) -> ModeScope:
        """Open a recording at ``path`` the way this mode does."""

    def _replay(self, path: Path, command: str, options: RecordingOptions) -> ReplayScope:
        recorder = Recorder.open(path, "replay", command, self.scrubber(options),
                                 run_id=self.run_id, worker=self.worker)
        config = self.config(options)
        config.configure(recorder.normalizer)
        hosts = [*self.settings.allow_hosts, *config.allowed_hosts]
        return ReplayScope(recorder, self.settings, hosts)

    # -- run-wide ------------------------------------------------------------------------------
    def poll_policy(self) -> PollPolicy:
        """How clients poll when a wait gives no schedule: densely (replayed answers are free)."""
        return Backoff.dense

    def run_guard(self) -> contextlib.AbstractContextManager[None]:
        """A guard around the whole run (``--robo-block-network`` in replay); else nothing."""
        return contextlib.nullcontext()

    def close(self) -> list[str]:
        """Stop what the mode started; return lines describing what was left behind."""
        return []

    def describe_shared(self) -> dict[str, Any] | None:
        """What xdist workers need to share this mode's services (the controller's sandbox)."""
        return None


class ReplayMode(Mode):
    """Replay every recording; no network at all."""

    label = "replay"
    live = False

    def _open(self, path: Path, command: str, metadata: dict[str, Any],
              options: RecordingOptions) -> ModeScope:
        return self._replay(path, command, options)

    def run_guard(self) -> contextlib.AbstractContextManager[None]:
        if not self.settings.block_network:
            return contextlib.nullcontext()
        return network_guard(self.settings.allow_hosts)


class LiveMode(Mode):
    """The real services, credentials from the environment."""

    label = "live"
    live = True
    flag = "--robo-live"

    def rerecord_command(self, nodeid: str) -> str:
        return f"pytest '{nodeid}' {self.flag}"

    def poll_policy(self) -> PollPolicy:
        """A real service is polled no harder than its SDK polls it (plus hints, see Robo)."""
        return Backoff.for_interval

    def _open(self, path: Path, command: str, metadata: dict[str, Any],
              options: RecordingOptions) -> ModeScope:
        record_mode = self.settings.record_mode
        if record_mode is RecordMode.ONCE and (path / RECORDING_FILE).is_file():
            return self._replay(path, command, options)
        recorder = Recorder.open(
            path, "record", command, self.scrubber(options),
            metadata={**metadata, "mode": self.label, "plugin": __version__},
            run_id=self.run_id, worker=self.worker,
        )
        config = self.config(options)
        config.configure(recorder.normalizer)
        return LiveScope(recorder, self, write=record_mode is not RecordMode.NONE,
                         config=config, drift=bool(self.settings.drift))

    def public_endpoints(self) -> dict[str, str]:
        """Service URLs without credentials, as written into recordings."""
        creds = self.credentials()
        return {"rapyuta_catalog": creds.rapyuta_catalog, "rapyuta_core": creds.rapyuta_core,
                "rerobots": creds.rerobots}

    def credentials(self) -> Credentials:
        """The configured URLs; credentials read from the environment when first needed."""
        s = self.settings
        return Credentials(s.rapyuta_catalog_url, s.rapyuta_core_url, s.rerobots_url,
                           secret=credential)

    def roc_endpoints(self, base_port: int | None, teardown: Teardown) -> Endpoints:
        """``--roc-broker``, or a broker started for this scope on free ports."""
        from .roc import Endpoints, RocBroker
        from .roc.server.broker import start_broker

        if self.settings.roc_broker:
            host, _, port = self.settings.roc_broker.partition(":")
            return Endpoints(host, int(port) if port else (base_port or 5555))
        # start_broker picks free ports and retries if another process took them meanwhile.
        broker = (RocBroker(Endpoints("127.0.0.1", base_port)).start() if base_port
                  else start_broker("127.0.0.1"))
        teardown.push("roc broker", broker.stop)
        return broker.endpoints


class SimMode(LiveMode):
    """Live mode against the embedded sandbox: this process's own, or the xdist controller's."""

    label = "sim"
    flag = "--robo-sim"
    sandboxed = True

    def poll_policy(self) -> PollPolicy:
        """The embedded sandbox answers on loopback for free: poll it densely."""
        return Backoff.dense

    def __init__(self, settings: RoboSettings, run_id: str, worker: str,
                 shared: dict[str, Any] | None = None,
                 start_sandbox: Callable[[], Any] | None = None) -> None:
        super().__init__(settings, run_id, worker)
        self._shared = shared  # describe() of a sandbox started by the xdist controller
        self._start_sandbox = start_sandbox
        self._sandbox: Any = None

    @property
    def sandbox(self) -> Any:
        """The process's own sandbox, started on first use (None when the controller's is used)."""
        if self._sandbox is None and self._shared is None:
            if self._start_sandbox is not None:
                self._sandbox = self._start_sandbox()
            else:
                from .sim.sandbox import Sandbox

                self._sandbox = Sandbox(delay=self.settings.sim_delay,
                                        seed=self.settings.sim_seed).start()
            # The sandbox's own logs reach the test as its ROC log; keep them out of pytest's
            # "Captured log" sections, which would show them twice.
            logging.getLogger("pytest_robofixtures.sim").propagate = False
        return self._sandbox

    def _info(self) -> dict[str, Any]:
        return self._shared if self._shared is not None else dict(self.sandbox.describe())

    def credentials(self) -> Credentials:
        info = self._info()
        rio, rr = info["rapyuta"], info["rerobots"]
        secrets = {"RIO_AUTH_TOKEN": rio["auth_token"], "RIO_PROJECT": rio["project"],
                   "REROBOTS_API_TOKEN": rr["api_token"]}
        return Credentials(rio["catalog_host"], rio["core_api_host"], rr["base_uri"],
                           secret=lambda name: secrets[name])

    def roc_endpoints(self, base_port: int | None, teardown: Teardown) -> Endpoints:
        from .roc import Endpoints

        roc = self._info().get("roc")
        if self.settings.roc_broker or base_port is not None or not roc:
            return super().roc_endpoints(base_port, teardown)
        return Endpoints(roc["address"], int(roc["base_port"]))

    def describe_shared(self) -> dict[str, Any] | None:
        return self._info()

    def close(self) -> list[str]:
        if self._sandbox is None:
            return []
        try:
            return [f"sandbox: {line}" for line in self._sandbox.leaked()]
        finally:
            self._sandbox.stop()
            self._sandbox = None


def make_mode(settings: RoboSettings, run_id: str, worker: str,
              shared: dict[str, Any] | None = None) -> Mode:
    """The mode object for the parsed options (the only place the target is looked at)."""
    modes: dict[Target, Callable[[], Mode]] = {
        Target.REPLAY: lambda: ReplayMode(settings, run_id, worker),
        Target.LIVE: lambda: LiveMode(settings, run_id, worker),
        Target.SIM: lambda: SimMode(settings, run_id, worker, shared=shared),
    }
    return modes[settings.target]()


__all__ = ["REPLAY_TOKEN", "LiveMode", "LiveScope", "MissingCredential", "Mode", "ModeScope",
           "Outcome", "RecordingOptions", "ReplayMode", "ReplayScope", "ScopeResult", "SimMode",
           "make_mode"]
