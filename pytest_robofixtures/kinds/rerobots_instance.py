"""The ``rerobots_instance`` kind: a rented rerobots workspace, READY, terminated at teardown."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from ..common.transports import ExecResult, SSHSession
from .base import Clients, Kind, Param, ResourceType

if TYPE_CHECKING:
    from ..factory import Robo
    from ..report import TestRecord
    from ..rerobots import Instance

ADDONS = ("cam", "mistyproxy", "drive", "vnc")


def _delete(clients: Clients, ident: str, wait: bool, timeout: float) -> None:
    instance = getattr(clients, "handles", {}).get(ident)
    if instance is None:
        apic = clients.rerobots
        status = apic.get_instance_info(ident).get("status")
        if status in ("TERMINATED", "INIT_FAIL"):
            return
        if not wait:
            if status != "TERMINATING":
                apic.terminate_instance(ident)
            return
        # with wait, a TERMINATING instance is waited for too: "deleted" means gone
        from ..rerobots import Instance

        instance = Instance(instance_id=ident, apic=apic)
    on_change = getattr(clients, "on_change", None)
    kwargs = {"on_change": on_change(f"rerobots {ident[:8]}")} if on_change else {}
    # wait=True retries while the instance is still INIT ("busy"), then waits for the end.
    instance.terminate(wait=wait, timeout=timeout, **kwargs)


def _find(clients: Clients, name: str, extra: Mapping[str, Any]) -> str | None:
    """The active instance a lost ``POST /new`` reply created, if any.

    Instances have no name: the journal notes which deployments the create was sent to, and a
    deployment holds one instance at a time.
    """
    apic = clients.rerobots
    known = set(getattr(clients, "handles", {}))
    wanted_types = set(extra.get("workspace_types") or ())
    targets = list(extra.get("tried") or ()) or [extra.get("wdeployment_id")]
    for target in targets:
        for info in apic.find_instances(target, exclude=known):
            if wanted_types and info.get("type") not in wanted_types:
                continue
            return str(info["id"])
    return None


def _gone() -> tuple[type[BaseException], ...]:
    from ..rerobots.errors import InstanceNotFound

    return (InstanceNotFound,)


INSTANCE = ResourceType("rerobots.instance", "rerobots", reap_order=1, delete=_delete,
                        find=_find, gone=_gone())


class TranscriptSSH:
    """Wrap an :class:`SSHSession` to copy every command into the test's report."""

    def __init__(self, inner: SSHSession, record: TestRecord, scrub: Callable[[str], str],
                 elapsed: Callable[[], float]) -> None:
        self._inner = inner
        self._record = record
        self._scrub = scrub
        self._elapsed = elapsed

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run ``command`` and copy it, its output and exit status into the report."""
        at = self._elapsed()
        result = self._inner.exec(command, timeout)
        self._record.ssh.append({
            "command": self._scrub(command), "exit_status": result.exit_status,
            "stdout": self._scrub(result.stdout_text), "stderr": self._scrub(result.stderr_text),
            "at": round(at, 3),
        })
        return result

    def put(self, local_path: str, remote_path: str) -> None:
        """Copy a file to the workspace (reported)."""
        at = self._elapsed()
        self._inner.put(local_path, remote_path)
        self._record.ssh.append({"command": f"put {local_path} -> {remote_path}",
                                 "exit_status": 0, "at": round(at, 3)})

    def get(self, remote_path: str, local_path: str) -> None:
        """Copy a file from the workspace (reported)."""
        at = self._elapsed()
        self._inner.get(remote_path, local_path)
        self._record.ssh.append({"command": f"get {remote_path} -> {local_path}",
                                 "exit_status": 0, "at": round(at, 3)})

    def close(self) -> None:
        """Close the connection."""
        self._inner.close()

    def __getattr__(self, name: str) -> Any:  # e.g. .sftp on the paramiko session
        return getattr(self._inner, name)


class RerobotsInstanceKind(Kind["Instance"]):
    """A READY rerobots Instance with .ssh and .camera helpers, terminated at teardown."""

    name = "rerobots_instance"
    help = ("configure the rerobots_instance fixture (rented rerobots workspace); shared=True "
            "(or scope='worker') rents one per xdist worker for all tests asking for the same "
            "configuration.")
    params = (
        Param("workspace_types", (list, tuple, str)), Param("wdeployment_id", (str,)),
        Param("addons", (list, tuple), choices=ADDONS, items=(str,)),
        Param("duration", (int,)), Param("vpn", (bool,)),
        Param("timeout", (int, float), positive=True), Param("shared", (bool,)),
    )
    positional = "workspace_types"
    requires_one_of = ("workspace_types", "wdeployment_id")
    requires_hint = ("rerobots_instance needs @pytest.mark.rerobots_instance("
                     "workspace_types=[...]) or wdeployment_id=...")
    shareable = True
    resource_types = (INSTANCE,)

    def wants_sharing(self, kwargs: dict[str, Any]) -> bool:
        """``shared=True`` is this kind's older spelling of ``scope="worker"``."""
        shared = bool(kwargs.pop("shared", False))
        return shared or kwargs.pop("scope", "test") == "worker"

    def on_shared_use(self, resource: Instance, robo: Robo) -> None:
        # A fresh ssh connection per test, so each test's recording holds its own traffic.
        robo.teardown.push("shared instance ssh", resource.stop_sshclient)
        robo.event(f"rerobots {resource.id[:8]}", "shared (rented once per worker)")

    def fixture(self, robo: Robo, request: pytest.FixtureRequest,
                kwargs: dict[str, Any]) -> Instance:
        kwargs.pop("shared", None)
        return self.provision(robo, **kwargs)

    def provision(self, robo: Robo, **kwargs: Any) -> Instance:
        return rent(robo, **kwargs)


def rent(
    robo: Robo,
    workspace_types: list[str] | tuple[str, ...] | str | None = None,
    wdeployment_id: str | None = None,
    addons: list[str] | tuple[str, ...] = (),
    duration: int | None = None,
    vpn: bool = False,
    timeout: float | None = None,
    shared: bool = False,
) -> Instance:
    """Rent a workspace instance, wait until READY, activate add-ons; terminate at teardown."""
    from ..rerobots import Instance
    from ..rerobots.ssh import paramiko_ssh_factory

    if isinstance(workspace_types, str):
        workspace_types = [workspace_types]
    if not workspace_types and not wdeployment_id:
        raise ValueError(
            "rerobots_instance needs workspace_types= or wdeployment_id= "
            "(e.g. @pytest.mark.rerobots_instance(workspace_types=['fixed_misty2']))"
        )
    unknown = [a for a in addons if a not in ADDONS]
    if unknown:
        raise ValueError(f"unknown add-on {unknown[0]!r}: supported are {', '.join(ADDONS)}")
    apic = robo.rerobots

    def ssh_factory(*args: Any, **kwargs: Any) -> SSHSession:
        # Record into the test running now (a shared instance outlives the test that made it).
        current = robo.current
        inner = current.recorder.ssh_factory(paramiko_ssh_factory)(*args, **kwargs)
        return TranscriptSSH(inner, current.record, current.recorder.scrubber.text,
                             current.elapsed)

    rental = robo.ctx.rental_slot(robo.clock, robo.timeout(timeout)) if (
        robo.scope.provisions) else None
    if rental is not None:
        robo.teardown.push("rental slot", rental.release)
    name = robo.journal_name("ws")  # the service never sees it: not part of the recording
    label = "rerobots instance"

    tried: list[str] = []

    def on_request(wdid: str) -> None:
        # Where the create goes, journaled before it is sent, so a lost reply or a kill
        # mid-request can be reconciled on that deployment.
        tried.append(wdid)
        if robo.scope.provisions:
            robo.ctx.journal.update(INSTANCE.name, name, tried=[wdid])

    def create(on_created: Callable[[str], None]) -> Instance:
        return Instance(
            workspace_types=workspace_types, wdeployment_id=wdeployment_id, apic=apic,
            clock=robo.clock, ssh_factory=ssh_factory, duration=duration, vpn=vpn,
            on_request=on_request, on_created=on_created,
        )

    def adopt(ident: str) -> Instance:
        return Instance(instance_id=ident, apic=apic, clock=robo.clock, ssh_factory=ssh_factory)

    extra: dict[str, Any] = {"wdeployment_id": wdeployment_id,
                             "workspace_types": list(workspace_types or []), "tried": tried}
    instance = robo.create(INSTANCE, name, label, create, adopt, extra=extra)
    label = f"rerobots {instance.id[:8]}"
    with robo.waiting(label) as hint:
        instance.wait_until_ready(timeout=robo.timeout(timeout), on_change=robo.on_change(label),
                                  hint=hint)
    robo.event(label, "READY")
    for addon in addons:
        # Waited until active (with its URLs, for mistyproxy) before the test starts.
        with robo.waiting(f"{label} {addon}"):
            instance.activate_addon(addon, timeout=robo.timeout(timeout),
                                    on_change=robo.on_change(f"{label} {addon}"))
        robo.event(label, f"add-on {addon} active")
    def on_frame(frame: Any) -> None:
        robo.current.save_frame(frame.jpeg)

    instance.on_frame = on_frame
    return instance


KINDS = (RerobotsInstanceKind(),)
