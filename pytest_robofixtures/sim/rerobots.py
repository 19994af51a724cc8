"""The rerobots sandbox: the rerobots HTTP API as the ``rerobots`` 0.11.0 client uses it.

Serve it with :class:`~pytest_robofixtures.sim._wsgi.SimServer`::

    app = RerobotsSim(delay=0.2)
    with SimServer(app) as server:
        apic = rerobots.api.APIClient(api_token=app.token, base_uri=server.url, ignore_env=True)

Every request but ``/_admin/...`` and ``/proxy/...`` needs ``Authorization: Bearer <token>``;
a missing or wrong token answers 400 ``{"error_message": "wrong authorization token"}``.

Routes (wire facts: ``reference/rerobots_api.md``):

- ``GET /workspaces`` → ``{"workspace_types": [...]}``
- ``GET /deployments`` (``q`` substring of id/type/desc, ``maxlen`` max queue length or ``u``,
  ``types`` comma list, ``page``/``max_per_page``, ``info=t``) → ``workspace_deployments`` (ids),
  ``page_count`` and, with ``info``, ``info: {id: {type, region, queuelen}}``
- ``GET /deployment/{wdid}`` → id, type, type_version, supported_addons, desc, region, icounter,
  created, queuelen (404 ``error_message`` when unknown)
- ``GET /instances`` (``include_terminated``, ``page``/``max_per_page``) →
  ``{"workspace_instances": [ids], "page_count": n}``, newest first
- ``GET /instance/{id}`` → id, deployment, type, region, starttime, status, rootuser, and once
  READY ``fwd: {"ipv4": "127.0.0.1", "port": <ssh port>}`` and ``hostkeys: ["ssh-ed25519 ..."]``;
  ``endtime`` once TERMINATED or INIT_FAIL
- ``POST /new/{wdid or type}`` (JSON body whatever the Content-Type: ``reserve``, ``sshkey``
  (public), ``vpn``, ``expire_d`` (seconds), ``eurl``) → ``{"success": true, "id": ...,
  "sshkey": <RSA private key, PEM>}``; no ``sshkey`` in the answer when the body had one
  (that public key is authorized instead). Busy → 503 ``{"result_message": "All matching
  workspace deployments are busy. Try again later."}``
- ``POST /terminate/{id}`` → ``{"success": true}``; during INIT → 503 ``{"result_message":
  "This instance is busy. Try again later."}``; again while TERMINATING/TERMINATED → 200
- ``POST /vpn/{id}`` → ``{"client_id", "ovpn"}`` (only for READY instances made with
  ``vpn: true``; otherwise 400/503 with ``error_message``)
- add-ons ``cam``, ``mistyproxy``, ``drive``, ``vnc`` on ``/addon/<name>/{id}``: POST
  activates (when the deployment supports it and the instance is READY), GET answers ``{"status":
  "starting"|"active"}`` (404 when not applied), DELETE deactivates. ``cam`` also serves
  ``GET /addon/cam/{id}/{camera_id}/img`` → ``{"success": true, "format": "JPEG", "coding":
  "base64", "data": ...}`` (``success: false`` while starting); ``mistyproxy`` adds ``url:
  [http_url, https_url]`` once active (the http one is served by this app under ``/proxy/``);
  ``drive`` takes commands on ``POST /addon/drive/{id}/tx``; ``vnc`` has ``POST
  /addon/vnc/{id}/start`` and ``/stop`` (its user-visible connection; 503 while starting).

- ``GET /instance/{id}/sshkey`` → ``{"key": <generated private key>}`` (404 when the instance
  was made with the user's own public key)
- access rules: ``GET /rules`` and ``GET /deployment/{wdid}/rules`` (``to_user`` filter) →
  ``{"rules": [{id, date_created, user, wdeployment_id, capability, param}]}``; ``POST
  /deployment/{wdid}/rule {"cap", "user"?}`` → ``{"rule_id": n}`` (``user`` defaults to ``*``,
  everyone); ``DELETE /deployment/{wdid}/rule/{rid}``. ``CAP_NO_INSTANTIATE`` refuses ``/new``
  (403 ``error_message``); the newest rule naming the user wins, else the newest for ``*``.
- reservations: ``POST /new`` with ``reserve: true`` on a busy target → ``{"success": false,
  "id": <reservation id>}``; ``GET /reservations`` → ``{"reservations": [{id, target,
  created}]}``; ``DELETE /reservation/{rid}``. A reservation becomes an instance as soon as a
  matching deployment is free.
- firewall: ``GET /firewall/{id}`` → ``{"rules": [{"src"?, "action"}]}`` in order; ``POST`` appends
  (``action`` ACCEPT/DROP/REJECT, ``src`` an address or CIDR, normalised); ``DELETE`` flushes.
  The instance's SSH server applies them: the first rule matching the peer decides, a refused
  connection is closed at once (DROP and REJECT alike); no rule matching: accepted.
- CI: ``GET /ci/projects`` → ``{"projects": [{id, repo_url, created, jobs}]}``; ``POST /ci/new
  {"repo_url"}`` → ``{"pid"}``; ``POST /ci/project/{pid}/job {"branch", "commit"}`` → ``{"jid"}``
  (404 for an unknown project).
- tokens: ``POST /revoke/{sha256 hex}`` revokes a token this sandbox issued (404 unknown);
  ``POST /purge`` revokes all of them. ``POST /_admin/tokens`` (or :meth:`issue_token`) issues a
  new valid one.

The field shapes of rules, reservations and firewall rules beyond what 0.11.0 reads are the
sandbox's choice (the public sources do not show the real service's).

Lifecycle: INIT → READY after ``delay`` s (computed lazily from a monotonic clock on every
request; the instance's :class:`SimSSHServer` is started at that moment, with the instance key
authorized, cwd a per-instance scratch dir) → ``terminate`` → TERMINATING (SSH server stopped,
add-ons dropped) → TERMINATED after ``delay`` s (deployment freed, scratch dir removed). With
``expire_d`` a READY instance starts terminating by itself that many seconds after READY.
Add-ons go starting → active after ``delay`` s. One instance per deployment at a time.

Seeded deployments (when ``deployments`` is None), region ``us:cali``:

============================================  ============  ==========================  =======
id                                            type          supported_addons            cameras
============================================  ============  ==========================  =======
``88cc70b9-0b83-55e9-9900-434800e14856``      fixed_misty2  cam, mistyproxy, drive      1
``dcb05d0b-d0a5-59cc-90be-1b9091978d02``      null          cam, vnc                    2
``b510ff34-418a-54cc-8562-8927b9501cdd``      null          cam, vnc                    2
``1e65df67-5843-52d7-a598-685353628879``      basic_ur      cam                         1
============================================  ============  ==========================  =======

``deployments`` replaces them: a list of dicts with ``type`` and optionally ``id``, ``region``,
``supported_addons``, ``cameras``, ``desc``.

Fault knobs (Python method / admin endpoint, no token needed on admin endpoints):

- ``fail_next_instance()`` / ``POST /_admin/instances/next {"outcome": "init_fail"}``: the next
  instance goes INIT → INIT_FAIL after ``delay`` (and frees its deployment);
- ``stick_next_instance()`` / ``{"outcome": "stuck"}``: the next instance stays INIT for ever;
  ``{"outcome": "ready"}`` clears a pending outcome;
- ``set_busy(wdid, busy=True)`` / ``POST /_admin/deployments/{wdid}/busy {"busy": true}``: the
  deployment refuses ``/new`` as if someone else held it;
- the generic HTTP faults of :class:`SimApp` (``/_admin/faults``) and ``GET /_admin/resources``
  (:meth:`RerobotsSim.live_resources`: instances not TERMINATED/INIT_FAIL, active add-ons).

Ids (instances, reservations, VPN clients, proxy and issued tokens) come from a
``random.Random(seed)``: without a seed they are fresh on every start (two runs never share an
id), with ``seed=N`` the same sequence of calls gives the same ids, SSH host keys and timestamps
(``SEEDED_EPOCH`` plus one second per timestamp handed out), so re-recording against a seeded
sandbox does not churn. Camera frames depend only on each camera's frame counter (never on the
clock), so the same sequence of snapshots gives byte-identical JPEGs. Generated private keys
(RSA, VPN) and ports are always fresh.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import itertools
import math
import os
import random
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.wrappers import Request, Response

from ._wsgi import SimApp, json_response, read_json
from .camera import FrameSource
from .sshd import SimSSHServer, generate_host_key, generate_rsa_key, parse_public_key

__all__ = ["RerobotsSim", "SEEDED_DEPLOYMENTS", "DEFAULT_TOKEN"]

DEFAULT_TOKEN = "sim-rerobots-token"
REGION = "us:cali"
ADDONS = ("cam", "mistyproxy", "drive", "vnc")

BUSY_DEPLOYMENTS = "All matching workspace deployments are busy. Try again later."
BUSY_INSTANCE = "This instance is busy. Try again later."
DEFAULT_USER = "sim-user"
CAPABILITIES = ("CAP_NO_INSTANTIATE", "CAP_INSTANTIATE")
FIREWALL_ACTIONS = ("ACCEPT", "DROP", "REJECT")

SEEDED_DEPLOYMENTS: list[dict[str, Any]] = [
    {"id": "88cc70b9-0b83-55e9-9900-434800e14856", "type": "fixed_misty2",
     "supported_addons": ["cam", "mistyproxy", "drive"], "cameras": 1,
     "desc": "Misty II on a fixed mount, in the sandbox"},
    {"id": "dcb05d0b-d0a5-59cc-90be-1b9091978d02", "type": "null",
     "supported_addons": ["cam", "vnc"], "cameras": 2, "desc": "null workspace, in the sandbox"},
    {"id": "b510ff34-418a-54cc-8562-8927b9501cdd", "type": "null",
     "supported_addons": ["cam", "vnc"], "cameras": 2, "desc": "null workspace, in the sandbox"},
    {"id": "1e65df67-5843-52d7-a598-685353628879", "type": "basic_ur",
     "supported_addons": ["cam"], "cameras": 1, "desc": "UR arm on a table, in the sandbox"},
]

TERMINAL = ("TERMINATED", "INIT_FAIL")


STAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # the service's, e.g. ``2020-05-23 02:12:16.984534``
#: Where the timestamps of a seeded sandbox start (one second per timestamp handed out).
SEEDED_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def _error(message: str, status: int) -> Response:
    return json_response({"error_message": message}, status)


@dataclass
class _Deployment:
    id: str
    type: str
    region: str
    supported_addons: list[str]
    cameras: int
    desc: str
    created: str
    icounter: int = 0
    holder: str | None = None  # instance id using it
    forced_busy: bool = False

    @property
    def busy(self) -> bool:
        return self.forced_busy or self.holder is not None

    @property
    def queuelen(self) -> int:
        return 1 if self.busy else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type, "type_version": 1,
            "supported_addons": list(self.supported_addons), "desc": self.desc,
            "region": self.region, "icounter": self.icounter, "created": self.created,
            "queuelen": self.queuelen,
        }


@dataclass
class _Addon:
    name: str
    instance: str
    since: float
    status: str = "starting"
    token: str = ""
    commands: list[Any] = field(default_factory=list)
    running: bool = False  # vnc: the user-visible connection is started

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "addon": self.name, "instance": self.instance, "status": self.status,
        }
        if self.name == "vnc":
            out["running"] = self.running
        return out


@dataclass
class _Instance:
    id: str
    deployment: _Deployment
    created: float
    starttime: str
    outcome: str  # "ready", "init_fail", "stuck"
    host_key: paramiko.PKey
    authorized: str  # OpenSSH public key line
    private_key: str | None
    vpn: bool
    expire_d: float | None
    eurl: str | None
    reserve: bool
    status: str = "INIT"
    ready_at: float | None = None
    terminating_at: float | None = None
    endtime: str | None = None
    ssh: SimSSHServer | None = None
    scratch: Path | None = None
    addons: dict[str, _Addon] = field(default_factory=dict)
    cameras: list[FrameSource] = field(default_factory=list)
    vpn_clients: list[str] = field(default_factory=list)
    firewall: list[dict[str, str]] = field(default_factory=list)

    def admits(self, address: str) -> bool:
        """Whether the firewall lets ``address`` in: the first matching rule decides."""
        ip = ipaddress.ip_address(address)
        for rule in self.firewall:
            src = rule.get("src")
            if src is None or ip in ipaddress.ip_network(src, strict=False):
                return rule["action"] == "ACCEPT"
        return True

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "deployment": self.deployment.id, "type": self.deployment.type,
            "region": self.deployment.region, "starttime": self.starttime,
            "status": self.status, "rootuser": "root",
        }
        if self.status == "READY" and self.ssh is not None:
            out["fwd"] = {"ipv4": self.ssh.host, "port": self.ssh.port}
            out["hostkeys"] = [f"{self.ssh.host_key_line} root@{self.id[:8]}"]
        if self.endtime is not None:
            out["endtime"] = self.endtime
        return out


@dataclass
class _Reservation:
    """A request for a busy deployment, fulfilled when it frees up."""

    id: str
    target: str  # deployment id or workspace type, as posted
    created: str
    authorized: str
    private_key: str | None
    host_key: paramiko.PKey
    vpn: bool
    expire_d: float | None
    eurl: str | None
    instance: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "target": self.target, "created": self.created}


class RerobotsSim(SimApp):
    """The rerobots API sandbox: deployments, instances with real SSH, cam/mistyproxy/drive."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        delay: float = 0.5,
        scratch_root: Path | None = None,
        deployments: list[dict[str, Any]] | None = None,
        seed: int | None = None,
        user: str = DEFAULT_USER,
    ) -> None:
        super().__init__()
        self.token = token
        self.user = user
        self.delay = float(delay)
        self.seed = seed
        # No seed: fresh ids on every start, so two runs never share an instance id.
        self._rng = random.Random(seed)
        self._stamps = itertools.count()
        self._tokens: set[str] = {token}
        self._revoked: set[str] = set()  # hex SHA-256 of revoked tokens
        self.rules: list[dict[str, Any]] = []
        self._rule_ids = itertools.count(1)
        self.reservations: dict[str, _Reservation] = {}
        self.ci_projects: dict[str, dict[str, Any]] = {}
        self._own_scratch = scratch_root is None
        self.scratch_root = (
            Path(tempfile.mkdtemp(prefix="rerobots-sim-")) if scratch_root is None
            else Path(scratch_root)
        )
        self.scratch_root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # Commands run as an unprivileged user (see sshd): let it reach its instance dir by
            # absolute path ($HOME), without listing the others. Parents must allow it too.
            self.scratch_root.chmod(0o711)
        self._closed = False
        self._next_outcome = "ready"
        self.deployments: dict[str, _Deployment] = {}
        created = self._stamp()
        for spec in SEEDED_DEPLOYMENTS if deployments is None else deployments:
            dep = _Deployment(
                id=str(spec.get("id") or self._uuid()), type=str(spec["type"]),
                region=str(spec.get("region", REGION)),
                supported_addons=list(spec.get("supported_addons", ["cam"])),
                cameras=int(spec.get("cameras", 1)), desc=str(spec.get("desc", "")),
                created=created,
            )
            self.deployments[dep.id] = dep
        self.instances: dict[str, _Instance] = {}
        r = self.route
        r("/workspaces", self._workspaces, ["GET"])
        r("/deployments", self._list_deployments, ["GET"])
        r("/deployment/<wdid>", self._get_deployment, ["GET"])
        r("/instances", self._list_instances, ["GET"])
        r("/instance/<iid>", self._get_instance, ["GET"])
        r("/instance/<iid>/sshkey", self._get_sshkey, ["GET"])
        r("/rules", self._list_rules, ["GET"])
        r("/deployment/<wdid>/rules", self._list_rules, ["GET"])
        r("/deployment/<wdid>/rule", self._add_rule, ["POST"])
        r("/deployment/<wdid>/rule/<rid>", self._del_rule, ["DELETE"])
        r("/reservations", self._list_reservations, ["GET"])
        r("/reservation/<rid>", self._cancel_reservation, ["DELETE"])
        r("/firewall/<iid>", self._get_firewall, ["GET"])
        r("/firewall/<iid>", self._add_firewall, ["POST"])
        r("/firewall/<iid>", self._flush_firewall, ["DELETE"])
        r("/revoke/<sha256>", self._revoke, ["POST"])
        r("/purge", self._purge, ["POST"])
        r("/ci/projects", self._ci_projects, ["GET"])
        r("/ci/new", self._ci_new, ["POST"])
        r("/ci/project/<pid>/job", self._ci_job, ["POST"])
        r("/new/<target>", self._new, ["POST"])
        r("/terminate/<iid>", self._terminate, ["POST"])
        r("/vpn/<iid>", self._vpn, ["POST"])
        r("/addon/cam/<iid>/<camera_id>/img", self._cam_img, ["GET"])
        r("/addon/drive/<iid>/tx", self._drive_tx, ["POST"])
        r("/addon/vnc/<iid>/<action>", self._vnc_action, ["POST"])
        r("/addon/<addon>/<iid>", self._addon_activate, ["POST"])
        r("/addon/<addon>/<iid>", self._addon_status, ["GET"])
        r("/addon/<addon>/<iid>", self._addon_deactivate, ["DELETE"])
        r("/proxy/<token>", self._proxy, ["GET", "POST", "PUT", "DELETE"])
        r("/proxy/<token>/<path:rest>", self._proxy, ["GET", "POST", "PUT", "DELETE"])
        r(f"{self.ADMIN}/instances/next", self._admin_next, ["POST"])
        r(f"{self.ADMIN}/deployments/<wdid>/busy", self._admin_busy, ["POST"])
        r(f"{self.ADMIN}/tokens", self._admin_token, ["POST"])

    # -- knobs -------------------------------------------------------------------------------
    def fail_next_instance(self) -> None:
        """Make the next instance go INIT → INIT_FAIL instead of READY."""
        with self.lock:
            self._next_outcome = "init_fail"

    def stick_next_instance(self) -> None:
        """Make the next instance stay INIT for ever (a stuck provisioning)."""
        with self.lock:
            self._next_outcome = "stuck"

    def set_busy(self, wdid: str, busy: bool = True) -> None:
        """Mark a deployment busy (``/new`` answers 503) or free it again."""
        with self.lock:
            self._deployment_or_raise(wdid).forced_busy = busy

    def ssh_server(self, instance_id: str) -> SimSSHServer | None:
        """The SSH server of an instance (None unless it is READY)."""
        with self.lock:
            self._tick()
            inst = self.instances.get(instance_id)
            return inst.ssh if inst is not None else None

    def instance_status(self, instance_id: str) -> str:
        """The current status of an instance (KeyError when unknown)."""
        with self.lock:
            self._tick()
            return self.instances[instance_id].status

    def issue_token(self) -> str:
        """A new valid API token (e.g. one a test then revokes)."""
        with self.lock:
            token = f"sim-token-{self._uuid()}"
            self._tokens.add(token)
            return token

    def live_resources(self) -> dict[str, list[dict[str, Any]]]:
        """Instances not TERMINATED/INIT_FAIL, applied add-ons, pending reservations."""
        with self.lock:
            self._tick()
            live = [i for i in self.instances.values() if i.status not in TERMINAL]
            return {
                "instances": [i.as_dict() for i in live],
                "addons": [a.as_dict() for i in live for a in i.addons.values()],
                "reservations": [r.as_dict() for r in self.reservations.values()],
            }

    def close(self) -> None:
        """Stop every SSH server and remove the scratch directories this app made."""
        with self.lock:
            self._closed = True
            instances = list(self.instances.values())
        for inst in instances:
            if inst.ssh is not None:
                inst.ssh.stop()
            if inst.scratch is not None:
                shutil.rmtree(inst.scratch, ignore_errors=True)
        if self._own_scratch:
            shutil.rmtree(self.scratch_root, ignore_errors=True)

    # -- SimApp hooks ------------------------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        """400 ``wrong authorization token`` unless the Bearer token matches (proxy exempt)."""
        if request.path.startswith("/proxy/"):
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        token = value.strip()
        with self.lock:
            valid = token in self._tokens and _sha256(token) not in self._revoked
        if scheme.lower() != "bearer" or not valid:
            return _error("wrong authorization token", 400)
        return None

    def not_found(self, request: Request) -> Response:
        """Unknown routes: 404 with an ``error_message``."""
        return _error(f"no such route: {request.method} {request.path}", 404)

    def on_error(self, request: Request, exc: Exception) -> Response:
        """Unexpected errors: 500 with an ``error_message``."""
        return _error(f"internal error: {exc}", 500)

    # -- state machine -----------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _stamp(self) -> str:
        """Now, in the service's format; seeded: a fixed epoch plus one second per stamp."""
        if self.seed is None:
            return dt.datetime.now(dt.timezone.utc).strftime(STAMP_FORMAT)
        return (SEEDED_EPOCH + dt.timedelta(seconds=next(self._stamps))).strftime(STAMP_FORMAT)

    def _host_key(self) -> paramiko.PKey:
        """A fresh host key; seeded: drawn from the seed, so recordings show the same keys."""
        if self.seed is None:
            return generate_host_key()
        return generate_host_key(self._rng.randbytes(32))

    def _deployment_or_raise(self, wdid: str) -> _Deployment:
        try:
            return self.deployments[wdid]
        except KeyError:
            raise KeyError(f"no deployment {wdid}") from None

    def _tick(self) -> None:
        """Advance every instance and add-on to where the clock says it is (lock held)."""
        now = time.monotonic()
        for inst in list(self.instances.values()):
            self._advance(inst, now)
        self._fulfil_reservations(now)

    def _fulfil_reservations(self, now: float) -> None:
        """Turn the oldest reservation of each freed deployment into an instance (lock held)."""
        for res in list(self.reservations.values()):
            free = [
                d for d in self._candidates(res.target) if not d.busy and self._may_instantiate(d)
            ]
            if not free:
                continue
            inst = self._create_instance(
                free[0], now, authorized=res.authorized, private_key=res.private_key,
                host_key=res.host_key, vpn=res.vpn, expire_d=res.expire_d, eurl=res.eurl,
                reserve=True,
            )
            res.instance = inst.id
            del self.reservations[res.id]
            self._advance(inst, now)

    def _candidates(self, target: str) -> list[_Deployment]:
        if target in self.deployments:
            return [self.deployments[target]]
        return [d for d in self.deployments.values() if d.type == target]

    def _may_instantiate(self, dep: _Deployment) -> bool:
        """Access rules: the newest rule naming this user wins, else the newest for everyone."""
        mine = [r for r in self.rules if r["wdeployment_id"] == dep.id and r["user"] == self.user]
        anyone = [r for r in self.rules if r["wdeployment_id"] == dep.id and r["user"] == "*"]
        for rules in (mine, anyone):
            if rules:
                return bool(rules[-1]["capability"] == "CAP_INSTANTIATE")
        return True

    def _create_instance(
        self, dep: _Deployment, now: float, *, authorized: str, private_key: str | None,
        host_key: paramiko.PKey, vpn: bool, expire_d: float | None, eurl: str | None,
        reserve: bool,
    ) -> _Instance:
        inst = _Instance(
            id=self._uuid(), deployment=dep, created=now, starttime=self._stamp(),
            outcome=self._next_outcome, host_key=host_key, authorized=authorized,
            private_key=private_key, vpn=vpn, expire_d=expire_d, eurl=eurl, reserve=reserve,
        )
        self._next_outcome = "ready"
        dep.holder = inst.id
        dep.icounter += 1
        self.instances[inst.id] = inst
        return inst

    def _advance(self, inst: _Instance, now: float) -> None:
        while True:
            before = inst.status
            if inst.status == "INIT" and inst.outcome != "stuck" and (
                now >= inst.created + self.delay
            ):
                if inst.outcome == "init_fail":
                    self._finish(inst, "INIT_FAIL")
                else:
                    self._make_ready(inst, inst.created + self.delay)
            elif inst.status == "READY":
                if inst.expire_d is not None and inst.ready_at is not None and (
                    now >= inst.ready_at + inst.expire_d
                ):
                    self._begin_termination(inst, inst.ready_at + inst.expire_d)
                for addon in inst.addons.values():
                    if addon.status == "starting" and now >= addon.since + self.delay:
                        addon.status = "active"
            elif inst.status == "TERMINATING" and inst.terminating_at is not None and (
                now >= inst.terminating_at + self.delay
            ):
                self._finish(inst, "TERMINATED")
            if inst.status == before:
                return

    def _make_ready(self, inst: _Instance, at: float) -> None:
        if self._closed:
            return
        scratch = self.scratch_root / f"instance-{inst.id}"
        try:
            scratch.mkdir(parents=True, exist_ok=True)
            inst.scratch = scratch
            inst.ssh = SimSSHServer(
                scratch, [inst.authorized], host_key=inst.host_key, admit=inst.admits
            ).start()
        except OSError:
            self._finish(inst, "INIT_FAIL")
            return
        inst.cameras = [
            FrameSource(name=f"{inst.deployment.type} cam{n}", hue=40 * n)
            for n in range(inst.deployment.cameras)
        ]
        inst.status = "READY"
        inst.ready_at = at

    def _begin_termination(self, inst: _Instance, at: float) -> None:
        inst.status = "TERMINATING"
        inst.terminating_at = at
        inst.addons.clear()
        if inst.ssh is not None:
            inst.ssh.stop()

    def _finish(self, inst: _Instance, status: str) -> None:
        inst.status = status
        inst.endtime = self._stamp()
        inst.addons.clear()
        if inst.ssh is not None:
            inst.ssh.stop()
        if inst.scratch is not None:
            shutil.rmtree(inst.scratch, ignore_errors=True)
        if inst.deployment.holder == inst.id:
            inst.deployment.holder = None

    # -- handlers: deployments ---------------------------------------------------------------
    def _workspaces(self, request: Request) -> Response:
        with self.lock:
            types = sorted({d.type for d in self.deployments.values()})
        return json_response({"workspace_types": types})

    def _list_deployments(self, request: Request) -> Response:
        args = request.args
        try:
            page, per_page = _paging(args)
        except ValueError as exc:
            return _error(str(exc), 400)
        maxlen_arg = args.get("maxlen", "u")
        try:
            maxlen = None if maxlen_arg in ("", "u") else int(maxlen_arg)
        except ValueError:
            return _error("maxlen must be an integer or u", 400)
        types = [t for t in args.get("types", "").split(",") if t]
        query = args.get("q", "").lower()
        with self.lock:
            self._tick()
            deps = [
                d for d in self.deployments.values()
                if (not types or d.type in types)
                and (maxlen is None or d.queuelen <= maxlen)
                and (not query or query in f"{d.id} {d.type} {d.desc}".lower())
            ]
            chosen, page_count = _page(deps, page, per_page)
            payload: dict[str, Any] = {
                "workspace_deployments": [d.id for d in chosen], "page_count": page_count,
            }
            if args.get("info", "") in ("t", "true", "1"):
                payload["info"] = {
                    d.id: {"type": d.type, "region": d.region, "queuelen": d.queuelen}
                    for d in chosen
                }
        return json_response(payload)

    def _get_deployment(self, request: Request, wdid: str) -> Response:
        with self.lock:
            self._tick()
            dep = self.deployments.get(wdid)
            if dep is None:
                return _error("workspace deployment not found", 404)
            return json_response(dep.as_dict())

    # -- handlers: instances -----------------------------------------------------------------
    def _list_instances(self, request: Request) -> Response:
        args = request.args
        try:
            page, per_page = _paging(args)
        except ValueError as exc:
            return _error(str(exc), 400)
        include_terminated = "include_terminated" in args and args["include_terminated"].lower() \
            not in ("0", "false", "f", "no")
        with self.lock:
            self._tick()
            insts = [
                i for i in reversed(list(self.instances.values()))
                if include_terminated or i.status not in TERMINAL
            ]
            chosen, page_count = _page(insts, page, per_page)
            return json_response(
                {"workspace_instances": [i.id for i in chosen], "page_count": page_count}
            )

    def _get_instance(self, request: Request, iid: str) -> Response:
        with self.lock:
            self._tick()
            inst = self.instances.get(iid)
            if inst is None:
                return _error("instance not found", 404)
            return json_response(inst.as_dict())

    def _new(self, request: Request, target: str) -> Response:
        try:
            body = read_json(request)
        except ValueError:
            return _error("request body is not valid JSON", 400)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return _error("request body must be a JSON object", 400)
        unknown = set(body) - {"reserve", "sshkey", "vpn", "expire_d", "eurl"}
        if unknown:
            return _error(f"unknown parameters: {', '.join(sorted(unknown))}", 400)
        public = body.get("sshkey")
        if public is not None:
            if not isinstance(public, str):
                return _error("sshkey must be an OpenSSH public key string", 400)
            try:
                parse_public_key(public)
            except ValueError:
                return _error("sshkey is not a valid OpenSSH public key", 400)
        expire = body.get("expire_d")
        if expire is not None and (
            isinstance(expire, bool) or not isinstance(expire, (int, float)) or expire <= 0
        ):
            return _error("expire_d must be a positive number of seconds", 400)
        eurl = body.get("eurl")
        if eurl is not None and not isinstance(eurl, str):
            return _error("eurl must be a string", 400)
        reserve = bool(body.get("reserve"))
        # A request that will be refused is answered before any key is made: an RSA key costs
        # tens of milliseconds of CPU, and clients ask deployment after deployment while busy.
        with self.lock:
            self._tick()
            refused = self._refusal(target, reserve)
        if refused is not None:
            return refused
        # Key material outside the lock (RSA generation takes a moment); the checks below are
        # made again, as another request may have taken the deployment meanwhile.
        private_key: str | None = None
        if public is None:
            private_key, public = generate_rsa_key()
        with self.lock:
            self._tick()
            refused = self._refusal(target, reserve)
            if refused is not None:
                return refused
            free = [d for d in self._candidates(target)
                    if self._may_instantiate(d) and not d.busy]
            host_key = self._host_key()
            if not free and reserve:
                rid = self._uuid()
                self.reservations[rid] = _Reservation(
                    id=rid, target=target, created=self._stamp(), authorized=public,
                    private_key=private_key, host_key=host_key, vpn=bool(body.get("vpn")),
                    expire_d=None if expire is None else float(expire), eurl=eurl,
                )
                return json_response({"success": False, "id": rid})
            if not free:
                return json_response({"result_message": BUSY_DEPLOYMENTS}, 503)
            inst = self._create_instance(
                free[0], time.monotonic(), authorized=public, private_key=private_key,
                host_key=host_key, vpn=bool(body.get("vpn")),
                expire_d=None if expire is None else float(expire), eurl=eurl, reserve=reserve,
            )
            if self.delay <= 0:
                self._tick()
        payload: dict[str, Any] = {"success": True, "id": inst.id}
        if private_key is not None:
            payload["sshkey"] = private_key
        return json_response(payload)

    def _refusal(self, target: str, reserve: bool) -> Response | None:
        """The answer of a ``POST /new`` that cannot start or reserve anything now (lock held)."""
        candidates = self._candidates(target)
        if not candidates:
            return _error("no workspace deployment or type matches " + target, 404)
        allowed = [d for d in candidates if self._may_instantiate(d)]
        if not allowed:
            return _error("not permitted to instantiate " + target + " (access rules)", 403)
        if not reserve and all(d.busy for d in allowed):
            return json_response({"result_message": BUSY_DEPLOYMENTS}, 503)
        return None

    def _terminate(self, request: Request, iid: str) -> Response:
        with self.lock:
            self._tick()
            inst = self.instances.get(iid)
            if inst is None:
                return _error("instance not found", 404)
            if inst.status == "INIT":
                return json_response({"result_message": BUSY_INSTANCE}, 503)
            if inst.status == "READY":
                self._begin_termination(inst, time.monotonic())
                if self.delay <= 0:
                    self._tick()
        return json_response({"success": True})

    def _vpn(self, request: Request, iid: str) -> Response:
        with self.lock:
            self._tick()
            inst = self.instances.get(iid)
            if inst is None:
                return _error("instance not found", 404)
            if inst.status != "READY":
                return _error(f"instance is {inst.status}, not READY", 503)
            if not inst.vpn:
                return _error("VPN is not enabled on this instance", 400)
            client_id = self._uuid()
            inst.vpn_clients.append(client_id)
        return json_response({"client_id": client_id, "ovpn": _ovpn(inst.id, client_id)})

    def _get_sshkey(self, request: Request, iid: str) -> Response:
        """The generated private key of an instance (how a fulfilled reservation gets it)."""
        with self.lock:
            self._tick()
            inst = self.instances.get(iid)
            if inst is None:
                return _error("instance not found", 404)
            if inst.private_key is None:
                return _error("this instance was made with your own public key", 404)
            return json_response({"key": inst.private_key})

    # -- handlers: access rules ----------------------------------------------------------------
    def _list_rules(self, request: Request, wdid: str | None = None) -> Response:
        to_user = request.args.get("to_user")
        with self.lock:
            if wdid is not None and wdid not in self.deployments:
                return _error("no workspace deployment found with given ID", 404)
            rules = [
                dict(r) for r in self.rules
                if (wdid is None or r["wdeployment_id"] == wdid)
                and (to_user is None or r["user"] == to_user)
            ]
        return json_response({"rules": rules})

    def _add_rule(self, request: Request, wdid: str) -> Response:
        try:
            body = read_json(request)
        except ValueError:
            return _error("request body is not valid JSON", 400)
        if not isinstance(body, dict) or set(body) - {"cap", "user"}:
            return _error("body must be an object with cap and optionally user", 400)
        if body.get("cap") not in CAPABILITIES:
            return _error(f"cap must be one of {', '.join(CAPABILITIES)}", 400)
        user = body.get("user", "*")
        if not isinstance(user, str) or not user:
            return _error("user must be a non-empty string", 400)
        with self.lock:
            if wdid not in self.deployments:
                return _error("no workspace deployment found with given ID", 404)
            rule = {
                "id": next(self._rule_ids), "date_created": self._stamp(), "user": user,
                "wdeployment_id": wdid, "capability": body["cap"], "param": 0,
            }
            self.rules.append(rule)
        return json_response({"rule_id": rule["id"]})

    def _del_rule(self, request: Request, wdid: str, rid: str) -> Response:
        with self.lock:
            if wdid not in self.deployments:
                return _error("no workspace deployment found with given ID", 404)
            kept = [r for r in self.rules if not (r["wdeployment_id"] == wdid
                                                  and str(r["id"]) == rid)]
            if len(kept) == len(self.rules):
                return _error("rule not found", 404)
            self.rules = kept
        return json_response({"success": True})

    # -- handlers: reservations ----------------------------------------------------------------
    def _list_reservations(self, request: Request) -> Response:
        with self.lock:
            self._tick()
            return json_response(
                {"reservations": [r.as_dict() for r in self.reservations.values()]}
            )

    def _cancel_reservation(self, request: Request, rid: str) -> Response:
        with self.lock:
            self._tick()
            if self.reservations.pop(rid, None) is None:
                return _error("reservation not found", 404)
        return json_response({"success": True})

    # -- handlers: firewall --------------------------------------------------------------------
    def _get_firewall(self, request: Request, iid: str) -> Response:
        with self.lock:
            self._tick()
            inst = self.instances.get(iid)
            if inst is None:
                return _error("instance not found", 404)
            return json_response({"rules": [dict(r) for r in inst.firewall]})

    def _add_firewall(self, request: Request, iid: str) -> Response:
        try:
            body = read_json(request)
        except ValueError:
            return _error("request body is not valid JSON", 400)
        if not isinstance(body, dict) or set(body) - {"src", "action"}:
            return _error("body must be an object with action and optionally src", 400)
        action = body.get("action")
        if action not in FIREWALL_ACTIONS:
            return _error(f"action must be one of {', '.join(FIREWALL_ACTIONS)}", 400)
        rule = {"action": str(action)}
        if "src" in body:
            try:
                network = ipaddress.ip_network(str(body["src"]), strict=False)
            except ValueError:
                return _error(f"src is not an address or CIDR: {body['src']!r}", 400)
            rule = {"src": str(network), "action": str(action)}
        with self.lock:
            self._tick()
            inst = self._ready_instance(iid)
            if isinstance(inst, Response):
                return inst
            inst.firewall.append(rule)
        return json_response({"success": True})

    def _flush_firewall(self, request: Request, iid: str) -> Response:
        with self.lock:
            self._tick()
            inst = self._ready_instance(iid)
            if isinstance(inst, Response):
                return inst
            inst.firewall.clear()
        return json_response({"success": True})

    # -- handlers: tokens ----------------------------------------------------------------------
    def _revoke(self, request: Request, sha256: str) -> Response:
        digest = sha256.lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            return _error("expected the hex SHA-256 of a token", 400)
        with self.lock:
            if digest not in {_sha256(t) for t in self._tokens}:
                return _error("token not found", 404)
            self._revoked.add(digest)
        return json_response({"success": True})

    def _purge(self, request: Request) -> Response:
        with self.lock:
            self._revoked.update(_sha256(t) for t in self._tokens)
        return json_response({"success": True})

    # -- handlers: CI --------------------------------------------------------------------------
    def _ci_projects(self, request: Request) -> Response:
        with self.lock:
            return json_response({"projects": [
                {k: v for k, v in proj.items() if k != "jobs"} | {"jobs": list(proj["jobs"])}
                for proj in self.ci_projects.values()
            ]})

    def _ci_new(self, request: Request) -> Response:
        try:
            body = read_json(request)
        except ValueError:
            return _error("request body is not valid JSON", 400)
        url = body.get("repo_url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url.strip():
            return _error("repo_url must be a non-empty string", 400)
        with self.lock:
            pid = self._uuid()
            self.ci_projects[pid] = {
                "id": pid, "repo_url": url, "created": self._stamp(), "jobs": [],
            }
        return json_response({"pid": pid})

    def _ci_job(self, request: Request, pid: str) -> Response:
        try:
            body = read_json(request)
        except ValueError:
            return _error("request body is not valid JSON", 400)
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) and body[k] for k in ("branch", "commit")
        ):
            return _error("job needs strings branch and commit", 400)
        with self.lock:
            proj = self.ci_projects.get(pid)
            if proj is None:
                return _error("CI project not found", 404)
            jid = self._uuid()
            proj["jobs"].append({"id": jid, "branch": body["branch"], "commit": body["commit"]})
        return json_response({"jid": jid})

    # -- handlers: add-ons -------------------------------------------------------------------
    def _ready_instance(self, iid: str) -> _Instance | Response:
        inst = self.instances.get(iid)
        if inst is None:
            return _error("instance not found", 404)
        if inst.status != "READY":
            return _error(f"instance is {inst.status}, not READY", 503)
        return inst

    def _addon_activate(self, request: Request, addon: str, iid: str) -> Response:
        if addon not in ADDONS:
            return _error(f"unknown add-on: {addon}", 404)
        with self.lock:
            self._tick()
            inst = self._ready_instance(iid)
            if isinstance(inst, Response):
                return inst
            if addon not in inst.deployment.supported_addons:
                return _error(f"add-on {addon} is not supported by this deployment", 400)
            if addon in inst.addons:
                if addon == "cam":
                    return json_response({"success": True})
                return _error(f"add-on {addon} already applied", 503)
            inst.addons[addon] = _Addon(
                name=addon, instance=iid, since=time.monotonic(),
                token=self._uuid().replace("-", ""),
            )
            if self.delay <= 0:
                self._tick()
        return json_response({"success": True})

    def _addon_status(self, request: Request, addon: str, iid: str) -> Response:
        if addon not in ADDONS:
            return _error(f"unknown add-on: {addon}", 404)
        with self.lock:
            self._tick()
            inst = self.instances.get(iid)
            if inst is None:
                return _error("instance not found", 404)
            state = inst.addons.get(addon)
            if state is None:
                return _error(f"add-on {addon} not applied", 404)
            payload: dict[str, Any] = {"status": state.status}
            if addon == "mistyproxy" and state.status == "active":
                base = f"{request.host_url}proxy/{state.token}"
                payload["url"] = [base, "https" + base[len("http"):]]
        return json_response(payload)

    def _addon_deactivate(self, request: Request, addon: str, iid: str) -> Response:
        if addon not in ADDONS:
            return _error(f"unknown add-on: {addon}", 404)
        with self.lock:
            self._tick()
            inst = self.instances.get(iid)
            if inst is None:
                return _error("instance not found", 404)
            if inst.addons.pop(addon, None) is None:
                return _error(f"add-on {addon} not applied", 404)
        return json_response({"success": True})

    def _cam_img(self, request: Request, iid: str, camera_id: str) -> Response:
        with self.lock:
            self._tick()
            inst = self.instances.get(iid)
            state = inst.addons.get("cam") if inst is not None else None
            if inst is None or state is None:
                return _error("instance not found, or cam add-on not active", 404)
            if not camera_id.isdigit() or int(camera_id) >= len(inst.cameras):
                return _error(f"no camera {camera_id}", 404)
            if state.status != "active":
                return json_response({"success": False, "message": "cam add-on is starting"})
            source = inst.cameras[int(camera_id)]
        data = base64.b64encode(source.next_jpeg()).decode("ascii")
        return json_response({"success": True, "format": "JPEG", "coding": "base64", "data": data})

    def _vnc_action(self, request: Request, iid: str, action: str) -> Response:
        if action not in ("start", "stop"):
            return _error(f"no such route: POST /addon/vnc/{iid}/{action}", 404)
        with self.lock:
            self._tick()
            inst = self.instances.get(iid)
            state = inst.addons.get("vnc") if inst is not None else None
            if inst is None or state is None:
                return _error("instance not found, or vnc add-on not applied", 404)
            if state.status != "active":
                return _error("vnc add-on is starting", 503)
            state.running = action == "start"
        return json_response({"success": True})

    def _drive_tx(self, request: Request, iid: str) -> Response:
        try:
            command = read_json(request)
        except ValueError:
            return _error("request body is not valid JSON", 400)
        if not isinstance(command, dict) or not all(
            isinstance(command.get(k), (int, float)) and not isinstance(command.get(k), bool)
            for k in ("linearv", "angularv")
        ):
            return _error("drive command needs numbers linearv and angularv", 400)
        with self.lock:
            self._tick()
            inst = self.instances.get(iid)
            state = inst.addons.get("drive") if inst is not None else None
            if state is None or state.status != "active":
                return _error("instance not found, or drive add-on not active", 404)
            state.commands.append(command)
        return json_response({"success": True})

    def _proxy(self, request: Request, token: str, rest: str = "") -> Response:
        with self.lock:
            self._tick()
            for inst in self.instances.values():
                state = inst.addons.get("mistyproxy")
                if state is not None and state.token == token and state.status == "active":
                    break
            else:
                return _error("no such proxy", 404)
        return json_response({
            "status": "Success",
            "result": {"robotId": f"sim-misty-{inst.id[:8]}", "path": "/" + rest,
                       "method": request.method},
        })

    # -- admin ---------------------------------------------------------------------------------
    def _admin_next(self, request: Request) -> Response:
        try:
            body = read_json(request) or {}
        except ValueError:
            return _error("request body is not valid JSON", 400)
        outcome = body.get("outcome") if isinstance(body, dict) else None
        if outcome not in ("init_fail", "stuck", "ready"):
            return _error("outcome must be one of init_fail, stuck, ready", 400)
        with self.lock:
            self._next_outcome = outcome
        return json_response({"next": outcome})

    def _admin_token(self, request: Request) -> Response:
        """``POST /_admin/tokens``: issue a new valid token (e.g. after a purge)."""
        return json_response({"token": self.issue_token()}, 201)

    def _admin_busy(self, request: Request, wdid: str) -> Response:
        try:
            body = read_json(request) or {}
        except ValueError:
            return _error("request body is not valid JSON", 400)
        busy = body.get("busy", True) if isinstance(body, dict) else None
        if not isinstance(busy, bool):
            return _error("busy must be true or false", 400)
        with self.lock:
            dep = self.deployments.get(wdid)
            if dep is None:
                return _error("workspace deployment not found", 404)
            dep.forced_busy = busy
            return json_response(dep.as_dict())


# -- helpers -----------------------------------------------------------------------------------


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _paging(args: Any) -> tuple[int, int | None]:
    """(page, max_per_page) from the query; page starts at 1; ValueError when malformed."""
    try:
        per_page = int(args["max_per_page"]) if "max_per_page" in args else None
        page = int(args.get("page", 1))
    except ValueError:
        raise ValueError("page and max_per_page must be integers") from None
    if page < 1 or (per_page is not None and per_page < 1):
        raise ValueError("page and max_per_page must be positive")
    return page, per_page


def _page(items: list[Any], page: int, per_page: int | None) -> tuple[list[Any], int]:
    if per_page is None:
        return items, 1
    count = max(1, math.ceil(len(items) / per_page))
    return items[(page - 1) * per_page: page * per_page], count


def _ovpn(instance_id: str, client_id: str) -> str:
    """An OpenVPN client config with inline CA, certificate and (real, throwaway) EC key."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"sandbox-ca-{instance_id[:8]}")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, client_id)]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM

    def text(b: bytes) -> str:
        return b.decode("ascii").strip()

    key_pem = text(key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return "\n".join([
        "client",
        "dev tun",
        "proto udp",
        "remote 127.0.0.1 1194",
        "resolv-retry infinite",
        "nobind",
        "persist-key",
        "persist-tun",
        "remote-cert-tls server",
        "cipher AES-256-GCM",
        "verb 3",
        f"# rerobots sandbox instance {instance_id}, client {client_id}",
        "<ca>", text(ca.public_bytes(pem)), "</ca>",
        "<cert>", text(cert.public_bytes(pem)), "</cert>",
        "<key>", key_pem, "</key>",
        "",
    ])
