"""The ``robo`` factory: provisions any number of resources inside one test.

The named fixtures (``routed_network``, ``deployed_package``...) are sugar over it. Everything
created is written to the run journal and registered for teardown the moment it has an id; the
teardown runs in reverse order whatever happens to the test.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .common.clock import Clock
from .common.transports import ExecResult, SSHSession
from .report import TestRecord, artifact_dir
from .settings import REPLAY, RoboSettings

if TYPE_CHECKING:
    from .session import RoboSession


class Teardown:
    """A stack of finalizers run in reverse order; every one runs even if another fails."""

    def __init__(self) -> None:
        self._stack: list[tuple[str, Callable[[], None]]] = []
        self._lock = threading.Lock()

    def push(self, what: str, fn: Callable[[], None]) -> None:
        with self._lock:
            self._stack.append((what, fn))

    def run(self) -> list[tuple[str, BaseException]]:
        errors: list[tuple[str, BaseException]] = []
        while True:
            with self._lock:
                if not self._stack:
                    break
                what, fn = self._stack.pop()
            try:
                fn()
            except BaseException as exc:  # KeyboardInterrupt included: keep tearing down
                errors.append((what, exc))
        return errors


class TranscriptSSH:
    """Wrap an :class:`SSHSession` to copy every command into the test's report."""

    def __init__(self, inner: SSHSession, record: TestRecord, scrub: Callable[[str], str]) -> None:
        self._inner = inner
        self._record = record
        self._scrub = scrub

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        result = self._inner.exec(command, timeout)
        self._record.ssh.append({
            "command": self._scrub(command), "exit_status": result.exit_status,
            "stdout": self._scrub(result.stdout_text), "stderr": self._scrub(result.stderr_text),
        })
        return result

    def put(self, local_path: str, remote_path: str) -> None:
        self._inner.put(local_path, remote_path)
        self._record.ssh.append({"command": f"put {local_path} -> {remote_path}", "exit_status": 0})

    def get(self, remote_path: str, local_path: str) -> None:
        self._inner.get(remote_path, local_path)
        self._record.ssh.append({"command": f"get {remote_path} -> {local_path}", "exit_status": 0})

    def close(self) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:  # e.g. .sftp on the paramiko session
        return getattr(self._inner, name)


class Robo:
    """Provision rapyuta.io, rerobots and ROC resources for one test; tear them all down."""

    def __init__(
        self,
        session: RoboSession,
        nodeid: str,
        recorder: Any,
        record: TestRecord,
        clock: Clock,
    ) -> None:
        self.session = session
        self.settings: RoboSettings = session.settings
        self.nodeid = nodeid
        self.recorder = recorder
        self.record = record
        self.clock = clock
        self.teardown = Teardown()
        self._start = clock.monotonic()
        self._rapyuta: Any = None
        self._rerobots: Any = None
        self._roc_endpoints: Any = None
        self._frames = 0
        self.routed_networks: list[Any] = []
        self.devices: list[Any] = []
        self.config_error = False  # set when a credential was missing

    # -- bookkeeping ---------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.settings.mode

    def _elapsed(self) -> float:
        return self.clock.monotonic() - self._start

    def _event(self, resource: str, what: str) -> None:
        self.record.event(self._elapsed(), resource, what)
        self.session.progress(resource, what, self._elapsed())

    def _owned(self, kind: str, ident: str, name: str, label: str, endpoint: str,
               delete: Callable[[], None]) -> None:
        """Journal a new resource and register its teardown: call as soon as it has an id."""
        self.session.journal_created(kind, ident, name=name, endpoint=endpoint)
        self.record.resources.append(label)
        self.session.stats.provisioned += 1
        self._event(label, f"created {ident}")

        def finalize() -> None:
            if self.settings.keep and self.mode != REPLAY:
                self.session.stats.kept.append(f"{kind} {ident} ({name})")
                self._event(label, "kept (--robo-keep)")
                return
            try:
                delete()
            except BaseException:
                self.session.stats.leaked.append(f"{kind} {ident} ({name})")
                raise
            self.session.journal_deleted(kind, ident)
            self.session.stats.torn_down += 1
            self._event(label, "torn down")

        self.teardown.push(label, finalize)

    def _on_change(self, label: str) -> Callable[[Any, float], None]:
        def changed(state: Any, elapsed: float) -> None:
            self._event(label, f"state {_describe(state)}")
        return changed

    @contextlib.contextmanager
    def _waiting(self, label: str) -> Iterator[None]:
        start = self.clock.monotonic()
        try:
            yield
        finally:
            spent = self.clock.monotonic() - start
            self.record.waited += spent
            self.session.stats.waited += spent

    def _timeout(self, timeout: float | None) -> float:
        return float(timeout if timeout is not None else self.settings.timeout)

    # -- clients -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _credentials(self) -> Iterator[None]:
        from .settings import MissingCredential

        try:
            yield
        except MissingCredential as exc:
            self.config_error = True
            pytest.fail(str(exc), pytrace=False)  # a setup problem, not a bug: no traceback

    @property
    def rapyuta(self) -> Any:
        """The rapyuta.io :class:`~pytest_robofixtures.rapyuta.Client` of this test."""
        if self._rapyuta is None:
            from .rapyuta import Client

            ep = self.session.endpoints(self.recorder)["rapyuta"]
            with self._credentials():
                token, project = ep["auth_token"], ep["project"]
            self._rapyuta = Client(
                token, project, catalog_host=ep["catalog_host"],
                core_api_host=ep["core_api_host"], clock=self.clock,
            )
        return self._rapyuta

    @property
    def rerobots(self) -> Any:
        """The rerobots :class:`~pytest_robofixtures.rerobots.APIClient` of this test."""
        if self._rerobots is None:
            from .rerobots import APIClient

            ep = self.session.endpoints(self.recorder)["rerobots"]
            with self._credentials():
                token = ep["api_token"]
            self._rerobots = APIClient(
                api_token=token, base_uri=ep["base_uri"], ignore_env=True, clock=self.clock,
            )
        return self._rerobots

    # -- rapyuta.io ----------------------------------------------------------------------------
    def routed_network(
        self,
        name: str | None = None,
        ros_distro: str = "melodic",
        shared: bool = False,
        runtime: str = "cloud",
        limits: Any = None,
        device: Any = None,
        network_interface: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Create a routed network, wait until it is ready, and delete it at teardown."""
        from .rapyuta import Parameters, ROSDistro, RoutedNetworkLimits

        client = self.rapyuta
        full_name = self.recorder.names.new(name or "net")
        label = f"routed_network {full_name}"
        distro = ROSDistro(ros_distro) if isinstance(ros_distro, str) else ros_distro
        if runtime == "device":
            if device is None:
                raise ValueError(
                    "a device routed network needs a device: pass device= (e.g. the "
                    "online_device fixture) and network_interface="
                )
            network = client.create_device_routed_network(
                full_name, distro, shared, device, network_interface
            )
        elif runtime == "cloud":
            if isinstance(limits, str):
                limits = getattr(RoutedNetworkLimits, limits.upper())
            params = Parameters(limits) if limits is not None else None
            network = client.create_cloud_routed_network(full_name, distro, shared,
                                                         parameters=params)
        else:
            raise ValueError(f"runtime must be 'cloud' or 'device', got {runtime!r}")
        guid = network.guid
        self._owned("rapyuta.routed_network", guid, full_name, label,
                    self.settings_endpoint("rapyuta"),
                    lambda: client.delete_routed_network(guid))
        with self._waiting(label):
            network.poll_routed_network_till_ready(
                timeout=self._timeout(timeout), on_change=self._on_change(label)
            )
        network.refresh()
        self._event(label, "ready")
        self.routed_networks.append(network)
        return network

    def online_device(
        self, name: str | None = None, labels: dict[str, str] | list[str] | None = None,
        arch: str | list[str] | None = None,
    ) -> Any | None:
        """The first ONLINE device matching name, labels and architecture, or None."""
        from .rapyuta import DeviceArch

        arch_list = None
        if arch is not None:
            arches = [arch] if isinstance(arch, str) else list(arch)
            arch_list = [DeviceArch(a) for a in arches]
        devices = self.rapyuta.get_all_devices(online_device=True, arch_list=arch_list)
        for partial in devices:
            if name is not None and partial.name != name:
                continue
            device = self.rapyuta.get_device(partial.uuid)
            if labels and not _labels_match(device, labels):
                continue
            self.devices.append(device)
            self._event(f"device {device.name}", f"selected ({device.uuid}, ONLINE)")
            return device
        return None

    def deploy(
        self,
        manifest: dict[str, Any] | str | Path | None = None,
        *,
        package_id: str | None = None,
        package_name: str | None = None,
        plan: str | None = None,
        name: str | None = None,
        parameters: dict[str, dict[str, str]] | None = None,
        labels: dict[str, str] | None = None,
        restart_policy: str | dict[str, str] | None = None,
        aliases: dict[str, str] | None = None,
        routed_networks: list[Any] | None = None,
        device: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """Create (or find) a package, provision it, wait until it runs; deprovision at teardown.

        Device components are bound to ``device`` (default: the test's online device); the
        deployment joins ``routed_networks`` (default: the test's routed networks).
        """
        from .rapyuta import RestartPolicy

        package = self._package(manifest, package_id, package_name)
        config = package.get_provision_configuration(plan)
        device = device if device is not None else (self.devices[0] if self.devices else None)
        for component in _components(package, config):
            comp_name = component["name"]
            if component.get("requiredRuntime") == "device":
                if device is None:
                    raise ValueError(
                        f"component {comp_name!r} of package {package.packageName!r} runs on a "
                        "device: request the online_device fixture in the test (or pass device=)"
                    )
                config.add_device(comp_name, device)
        networks = routed_networks if routed_networks is not None else self.routed_networks
        if networks:
            config.add_routed_networks(list(networks))
        for comp_name, values in (parameters or {}).items():
            for key, value in values.items():
                config.add_parameter(comp_name, key, value)
        for key, value in (labels or {}).items():
            config.add_label(key, value)
        if restart_policy is not None:
            policies = restart_policy if isinstance(restart_policy, dict) else {
                c["name"]: restart_policy for c in _components(package, config)
            }
            for comp_name, policy in policies.items():
                config.add_restart_policy(comp_name, _restart_policy(RestartPolicy, policy))
        for comp_name, alias in (aliases or {}).items():
            config.set_component_alias(comp_name, alias)
        dep_name = self.recorder.names.new(name or "dep")
        label = f"deployment {dep_name}"
        deployment = package.provision(dep_name, config)
        dep_id = deployment.deploymentId
        self._owned("rapyuta.deployment", dep_id, dep_name, label,
                    self.settings_endpoint("rapyuta"), deployment.deprovision)
        with self._waiting(label):
            deployment.poll_deployment_till_ready(
                timeout=self._timeout(timeout), on_change=self._on_change(label)
            )
        deployment.refresh()
        self._event(label, "running")
        return deployment

    def _package(
        self, manifest: dict[str, Any] | str | Path | None, package_id: str | None,
        package_name: str | None,
    ) -> Any:
        client = self.rapyuta
        if manifest is not None:
            data = _load_manifest(manifest, self.settings.rootdir)
            # A unique name per run and worker: two workers must not collide on name+version.
            data = {**data, "name": self.recorder.names.new(str(data.get("name", "pkg")))}
            created = client.create_package(data)
            pkg_id = created["packageId"]
            label = f"package {data['name']}"
            self._owned("rapyuta.package", pkg_id, data["name"], label,
                        self.settings_endpoint("rapyuta"),
                        lambda: client.delete_package(pkg_id))
            return client.get_package(pkg_id)
        if package_id:
            return client.get_package(package_id)
        if package_name:
            found = [p for p in client.get_all_packages(name=package_name)
                     if p.packageName == package_name]
            if not found:
                raise LookupError(
                    f"no package named {package_name!r}: pass manifest= to create it, or "
                    "package_id="
                )
            return client.get_package(found[0].packageId)
        raise ValueError("deployed_package needs manifest=, package_id= or package_name=")

    # -- rerobots ------------------------------------------------------------------------------
    def rerobots_instance(
        self,
        workspace_types: list[str] | str | None = None,
        wdeployment_id: str | None = None,
        addons: list[str] | tuple[str, ...] = (),
        duration: int | None = None,
        vpn: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """Rent a workspace instance, wait until READY, activate add-ons; terminate at teardown."""
        from .rerobots import Instance
        from .rerobots.ssh import paramiko_ssh_factory

        if isinstance(workspace_types, str):
            workspace_types = [workspace_types]
        if not workspace_types and not wdeployment_id:
            raise ValueError(
                "rerobots_instance needs workspace_types= or wdeployment_id= "
                "(e.g. @pytest.mark.rerobots_instance(workspace_types=['fixed_misty2']))"
            )
        apic = self.rerobots

        def ssh_factory(*args: Any, **kwargs: Any) -> SSHSession:
            # Record into the test running now (a shared instance outlives the test that made it).
            current = self.session.current_robo or self
            inner = current.recorder.ssh_factory(paramiko_ssh_factory)(*args, **kwargs)
            return TranscriptSSH(inner, current.record, current.recorder.scrubber.text)

        rental = self.session.rental_slot(self.clock, self._timeout(timeout))
        self.teardown.push("rental slot", rental.release)
        instance = Instance(
            workspace_types=workspace_types, wdeployment_id=wdeployment_id, apic=apic,
            clock=self.clock, ssh_factory=ssh_factory, duration=duration, vpn=vpn,
        )
        ident = instance.id
        label = f"rerobots {ident[:8]}"

        def terminate() -> None:
            # wait=True retries while the instance is still INIT ("busy"), then waits for the end.
            instance.terminate(wait=True, timeout=self._timeout(None),
                               on_change=self._on_change(label))

        self._owned("rerobots.instance", ident, ident, label,
                    self.settings_endpoint("rerobots"), terminate)
        with self._waiting(label):
            instance.wait_until_ready(timeout=self._timeout(timeout),
                                      on_change=self._on_change(label))
        self._event(label, "READY")
        for addon in addons:
            if addon == "cam":
                with self._waiting(label):
                    instance.camera.activate(wait=True, timeout=self._timeout(timeout))
            elif addon == "mistyproxy":
                instance.activate_addon_mistyproxy()
            else:
                raise ValueError(f"unknown add-on {addon!r}: supported are cam, mistyproxy")
            self._event(label, f"add-on {addon} active")
        instance.on_frame = lambda frame: (self.session.current_robo or self)._save_frame(frame)
        return instance

    def _save_frame(self, frame: Any) -> None:
        folder = artifact_dir(self.settings.artifacts_dir, self.nodeid)
        folder.mkdir(parents=True, exist_ok=True)
        self._frames += 1
        path = folder / f"frame-{self._frames:03d}.jpg"
        path.write_bytes(frame.jpeg)
        self.record.frames.append(path)

    # -- ROC -----------------------------------------------------------------------------------
    def roc_broker(self, base_port: int | None = None) -> Any:
        """Endpoints of a running ROC broker (started here, the sandbox's, or --roc-broker)."""
        if self._roc_endpoints is None:
            self._roc_endpoints = self.session.roc_endpoints(self, base_port)
        return self._roc_endpoints

    def roc_object(self, object_id: str, timeout: float = 2.0, endpoints: Any = None) -> Any:
        """A proxy to the shared ROC object ``object_id`` that also collects status and logs."""
        from .roc_support import RocObjectHandle

        endpoints = endpoints or self.roc_broker()
        handle = RocObjectHandle._open(
            endpoints, object_id, timeout=timeout, recorder=self.recorder, record=self.record,
            clock=self.clock,
        )
        self.teardown.push(f"roc_object {object_id}", handle._close)
        self._event(f"roc {object_id}", "connected")
        return handle

    # -- endpoints -----------------------------------------------------------------------------
    def settings_endpoint(self, service: str) -> str:
        """The base URL of ``service`` in this mode (written into the journal)."""
        ep = self.session.endpoints(self.recorder)[service]
        return str(ep.get("catalog_host") or ep.get("base_uri") or "")

    def close(self) -> list[tuple[str, BaseException]]:
        """Run every teardown (reverse order); return the failures."""
        return self.teardown.run()


def _describe(state: Any) -> str:
    """``phase/status`` of a rapyuta status object or dict; the text of anything else."""
    if isinstance(state, str):
        return state
    get = state.get if isinstance(state, dict) else (lambda key: getattr(state, key, None))
    values = [v for v in (get("phase"), get("status")) if v is not None]
    if values:
        return "/".join(str(getattr(v, "value", v)) for v in values)
    return str(state)


def _labels_match(device: Any, wanted: dict[str, str] | list[str]) -> bool:
    have = {}
    for label in getattr(device, "labels", None) or []:
        key = label.get("key") if isinstance(label, dict) else getattr(label, "key", None)
        value = label.get("value") if isinstance(label, dict) else getattr(label, "value", None)
        have[key] = value
    if isinstance(wanted, dict):
        return all(have.get(k) == v for k, v in wanted.items())
    return all(k in have for k in wanted)


def _components(package: Any, config: Any) -> list[dict[str, Any]]:
    plan = config.plan if hasattr(config, "plan") else None
    plans = getattr(package, "plans", None) or []
    chosen = plan or (plans[0] if plans else None)
    if chosen is None:
        return []
    components = chosen.get("components") if isinstance(chosen, dict) else getattr(
        chosen, "components", None)
    if isinstance(components, dict):
        components = components.get("components", [])
    return [c if isinstance(c, dict) else vars(c) for c in components or []]


def _restart_policy(enum: Any, value: Any) -> Any:
    if isinstance(value, enum):
        return value
    for member in enum:
        if str(value).lower() in (member.name.lower(), str(member.value).lower()):
            return member
    raise ValueError(
        f"restart_policy must be one of {', '.join(m.name for m in enum)}, got {value!r}"
    )


def _load_manifest(manifest: dict[str, Any] | str | Path, root: Path) -> dict[str, Any]:
    if isinstance(manifest, dict):
        return dict(manifest)
    path = Path(manifest)
    if not path.is_absolute():
        path = root / path
    if not path.is_file():
        raise FileNotFoundError(
            f"manifest {manifest} not found (looked at {path}); paths are relative to the "
            "rootdir"
        )
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"manifest {path} is not valid JSON/YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"manifest {path} must hold a JSON object (a package manifest)")
    return data


__all__ = ["Robo", "Teardown", "TranscriptSSH"]
