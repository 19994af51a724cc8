"""``Instance``: one rented workspace instance (the surface of ``rerobots.Instance`` 0.11.0, plus).

Beyond the official client: waiting for READY / TERMINATED through the shared poller and clock
(so replay never sleeps), ``terminate(wait=True)``, an ``.ssh`` helper returning stdout, stderr and
exit status, a ``.camera`` helper returning decoded frames, ``vpn_config()``, SSH that never
writes the private key to disk and pins the host keys the API reports, add-ons activated and
waited until usable (``activate_addon``/``wait_for_addon``, mistyproxy with its URLs), VNC
wrappers, and ``on_request``/``on_created`` hooks so a caller can journal a create before and
the moment the service accepted it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..common.clock import Clock, default_clock
from ..common.polling import Backoff, PollTimeout, default_backoff, poll
from ..common.transports import SSHSession
from .api import APIClient
from .camera import Camera, Frame
from .errors import (
    BusyWorkspaceDeployment,
    BusyWorkspaceInstance,
    Error,
    HostKeyMismatch,
    InstanceInitFailed,
    InstanceNotReady,
    SSHError,
    WaitTimeout,
)
from .ssh import ParamikoSSHSession, SSHFactory, paramiko_ssh_factory
from .ssh_helper import InstanceSSH

INIT = "INIT"
INIT_FAIL = "INIT_FAIL"
READY = "READY"
TERMINATING = "TERMINATING"
TERMINATED = "TERMINATED"
STATUSES = (INIT, INIT_FAIL, READY, TERMINATING, TERMINATED)

StatusCallback = Callable[[str, float], None]

#: The add-ons an instance can have (``activate_addon`` / ``wait_for_addon`` take these names).
ADDONS = ("cam", "mistyproxy", "drive", "vnc")
#: The rerobots CLI's ``isready`` loop sleeps 1 s: our schedules are made from it.
SDK_POLL_INTERVAL = 1.0
ADDON_ACTIVE = "active"
ADDON_NOTFOUND = "notfound"


def addon_ready(addon: str, payload: dict[str, Any]) -> bool:
    """Whether an add-on status payload means "usable now".

    ``active`` for every add-on; mistyproxy also needs its two proxy URLs, which the service adds
    to the status once the proxy is up.
    """
    if payload.get("status") != ADDON_ACTIVE:
        return False
    if addon == "mistyproxy":
        urls = payload.get("url")
        return isinstance(urls, list) and len(urls) >= 2 and all(
            isinstance(u, str) and u for u in urls
        )
    return True


def _describe_addon(addon: str, payload: dict[str, Any]) -> str:
    status = str(payload.get("status"))
    if status == ADDON_ACTIVE and not addon_ready(addon, payload):
        return f"{status} (no proxy urls yet)"
    return status


def _normalize_types(workspace_types: str | Sequence[str] | None) -> list[str] | None:
    if workspace_types is None:
        return None
    if isinstance(workspace_types, str):
        return [workspace_types]
    types = [str(t) for t in workspace_types]
    if not types:
        raise ValueError("workspace_types is empty: give at least one type, e.g. ['null']")
    return types


class Instance:
    """Client for one workspace instance: create or attach, wait, ssh, cameras, add-ons."""

    def __init__(
        self,
        workspace_types: str | Sequence[str] | None = None,
        wdeployment_id: str | None = None,
        instance_id: str | None = None,
        api_token: str | None = None,
        headers: dict[str, str] | None = None,
        apic: APIClient | None = None,
        *,
        clock: Clock | None = None,
        ssh_factory: SSHFactory | None = None,
        duration: int | None = None,
        vpn: bool = False,
        on_created: Callable[[str], None] | None = None,
        on_request: Callable[[str], None] | None = None,
    ) -> None:
        """Create an instance (or attach to ``instance_id``); see ``rerobots.Instance``.

        ``on_request(wdeployment_id)`` is called just before each ``POST /new``, so a caller can
        record its intent (and, should the reply be lost, look the instance up with
        ``APIClient.find_instances(wdeployment_id)``). ``on_created(instance_id)`` is called as
        soon as the reply of ``POST /new`` is parsed, before any other request, so a caller can
        register teardown even if a later read fails.
        """
        types = _normalize_types(workspace_types)
        if types is None and wdeployment_id is None and instance_id is None:
            raise ValueError(
                "Instance() needs workspace_types, wdeployment_id or instance_id (e.g. "
                "Instance(['null'], apic=apic) to rent any deployment of type 'null')"
            )
        self.apic = apic if apic is not None else APIClient(api_token=api_token, headers=headers)
        self._clock = clock
        self._ssh_factory: SSHFactory = ssh_factory or paramiko_ssh_factory
        self._type: str | None = None
        self._details: dict[str, Any] | None = None
        self._conn: dict[str, Any] | None = None
        self._username = "root"
        self._session: SSHSession | None = None
        self.__sshkey: str | None = None
        #: (wall-clock time, status) each time a new status was seen.
        self.status_history: list[tuple[float, str]] = []
        #: Called with every camera :class:`Frame` taken (e.g. to save frames as evidence).
        self.on_frame: Callable[[Frame], None] | None = None
        self._status: str | None = None

        if wdeployment_id is not None and types is not None:
            info = self.apic.get_wdeployment_info(wdeployment_id)
            if info.get("type") not in types:
                raise ValueError(
                    f"workspace deployment {wdeployment_id} has type {info.get('type')!r}, "
                    f"not one of {types}; drop workspace_types or pick a deployment of that type"
                )
        self._wdeployment_id = wdeployment_id

        if instance_id is None:
            if self._wdeployment_id is not None:
                candidates = [self._wdeployment_id]
            else:
                assert types is not None
                found = self.apic.get_wdeployments(types=types)
                if not found:
                    raise ValueError(
                        f"no workspace deployments of any type in {types} "
                        "(list them with APIClient.get_wdeployments())"
                    )
                candidates = [str(d["id"]) for d in found]
            payload = self._request_first_free(
                candidates, duration=duration, vpn=vpn, on_request=on_request
            )
            if "id" not in payload:
                raise Error(f"POST /new/{self._wdeployment_id} gave no instance id: {payload}")
            if payload.get("success") is False:
                raise Error(
                    f"workspace deployment {self._wdeployment_id} did not start an instance "
                    f"(reply success=false, id {payload['id']}); it may be a reservation"
                )
            self._id = str(payload["id"])
            self._set_status(INIT)  # an instance always begins at INIT
            self.__sshkey = payload.get("sshkey")
            if on_created is not None:
                on_created(self._id)
        else:
            self._id = instance_id
            payload = self.apic.get_instance_info(instance_id)
            deployment = payload.get("deployment")
            if self._wdeployment_id is not None and deployment != self._wdeployment_id:
                raise ValueError(
                    f"instance {instance_id} belongs to workspace deployment {deployment}, "
                    f"not {self._wdeployment_id}; drop wdeployment_id or fix it"
                )
            if types is not None and payload.get("type") not in types:
                raise ValueError(
                    f"instance {instance_id} has workspace type {payload.get('type')!r}, not one "
                    f"of {types}"
                )
            self._absorb(payload)

    def _request_first_free(
        self, candidates: list[str], *, duration: int | None, vpn: bool,
        on_request: Callable[[str], None] | None,
    ) -> dict[str, Any]:
        """POST /new to each candidate in turn until one is not busy."""
        busy: BusyWorkspaceDeployment | None = None
        for wdid in candidates:
            if on_request is not None:
                on_request(wdid)
            try:
                payload = self.apic.request_instance(
                    wdid, reserve=False, duration=duration, vpn=vpn
                )
            except BusyWorkspaceDeployment as exc:
                busy = exc
                continue
            self._wdeployment_id = wdid
            return payload
        assert busy is not None
        if len(candidates) == 1:
            raise busy
        raise BusyWorkspaceDeployment(
            f"all {len(candidates)} matching workspace deployments are busy "
            f"({', '.join(candidates)}); last answer: {busy}",
            method=busy.method, path=busy.path, status=busy.status, payload=busy.payload,
        )

    # -- identity and state ----------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The instance ID."""
        return self._id

    @property
    def wdeployment_id(self) -> str | None:
        """The workspace deployment of this instance."""
        return self._wdeployment_id

    @property
    def status(self) -> str | None:
        """The last status seen (no request; ``get_status()`` asks the server)."""
        return self._status

    @property
    def has_private_key(self) -> bool:
        """Whether this object holds a generated private key for SSH."""
        return self.__sshkey is not None

    @property
    def clock(self) -> Clock:
        """The clock waits use: the one given, else the APIClient's, else the default."""
        return self._clock or self.apic.clock or default_clock()

    @property
    def ssh(self) -> InstanceSSH:
        """The ssh helper: ``exec``/``run_ok``/``put``/``get`` (connects on first use)."""
        return InstanceSSH(self)

    @property
    def camera(self) -> Camera:
        """The camera helper: ``activate()`` and ``snapshot()`` → :class:`Frame`."""
        return Camera(self)

    def __repr__(self) -> str:
        return (
            f"Instance(id={self._id!r}, wdeployment_id={self._wdeployment_id!r}, "
            f"status={self._status!r})"
        )

    def _set_status(self, status: str) -> None:
        if status != self._status:
            self.status_history.append((self.clock.time(), status))
        self._status = status

    def _absorb(self, payload: dict[str, Any]) -> None:
        """Take status, details and connection data from GET /instance/{id}."""
        if self._wdeployment_id is None and payload.get("deployment") is not None:
            self._wdeployment_id = str(payload["deployment"])
        if self._details is None:
            self._details = {
                "type": payload.get("type"),
                "region": payload.get("region"),
                "starttime": payload.get("starttime"),
            }
        if payload.get("rootuser"):
            self._username = str(payload["rootuser"])
        if "status" not in payload:
            raise Error(f"GET /instance/{self._id} reply has no 'status': {sorted(payload)}")
        self._set_status(str(payload["status"]))
        fwd = payload.get("fwd")
        if isinstance(fwd, dict):
            conn: dict[str, Any] = {"type": "sshtun"}
            if "ipv4" in fwd:
                conn["ipv4"] = fwd["ipv4"]
            if "port" in fwd:
                conn["port"] = fwd["port"]
            if "hostkeys" in payload:
                conn["hostkeys"] = list(payload["hostkeys"])
            self._conn = conn

    def get_status(self) -> str:
        """Ask the server for the status: INIT, INIT_FAIL, READY, TERMINATING or TERMINATED."""
        self._absorb(self.apic.get_instance_info(self._id))
        assert self._status is not None
        return self._status

    def _details_now(self) -> dict[str, Any]:
        res = dict(self._details or {})
        res["status"] = self._status
        if self._conn is not None:
            res["conn"] = dict(self._conn)
        return res

    def get_details(self) -> dict[str, Any]:
        """Status plus ``type``, ``region``, ``starttime`` and ``conn`` (ssh address, host keys)."""
        self.get_status()
        return self._details_now()

    # -- waiting ---------------------------------------------------------------------------------
    def _wait(
        self,
        done: Callable[[str], bool],
        *,
        timeout: float,
        what: str,
        on_change: StatusCallback | None,
        backoff: Backoff | None,
        hint: float | None = None,
    ) -> str:
        try:
            result = poll(
                self.get_status,
                done,
                timeout=timeout,
                what=f"instance {self._id} to be {what}",
                describe=str,
                clock=self.clock,
                backoff=backoff or default_backoff(SDK_POLL_INTERVAL),
                on_change=on_change,
                hint=hint,
            )
        except PollTimeout as exc:
            raise WaitTimeout(
                str(exc), last=exc.last, polls=exc.polls, elapsed=exc.elapsed
            ) from exc
        return result.value

    def wait_until_ready(
        self,
        timeout: float = 300,
        *,
        on_change: StatusCallback | None = None,
        backoff: Backoff | None = None,
        hint: float | None = None,
    ) -> dict[str, Any]:
        """Poll until READY and return the details; INIT_FAIL or termination raise at once.

        ``on_change(status, elapsed)`` is called for each new status (for timelines);
        ``hint`` is the expected time-to-ready in seconds, if known.
        """
        status = self._wait(
            lambda s: s != INIT,
            timeout=timeout, what=READY, on_change=on_change, backoff=backoff, hint=hint,
        )
        if status == INIT_FAIL:
            raise InstanceInitFailed(
                f"instance {self._id} on workspace deployment {self._wdeployment_id} failed to "
                "initialise (INIT_FAIL); it will never become READY: request a new instance"
            )
        if status != READY:
            raise InstanceNotReady(
                f"instance {self._id} went to {status} while waiting for READY"
            )
        return self._details_now()

    def wait_until_terminated(
        self,
        timeout: float = 120,
        *,
        on_change: StatusCallback | None = None,
        backoff: Backoff | None = None,
    ) -> str:
        """Poll until TERMINATED (or INIT_FAIL, also final) and return that status."""
        return self._wait(
            lambda s: s in (TERMINATED, INIT_FAIL),
            timeout=timeout, what=TERMINATED, on_change=on_change, backoff=backoff,
        )

    def _addon_status_of(self, addon: str) -> Callable[[], dict[str, Any]]:
        if addon not in ADDONS:
            raise ValueError(f"unknown add-on {addon!r}; expected one of {list(ADDONS)}")
        fetch: Callable[[str], dict[str, Any]] = getattr(self.apic, f"status_addon_{addon}")
        return lambda: fetch(self._id)

    def wait_for_addon(
        self,
        addon: str,
        timeout: float = 60,
        *,
        on_change: StatusCallback | None = None,
        backoff: Backoff | None = None,
    ) -> dict[str, Any]:
        """Poll add-on ``addon`` until it is usable and return its status payload.

        Usable means ``status == 'active'``, and for mistyproxy also both proxy URLs present
        (``payload['url'] == [http_url, https_url]``). Polls adaptively on the shared clock;
        ``on_change(state, elapsed)`` is called for each new state. While the add-on reads
        ``notfound`` the instance's status is checked too, so a terminated instance fails at once
        (:class:`InstanceNotReady`) instead of at the timeout; a timeout raises
        :class:`WaitTimeout`.
        """
        status_of = self._addon_status_of(addon)

        def fetch() -> dict[str, Any]:
            payload = status_of()
            if payload.get("status") == ADDON_NOTFOUND:
                status = self.get_status()
                if status != READY:
                    raise InstanceNotReady(
                        f"instance {self._id} is {status} while waiting for its {addon} add-on"
                    )
            return payload

        changed = None
        if on_change is not None:
            report = on_change

            def changed(payload: dict[str, Any], elapsed: float) -> None:
                report(_describe_addon(addon, payload), elapsed)

        try:
            result = poll(
                fetch,
                lambda p: addon_ready(addon, p),
                timeout=timeout,
                what=f"the {addon} add-on of instance {self._id} to be active"
                + (" with its proxy urls" if addon == "mistyproxy" else ""),
                describe=lambda p: _describe_addon(addon, p),
                clock=self.clock,
                backoff=backoff or default_backoff(SDK_POLL_INTERVAL),
                on_change=changed,
            )
        except PollTimeout as exc:
            hint = ""
            if isinstance(exc.last, dict) and exc.last.get("status") == ADDON_NOTFOUND:
                hint = f" (the add-on is not applied: call activate_addon({addon!r}) first)"
            raise WaitTimeout(
                f"{exc}{hint}", last=exc.last, polls=exc.polls, elapsed=exc.elapsed
            ) from exc
        return result.value

    def wait_addon_active(self, addon: str, timeout: float = 60) -> str:
        """Poll add-on ``addon`` until usable (see :meth:`wait_for_addon`); return ``'active'``."""
        return str(self.wait_for_addon(addon, timeout=timeout).get("status"))

    def activate_addon(
        self,
        addon: str,
        *,
        wait: bool = True,
        timeout: float = 60,
        on_change: StatusCallback | None = None,
        backoff: Backoff | None = None,
    ) -> dict[str, Any]:
        """Activate add-on ``addon`` unless already applied; with ``wait``, wait until usable.

        Returns the add-on's status payload: with ``wait`` it is ``active`` (mistyproxy with its
        ``url`` pair). An activation the service reports as "already applied" (e.g. a retried
        request whose first attempt went through) counts as done.
        """
        status_of = self._addon_status_of(addon)
        if status_of().get("status") == ADDON_NOTFOUND:
            try:
                getattr(self.apic, f"activate_addon_{addon}")(self._id)
            except Error as exc:
                if "already applied" not in str(exc):
                    raise
        if not wait:
            return status_of()
        return self.wait_for_addon(addon, timeout=timeout, on_change=on_change, backoff=backoff)

    # -- termination -----------------------------------------------------------------------------
    def terminate(
        self,
        wait: bool = False,
        timeout: float = 120,
        *,
        on_change: StatusCallback | None = None,
    ) -> str | None:
        """Close SSH and terminate; with ``wait``, retry while busy and wait for TERMINATED."""
        self.stop_sshclient()
        if not wait:
            self.apic.terminate_instance(self._id)
            return None
        start = self.clock.monotonic()

        def attempt() -> bool:
            try:
                self.apic.terminate_instance(self._id)
            except BusyWorkspaceInstance:
                return False
            return True

        try:
            poll(
                attempt, bool, timeout=timeout,
                what=f"instance {self._id} to accept termination (it answered busy)",
                describe=str, clock=self.clock,
            )
        except PollTimeout as exc:
            raise WaitTimeout(
                str(exc), last=exc.last, polls=exc.polls, elapsed=exc.elapsed
            ) from exc
        left = max(0.0, timeout - (self.clock.monotonic() - start))
        return self.wait_until_terminated(timeout=left, on_change=on_change)

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, *exc: object) -> None:
        """Terminate (retrying while INIT answers busy; not waiting for TERMINATED)."""
        if self._status in (TERMINATED, TERMINATING, INIT_FAIL):
            self.stop_sshclient()
        elif self._status == INIT:
            self.terminate(wait=True)
        else:
            self.terminate()

    # -- ssh -------------------------------------------------------------------------------------
    def start_sshclient(self, private_key: str | None = None) -> SSHSession:
        """Open the SSH session (the instance must be READY); return it.

        ``private_key`` is needed only when this object did not create the instance itself and
        the server does not hand out the generated key (``GET /instance/{id}/sshkey``, tried
        first: how an instance adopted after a lost reply gets its key).
        """
        status = self.get_status()
        if status == INIT_FAIL:
            raise InstanceInitFailed(f"instance {self._id} is INIT_FAIL: no ssh possible")
        if status != READY:
            raise InstanceNotReady(
                f"instance {self._id} is {status}, not READY: ssh needs a READY instance "
                "(call wait_until_ready() first)"
            )
        conn = self._conn or {}
        missing = [k for k in ("ipv4", "port", "hostkeys") if not conn.get(k)]
        if missing:
            raise SSHError(
                f"instance {self._id} is READY but its details lack {', '.join(missing)} "
                "(fwd.ipv4, fwd.port, hostkeys); cannot open ssh"
            )
        self.stop_sshclient()
        if private_key is None and self.__sshkey is None:
            try:
                self.__sshkey = self.apic.get_instance_sshkey(self._id)
            except Error as exc:
                raise SSHError(
                    f"instance {self._id} has no private key here: it was not created by this "
                    f"object and the server gives none ({exc}); pass "
                    "start_sshclient(private_key=...) with the key of the public key you sent"
                ) from exc
        key = private_key if private_key is not None else self.__sshkey
        try:
            session = self._ssh_factory(
                str(conn["ipv4"]), int(conn["port"]), list(conn["hostkeys"]), key,
                username=self._username,
            )
        except HostKeyMismatch as exc:
            raise HostKeyMismatch(
                f"instance {self._id}: {exc}", expected=exc.expected, got=exc.got
            ) from exc
        except SSHError as exc:
            raise type(exc)(f"instance {self._id}: {exc}") from exc
        if private_key is not None:
            self.__sshkey = private_key
        self._session = session
        return session

    def _ssh_session_or_start(self) -> SSHSession:
        if self._session is None:
            self.start_sshclient()
        assert self._session is not None
        return self._session

    def stop_sshclient(self) -> None:
        """Close the SSH session, if any."""
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def exec_ssh(
        self, command: str, timeout: float | None = None, get_files: bool = False
    ) -> Any:
        """Run ``command`` over SSH and return its stdout as bytes (like 0.11.0).

        ``get_files=True`` returns paramiko's (stdin, stdout, stderr); use ``.ssh.exec()`` for
        stdout, stderr and exit status together.
        """
        session = self._ssh_session_or_start()
        if get_files:
            return self._paramiko_session("exec_ssh(get_files=True)").client.exec_command(
                command, timeout=timeout
            )
        return session.exec(command, timeout).stdout

    def put_file(self, localpath: str, remotepath: str) -> None:
        """Copy a local file onto the instance (SFTP)."""
        self._ssh_session_or_start().put(str(localpath), remotepath)

    def get_file(self, remotepath: str, localpath: str) -> None:
        """Copy a file from the instance (remote path first, as in 0.11.0)."""
        self._ssh_session_or_start().get(remotepath, str(localpath))

    def _paramiko_session(self, what: str) -> ParamikoSSHSession:
        session = self._ssh_session_or_start()
        if not isinstance(session, ParamikoSSHSession):
            raise SSHError(
                f"{what} needs a real paramiko session, but this instance's ssh_factory made a "
                f"{type(session).__name__} (e.g. a replayed recording); use .ssh.exec/put/get"
            )
        return session

    def sftp_client(self) -> Any:
        """The paramiko ``SFTPClient`` (only with the real paramiko session)."""
        return self._paramiko_session("sftp_client()").sftp

    # -- deployment, vpn -------------------------------------------------------------------------
    def get_wdeployment_info(self) -> dict[str, Any]:
        """Details of this instance's workspace deployment."""
        return self.apic.get_wdeployment_info(self._deployment())

    def _deployment(self) -> str:
        if self._wdeployment_id is None:
            self.get_status()
        assert self._wdeployment_id is not None
        return self._wdeployment_id

    def get_access_rules(self, to_user: str | None = None) -> list[dict[str, Any]]:
        """Access rules of this instance's workspace deployment."""
        return self.apic.get_access_rules(wdeployment_id=self._deployment(), to_user=to_user)

    def create_access_rule(self, capability: str, to_user: str | None = None) -> int:
        """Add an access rule to this instance's deployment; return its id."""
        return self.apic.create_access_rule(
            wdeployment_id=self._deployment(), capability=capability, to_user=to_user
        )

    def del_access_rule(self, rule_id: int | str) -> None:
        """Delete an access rule of this instance's deployment."""
        self.apic.del_access_rule(wdeployment_id=self._deployment(), rule_id=rule_id)

    def get_firewall_rules(self) -> list[dict[str, Any]]:
        """The firewall rules of this instance."""
        return self.apic.get_firewall_rules(self._id)

    def add_firewall_rule(self, action: str, source_address: str | None = None) -> None:
        """Append a firewall rule (ACCEPT, DROP or REJECT, for a CIDR or every source)."""
        self.apic.add_firewall_rule(self._id, action=action, source_address=source_address)

    def flush_firewall_rules(self) -> None:
        """Remove every firewall rule of this instance."""
        self.apic.flush_firewall_rules(self._id)

    def get_vpn_newclient(self) -> dict[str, Any]:
        """Create an OpenVPN client: ``{client_id, ovpn}``."""
        return self.apic.get_vpn_newclient(self._id)

    def vpn_config(self) -> dict[str, Any]:
        """Same as :meth:`get_vpn_newclient` (the ``ovpn`` text is a secret)."""
        return self.get_vpn_newclient()

    # -- add-ons ---------------------------------------------------------------------------------
    def activate_addon_cam(
        self,
        *,
        wait: bool = False,
        timeout: float = 60,
        on_change: StatusCallback | None = None,
    ) -> dict[str, Any] | None:
        """Activate the cam add-on (as 0.11.0, returning None).

        ``wait=True``: see :meth:`activate_addon`; returns the status payload once usable.
        """
        if wait:
            return self.activate_addon("cam", timeout=timeout, on_change=on_change)
        self.apic.activate_addon_cam(self._id)
        return None

    def status_addon_cam(self) -> dict[str, Any]:
        """Status of the cam add-on."""
        return self.apic.status_addon_cam(self._id)

    def deactivate_addon_cam(self) -> None:
        """Deactivate the cam add-on."""
        self.apic.deactivate_addon_cam(self._id)

    def get_snapshot_cam(
        self, camera_id: int = 0, coding: str | None = None, dformat: str | None = None
    ) -> dict[str, Any]:
        """An image from camera ``camera_id`` (see ``APIClient.get_snapshot_cam``)."""
        return self.apic.get_snapshot_cam(
            self._id, camera_id=camera_id, coding=coding, dformat=dformat
        )

    def activate_addon_mistyproxy(
        self,
        *,
        wait: bool = False,
        timeout: float = 60,
        on_change: StatusCallback | None = None,
    ) -> dict[str, Any] | None:
        """Activate the mistyproxy add-on (as 0.11.0, returning None).

        ``wait=True``: see :meth:`activate_addon`; returns the status payload once usable.
        """
        if wait:
            return self.activate_addon("mistyproxy", timeout=timeout, on_change=on_change)
        self.apic.activate_addon_mistyproxy(self._id)
        return None

    def status_addon_mistyproxy(self) -> dict[str, Any]:
        """Status of the mistyproxy add-on (with ``url`` when active)."""
        return self.apic.status_addon_mistyproxy(self._id)

    def deactivate_addon_mistyproxy(self) -> None:
        """Deactivate the mistyproxy add-on."""
        self.apic.deactivate_addon_mistyproxy(self._id)

    def activate_addon_drive(
        self,
        *,
        wait: bool = False,
        timeout: float = 60,
        on_change: StatusCallback | None = None,
    ) -> dict[str, Any] | None:
        """Activate the drive add-on (as 0.11.0, returning None).

        ``wait=True``: see :meth:`activate_addon`; returns the status payload once usable.
        """
        if wait:
            return self.activate_addon("drive", timeout=timeout, on_change=on_change)
        self.apic.activate_addon_drive(self._id)
        return None

    def status_addon_drive(self) -> dict[str, Any]:
        """Status of the drive add-on."""
        return self.apic.status_addon_drive(self._id)

    def send_drive_command(self, command: dict[str, Any] | None) -> None:
        """Send a motion command through the drive add-on."""
        self.apic.send_drive_command(self._id, command)

    def deactivate_addon_drive(self) -> None:
        """Deactivate the drive add-on."""
        self.apic.deactivate_addon_drive(self._id)

    # 0.11.0 has no Instance wrappers for VNC; these fill in the instance id like the others.
    def activate_addon_vnc(
        self,
        *,
        wait: bool = False,
        timeout: float = 60,
        on_change: StatusCallback | None = None,
    ) -> dict[str, Any] | None:
        """Activate the VNC add-on; ``wait=True``: see :meth:`activate_addon`."""
        if wait:
            return self.activate_addon("vnc", timeout=timeout, on_change=on_change)
        self.apic.activate_addon_vnc(self._id)
        return None

    def status_addon_vnc(self) -> dict[str, Any]:
        """Status of the VNC add-on."""
        return self.apic.status_addon_vnc(self._id)

    def start_addon_vnc(self) -> None:
        """Start the user-visible VNC connection."""
        self.apic.start_addon_vnc(self._id)

    def stop_addon_vnc(self) -> None:
        """Stop the user-visible VNC connection."""
        self.apic.stop_addon_vnc(self._id)

    def deactivate_addon_vnc(self) -> None:
        """Deactivate the VNC add-on."""
        self.apic.deactivate_addon_vnc(self._id)


__all__ = [
    "ADDONS",
    "INIT",
    "INIT_FAIL",
    "READY",
    "STATUSES",
    "TERMINATED",
    "TERMINATING",
    "Instance",
    "addon_ready",
]
