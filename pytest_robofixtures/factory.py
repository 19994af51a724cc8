"""The ``robo`` factory: provisions any number of resources inside one test.

The named fixtures (``routed_network``, ``deployed_package``...) are sugar over it: each is a
:class:`~.kinds.base.Kind` of the registry. The factory depends on a narrow
:class:`~.context.RunContext` and on the test's :class:`~.context.Scope`, never on the session
or on which mode is running.

Intent before action: :meth:`Robo.create` journals a resource's unique name before its create
request is sent, registers its teardown the moment the service's reply gives an id, and, when
the create's outcome is unknown (a lost reply, a timeout, a 5xx), looks the name up on the
service and adopts what it finds instead of sending the create again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from .common.clock import Clock
from .common.http import outcome_unknown as request_outcome_unknown
from .context import RunContext, Scope
from .kinds.base import Kind, Registry, ResourceType
from .report import TestRecord, artifact_dir
from .settings import MissingCredential, RoboSettings
from .teardown import Teardown, TeardownFailure

if TYPE_CHECKING:
    from .kinds.rosbag import RosbagRecording
    from .rapyuta import Client, Deployment, Device, NativeNetwork, RoutedNetwork, VolumeInstance
    from .rerobots import APIClient, Instance
    from .roc import Endpoints
    from .roc_support import RocObjectHandle

R = TypeVar("R")

#: How often a create whose outcome is unknown is tried again after the name was not found.
CREATE_ATTEMPTS = 3


def outcome_unknown(exc: BaseException) -> bool:
    """Whether a failed create may still have been carried out by the service.

    No HTTP answer at all (timeout, reset, lost reply) or a 500/502/504: unknown. A 4xx, a 429
    or a 503 (the request was refused, not processed) and our own argument errors: known.
    """
    current: BaseException | None = exc
    for _ in range(10):
        if current is None:
            return False
        status = getattr(current, "status_code", None) or getattr(current, "status", None)
        if isinstance(status, int):
            return status in (500, 502, 504)
        if request_outcome_unknown(current):
            return True
        if type(current).__name__ in ("APIConnectionError", "RequestTimeout",
                                      "ConnectionResetError", "RemoteDisconnected"):
            return True
        if isinstance(current, (ValueError, TypeError, LookupError)):
            return False
        current = current.__cause__ or current.__context__
    return False


class Robo:
    """Provision rapyuta.io, rerobots and ROC resources for one test; tear them all down."""

    def __init__(self, ctx: RunContext, scope: Scope, nodeid: str, record: TestRecord,
                 registry: Registry) -> None:
        self.ctx = ctx
        self.scope = scope
        self.settings: RoboSettings = ctx.settings
        self.nodeid = nodeid
        self.record = record
        self.registry = registry
        self.teardown = Teardown(grace=ctx.settings.teardown_grace)
        self._start = self.clock.monotonic()
        self._rapyuta: Client | None = None
        self._rerobots: APIClient | None = None
        self._roc_endpoints: Endpoints | None = None
        self._frames = 0
        self.routed_networks: list[RoutedNetwork] = []
        self.devices: list[Device] = []
        self.config_error = False  # set when a credential was missing
        #: the Robo of the test using this (shared) Robo's resources right now
        self.delegate: Robo | None = None
        #: the client objects of the resources created here, by id (teardown uses them)
        self.handles: dict[str, Any] = {}
        self._wait_counts: dict[str, int] = {}  # waits so far per kind (the hints' keys)

    # -- bookkeeping ---------------------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        """The scope's clock (virtual in replay): every wait goes through it."""
        return self.scope.clock

    @property
    def recorder(self) -> Any:
        """The scope's recorder."""
        return self.scope.recorder

    @property
    def current(self) -> Robo:
        """The Robo whose test uses this one's resources now (itself unless shared)."""
        return self.delegate.current if self.delegate is not None else self

    def elapsed(self) -> float:
        """Seconds since this test's fixtures started."""
        return self.clock.monotonic() - self._start

    def event(self, resource: str, what: str) -> None:
        """Put a step into the test's timeline (and the terminal, for long live waits)."""
        self.record.event(self.elapsed(), resource, what)
        if self.scope.provisions:
            self.ctx.progress(resource, what, self.elapsed())

    def on_change(self, label: str) -> Callable[[Any, float], None]:
        """A poller ``on_change`` callback writing state changes into the timeline."""
        def changed(state: Any, elapsed: float) -> None:
            self.event(label, f"state {describe_state(state)}")
        return changed

    @contextlib.contextmanager
    def waiting(self, label: str) -> Iterator[float | None]:
        """Count the time spent in the block as waiting (report and summary).

        Yields the hint for the wait: how long the same wait (the same kind, in the same
        order) took when this test's recording was last made, or None. A wait that ends well
        is kept in the new recording's clock line, the hint of the next run.
        """
        words = label.split()
        kind = words[0] + (f" {words[-1]}" if len(words) > 2 else "")  # e.g. "x name cam"
        self._wait_counts[kind] = n = self._wait_counts.get(kind, 0) + 1
        key = f"{kind} #{n}"
        start = self.clock.monotonic()
        ok = False
        try:
            yield self.scope.ready_hints.get(key)
            ok = True
        finally:
            spent = self.clock.monotonic() - start
            self.record.waited += spent
            self.record.waits.append((label, start - self._start, spent))
            self.ctx.stats.waited += spent
            if ok and self.scope.provisions:
                ready = self.recorder.bundle.clock.setdefault("ready", {})
                ready[key] = round(spent, 3)

    def timeout(self, timeout: float | None) -> float:
        """A resource's timeout, or ``--robo-timeout``."""
        return float(timeout if timeout is not None else self.settings.timeout)

    def name(self, hint: str) -> str:
        """A new resource name, unique in the run (the recorded one in replay)."""
        return str(self.recorder.names.new(hint))

    def journal_name(self, hint: str) -> str:
        """A unique name for the journal only (for resources the service gives no name)."""
        return f"robo-{self.ctx.run_id}-{self.ctx.worker}-j{self.ctx.next_name_number()}-{hint}"

    # -- clients -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _credentials(self) -> Iterator[None]:
        try:
            yield
        except MissingCredential as exc:
            self.config_error = True
            pytest.fail(str(exc), pytrace=False)  # a setup problem, not a bug: no traceback

    @property
    def rapyuta(self) -> Client:
        """The rapyuta.io :class:`~pytest_robofixtures.rapyuta.Client` of this test."""
        if self._rapyuta is None:
            from .rapyuta import Client

            creds = self.scope.credentials()
            with self._credentials():
                token, project = creds.secret("RIO_AUTH_TOKEN"), creds.secret("RIO_PROJECT")
            self._rapyuta = Client(token, project, catalog_host=creds.rapyuta_catalog,
                                   core_api_host=creds.rapyuta_core, clock=self.clock)
        return self._rapyuta

    @property
    def rerobots(self) -> APIClient:
        """The rerobots :class:`~pytest_robofixtures.rerobots.APIClient` of this test."""
        if self._rerobots is None:
            from .rerobots import APIClient

            creds = self.scope.credentials()
            with self._credentials():
                token = creds.secret("REROBOTS_API_TOKEN")
            self._rerobots = APIClient(api_token=token, base_uri=creds.rerobots,
                                       ignore_env=True, clock=self.clock)
        return self._rerobots

    def endpoint(self, service: str) -> str:
        """The base URL of ``service`` in this mode (written into the journal)."""
        return self.scope.credentials().endpoint_of(service)

    # -- intent before action ------------------------------------------------------------------
    def create(
        self, rtype: ResourceType, name: str, label: str,
        create: Callable[[Callable[[str], None]], R], adopt: Callable[[str], R],
        *, parents: Sequence[str] = (), extra: dict[str, Any] | None = None,
    ) -> R:
        """Create one resource safely; see the module docstring.

        ``create(on_created)`` sends the create request and calls ``on_created(id)`` as soon as
        the reply names the id; ``adopt(id)`` fetches a resource found by name instead.
        """
        owned: list[str] = []

        def on_created(ident: str) -> None:
            if not owned:
                owned.append(ident)
                self.own(rtype, name, ident, label)

        if self.scope.provisions:
            self.ctx.journal.intent(rtype.name, name, endpoint=self.endpoint(rtype.service),
                                    parents=parents, **(extra or {}))
        self.event(label, "requested")
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                result = create(on_created)
            except Exception as exc:
                if not self.scope.provisions or not outcome_unknown(exc):
                    raise
                found = owned[0] if owned else rtype.find(self, name, extra or {})
                if found:
                    self.event(label, f"adopted {found} after {type(exc).__name__}")
                    on_created(found)
                    adopted = adopt(found)
                    self.handles[found] = adopted
                    return adopted
                if attempt == CREATE_ATTEMPTS:
                    raise
                self.event(label, f"not created ({type(exc).__name__}); trying again")
                continue
            if not owned:
                raise RuntimeError(f"{label}: the create call never reported the new id")
            self.handles[owned[0]] = result
            return result
        raise AssertionError("unreachable")

    def own(self, rtype: ResourceType, name: str, ident: str, label: str) -> None:
        """Journal the id of a new resource and register its teardown: call it at once."""
        if self.scope.provisions:
            self.ctx.journal.created(rtype.name, name, ident)
        self.record.resources.append(label)
        self.ctx.stats.provisioned += 1
        self.event(label, f"created {ident}")
        self.ctx.hooks.resource_created(self.nodeid, rtype.name, name, ident)

        def finalize() -> None:
            if self.settings.keep and self.scope.provisions:
                self.ctx.stats.kept.append(f"{rtype.name} {ident} ({name})")
                self.ctx.journal.kept(rtype.name, name, ident)
                self.event(label, "kept (--robo-keep)")
                return
            self.event(label, "tearing down")
            try:
                rtype.delete(self, ident, True,
                             self.teardown.time_left(self.settings.teardown_timeout))
            except rtype.gone:
                pass
            except KeyboardInterrupt:
                # Teardown tries once more in its grace period; if that fails too, the journal
                # still lists the resource and the summary counts it as leaked.
                self.event(label, "teardown interrupted")
                raise
            except BaseException:
                self.ctx.stats.leaked.append(f"{rtype.name} {ident} ({name})")
                self.event(label, "teardown failed")
                raise
            if self.scope.provisions:
                self.ctx.journal.deleted(rtype.name, name, ident)
            self.ctx.stats.torn_down += 1
            self.event(label, "torn down")
            self.ctx.hooks.resource_deleted(self.nodeid, rtype.name, name, ident)

        self.teardown.push(label, finalize)

    # -- the built-in kinds, typed --------------------------------------------------------------
    def provision(self, kind: str | Kind[R], **kwargs: Any) -> R:
        """Provision a resource of any registered kind (``robo.provision("toy", ...)``)."""
        resolved: Kind[R] = self.registry.get(kind) if isinstance(kind, str) else kind
        return resolved.provision(self, **kwargs)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        # robo.<kind>(...) for kinds registered by plugins and conftests.
        kinds = self.__dict__.get("registry")
        if kinds is not None and name in kinds.kinds:
            kind = kinds.kinds[name]
            return lambda **kwargs: kind.provision(self, **kwargs)
        raise AttributeError(name)

    def routed_network(self, name: str | None = None, ros_distro: str = "melodic",
                       shared: bool = False, runtime: str = "cloud", limits: Any = None,
                       device: Device | None = None, network_interface: str | None = None,
                       timeout: float | None = None) -> RoutedNetwork:
        """Create a routed network, wait until it is ready, and delete it at teardown."""
        return self.provision("routed_network", name=name, ros_distro=ros_distro, shared=shared,
                              runtime=runtime, limits=limits, device=device,
                              network_interface=network_interface, timeout=timeout)

    def native_network(self, name: str | None = None, ros_distro: str = "melodic",
                       runtime: str = "cloud", limits: Any = None, device: Device | None = None,
                       network_interface: str | None = None, restart_policy: str | None = None,
                       timeout: float | None = None) -> NativeNetwork:
        """Create a native network, wait until it is ready, and delete it at teardown.

        Bind a deployment to it with ``robo.deploy(..., native_networks=[network])``.
        """
        return self.provision("native_network", name=name, ros_distro=ros_distro,
                              runtime=runtime, limits=limits, device=device,
                              network_interface=network_interface,
                              restart_policy=restart_policy, timeout=timeout)

    def volume(self, name: str | None = None, capacity: int = 4, disk_type: str = "ssd",
               timeout: float | None = None) -> VolumeInstance:
        """Create a persistent volume (``capacity`` GiB), wait until ready; destroy at teardown.

        Mount it with ``robo.deploy(..., volumes={component: (volume, mount_path)})``.
        """
        return self.provision("volume", name=name, capacity=capacity, disk_type=disk_type,
                              timeout=timeout)

    def rosbag_job(self, deployment: Deployment, name: str | None = None,
                   component: str | None = None, topics: list[str] | None = None,
                   timeout: float | None = None, **options: Any) -> RosbagRecording:
        """Start a rosbag job on a running deployment; stop it and delete its bags at teardown.

        Other keywords as the ``rosbag_job`` marker (``all_topics``, ``compression``...).
        """
        return self.provision("rosbag_job", deployment=deployment, name=name,
                              component=component, topics=topics, timeout=timeout, **options)

    def online_device(self, name: str | None = None,
                      labels: dict[str, str] | list[str] | None = None,
                      arch: str | list[str] | None = None) -> Device | None:
        """The first ONLINE device matching name, labels and architecture, or None."""
        from .kinds.device import find_device

        return find_device(self, name=name, labels=labels, arch=arch)

    def deploy(self, manifest: dict[str, Any] | str | Path | None = None, **kwargs: Any
               ) -> Deployment:
        """Create (or find) a package, provision it, wait until it runs; deprovision at teardown.

        Keywords as the ``deployed_package`` marker, plus ``routed_networks=`` and ``device=``.
        """
        return self.provision("deployed_package", manifest=manifest, **kwargs)

    def rerobots_instance(self, workspace_types: list[str] | str | None = None,
                          wdeployment_id: str | None = None, **kwargs: Any) -> Instance:
        """Rent a workspace instance, wait until READY, activate add-ons; terminate at teardown."""
        return self.provision("rerobots_instance", workspace_types=workspace_types,
                              wdeployment_id=wdeployment_id, **kwargs)

    def roc_broker(self, base_port: int | None = None) -> Endpoints:
        """Endpoints of a running ROC broker (started here, the sandbox's, or --roc-broker)."""
        if self._roc_endpoints is None:
            self._roc_endpoints = self.scope.roc_endpoints(base_port, self.teardown)
        return self._roc_endpoints

    def roc_object(self, object_id: str, timeout: float = 2.0,
                   endpoints: Endpoints | None = None) -> RocObjectHandle:
        """A proxy to the shared ROC object ``object_id`` that also collects status and logs."""
        return self.provision("roc_object", object_id=object_id, timeout=timeout,
                              endpoints=endpoints)

    # -- artifacts -----------------------------------------------------------------------------
    def save_frame(self, jpeg: bytes) -> Path:
        """Save a camera frame of this test under the artifacts directory."""
        folder = artifact_dir(self.settings.artifacts_dir, self.nodeid)
        folder.mkdir(parents=True, exist_ok=True)
        self._frames += 1
        path = folder / f"frame-{self._frames:03d}.jpg"
        path.write_bytes(jpeg)
        self.record.frames.append(path)
        self.record.frame_times.append(round(self.elapsed(), 3))
        return path

    def measure(self, name: str, value: float, unit: str = "", low: float | None = None,
                high: float | None = None) -> Any:
        """Record a measurement; fail the test (plainly, not infra) when outside its limits.

        It shows in the report, the picture and JUnit, and in the run-wide
        ``measurements.csv``/``.json`` beside the artifacts.
        """
        from .reporting.measurements import Measurement

        current = self.current
        measurement = Measurement(name, value, unit=unit, low=low, high=high)
        current.record.measurements.append((round(current.elapsed(), 3), measurement))
        current.ctx.record_measurement(current.nodeid, measurement)
        if not measurement.passed:
            pytest.fail(measurement.failure() or f"{name} is outside its limits", pytrace=False)
        return measurement

    def close(self) -> list[TeardownFailure]:
        """Run every teardown (reverse order); return the failures (Ctrl-C is re-raised)."""
        return self.teardown.run()


def describe_state(state: Any) -> str:
    """``phase/status`` of a rapyuta status object or dict; the text of anything else."""
    if isinstance(state, str):
        return state
    def get(key: str) -> Any:
        return state.get(key) if isinstance(state, dict) else getattr(state, key, None)

    values = [v for v in (get("phase"), get("status")) if v is not None]
    if values:
        return "/".join(str(getattr(v, "value", v)) for v in values)
    return str(state)


__all__ = ["Robo", "describe_state", "outcome_unknown"]
