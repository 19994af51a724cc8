"""The whole embedded sandbox: rapyuta.io, rerobots and a ROC broker with sample objects.

Started in-process by ``pytest --robo-sim`` (one per xdist worker) or standalone by
``robofixtures sim``, which prints :meth:`Sandbox.describe` as one JSON line.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._wsgi import FaultRule, SimServer
from .tokens import RAPYUTA_PROJECT, RAPYUTA_TOKEN, REROBOTS_TOKEN

#: Values of a fault rule's ``service`` key (``"*"``: every HTTP service).
SERVICES = ("rapyuta", "rerobots")


def parse_fault_rules(rules: Any) -> list[tuple[tuple[str, ...], FaultRule]]:
    """Validate a list of fault rules, each with an optional ``service`` key.

    Returns ``(services, rule)`` pairs; ValueError names the first bad rule by its index.
    """
    if not isinstance(rules, list):
        raise ValueError(f"fault rules are a JSON list, not {type(rules).__name__}")
    out: list[tuple[tuple[str, ...], FaultRule]] = []
    for index, item in enumerate(rules):
        if not isinstance(item, Mapping):
            raise ValueError(f"fault rule {index}: a JSON object, not {type(item).__name__}")
        body = dict(item)
        service = body.pop("service", "*")
        if service != "*" and service not in SERVICES:
            raise ValueError(f"fault rule {index}: service must be one of "
                             f"{[*SERVICES, '*']}, not {service!r}")
        try:
            rule = FaultRule.from_dict(body)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"fault rule {index}: {exc}") from None
        out.append((SERVICES if service == "*" else (service,), rule))
    return out


class Sandbox:
    """Start and stop every simulated service on free loopback ports."""

    def __init__(
        self,
        *,
        delay: float = 0.3,
        scratch_root: Path | None = None,
        roc: bool = True,
        rapyuta_token: str = RAPYUTA_TOKEN,
        rapyuta_project: str = RAPYUTA_PROJECT,
        rerobots_token: str = REROBOTS_TOKEN,
        seed: int | None = None,
        faults: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        """Configure (nothing starts before :meth:`start`).

        ``seed`` makes ids and fault choices reproducible (None: random on every start, and
        ``describe()["seed"]`` tells which); ``faults`` are rules (each with an optional
        ``service`` key, see :func:`parse_fault_rules`) applied at every start.
        """
        self.delay = delay
        self.seed = seed
        self.seed_used: int | None = None
        self._fault_rules = parse_fault_rules(list(faults))
        self.roc = roc
        self.rapyuta_token = rapyuta_token
        self.rapyuta_project = rapyuta_project
        self.rerobots_token = rerobots_token
        self._own_scratch = scratch_root is None
        self.scratch_root = Path(scratch_root or tempfile.mkdtemp(prefix="robofixtures-sim-"))
        if self._own_scratch and hasattr(os, "geteuid") and os.geteuid() == 0:
            # Commands run as an unprivileged user when we are root: let it reach its $HOME.
            os.chmod(self.scratch_root, 0o711)
        self.rapyuta: SimServer | None = None
        self.rerobots: SimServer | None = None
        self.roc_endpoints: Any = None
        self._roc_broker: Any = None
        self._roc_objects: Any = None

    def start(self) -> Sandbox:
        """Start all services; stops what already started if one fails."""
        from .rapyuta import RapyutaSim
        from .rerobots import RerobotsSim

        seed = self.seed if self.seed is not None else random.SystemRandom().randrange(2**32)
        self.seed_used = seed
        try:
            rapyuta = RapyutaSim(
                token=self.rapyuta_token, project=self.rapyuta_project, delay=self.delay,
                scratch_root=self.scratch_root / "rapyuta", seed=seed,
                stepwise=self.seed is not None,
            )
            rerobots = RerobotsSim(
                token=self.rerobots_token, delay=self.delay,
                scratch_root=self.scratch_root / "rerobots", seed=seed,
            )
            # Each service draws its fault choices from its own stream of the one seed.
            rapyuta.faults.reseed(seed * 2)
            rerobots.faults.reseed(seed * 2 + 1)
            apps = {"rapyuta": rapyuta, "rerobots": rerobots}
            for services, rule in self._fault_rules:
                for service in services:
                    apps[service].faults.add(FaultRule.from_dict(
                        {k: v for k, v in rule.as_dict().items() if k != "hits"}))
            self.rapyuta = SimServer(rapyuta).start()
            self.rerobots = SimServer(rerobots).start()
            if self.roc:
                self._start_roc()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_roc(self) -> None:
        # ROC objects are servers of the ROC system itself: only its server side is imported.
        from ..roc.server import start_broker
        from .roc_objects import start_sample_objects

        # start_broker picks free ports and picks again if they are taken before the bind.
        self._roc_broker = start_broker("127.0.0.1")
        self.roc_endpoints = self._roc_broker.endpoints
        self._roc_objects = start_sample_objects(self.roc_endpoints,
                                                 seed=getattr(self, "seed", None))

    def stop(self) -> None:
        """Stop every service and remove the scratch directory the sandbox made."""
        for stop in (
            getattr(self._roc_objects, "stop", None),
            getattr(self._roc_broker, "stop", None),
            getattr(self.rerobots, "stop", None),
            getattr(self.rapyuta, "stop", None),
        ):
            if stop is not None:
                try:
                    stop()
                except Exception:  # keep stopping the rest
                    pass
        self._roc_objects = self._roc_broker = self.rapyuta = self.rerobots = None
        if self._own_scratch:
            shutil.rmtree(self.scratch_root, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def describe(self) -> dict[str, Any]:
        """Endpoints and credentials of the running sandbox, as plain JSON data."""
        assert self.rapyuta is not None and self.rerobots is not None, "sandbox not started"
        info: dict[str, Any] = {
            "seed": self.seed_used,
            "rapyuta": {
                "catalog_host": self.rapyuta.url,
                "core_api_host": self.rapyuta.url,
                "auth_token": self.rapyuta_token,
                "project": self.rapyuta_project,
                "admin": f"{self.rapyuta.url}/_admin/resources",
            },
            "rerobots": {
                "base_uri": self.rerobots.url,
                "api_token": self.rerobots_token,
                "admin": f"{self.rerobots.url}/_admin/resources",
            },
        }
        if self.roc_endpoints is not None:
            ep = self.roc_endpoints
            info["roc"] = {
                "address": ep.brokerAddress, "base_port": ep.brokerBasePort,
                "broker": ep.rocBroker, "xsub": ep.generalXSUB, "xpub": ep.generalXPUB,
            }
        return info

    def live_resources(self) -> dict[str, Any]:
        """What exists right now in each service (for leak checks)."""
        out: dict[str, Any] = {}
        if self.rapyuta is not None:
            out["rapyuta"] = self.rapyuta.app.live_resources()
        if self.rerobots is not None:
            out["rerobots"] = self.rerobots.app.live_resources()
        return out

    def leaked(self) -> list[str]:
        """One line per live resource: empty when nothing was left behind."""
        lines = []
        for service, kinds in self.live_resources().items():
            for kind, items in kinds.items():
                for item in items:
                    ident = item.get("id") or item.get("guid") or item.get("name") or item
                    lines.append(f"{service} {kind} {ident}")
        return lines
