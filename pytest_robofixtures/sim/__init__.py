"""The embedded sandbox: rapyuta.io, rerobots (with real SSH) and ROC, on loopback.

An independent implementation of the services' wire protocols; it imports nothing of the
clients. ``Sandbox`` starts everything (``seed=`` for reproducible ids and fault choices,
``faults=`` for rules applied at start); each service can also be served alone with
``SimServer(RapyutaSim(...))`` or ``SimServer(RerobotsSim(...))``. Faults and the request log are
described in :mod:`pytest_robofixtures.sim._wsgi`; ``robofixtures sim`` is :mod:`.cli`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.lazy import lazy_exports
from .tokens import RAPYUTA_PROJECT, RAPYUTA_TOKEN, REROBOTS_TOKEN

if TYPE_CHECKING:  # the real imports happen lazily in __getattr__ (werkzeug, paramiko...)
    from ._wsgi import FaultRule, SimApp, SimServer
    from .sandbox import Sandbox, parse_fault_rules

_WHERE = {"FaultRule": "._wsgi", "SimApp": "._wsgi", "SimServer": "._wsgi",
          "Sandbox": ".sandbox", "parse_fault_rules": ".sandbox"}

__all__ = [
    "RAPYUTA_PROJECT", "RAPYUTA_TOKEN", "REROBOTS_TOKEN", "FaultRule", "Sandbox", "SimApp",
    "SimServer", "parse_fault_rules",
]


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
