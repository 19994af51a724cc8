"""The embedded sandbox: rapyuta.io, rerobots (with real SSH) and ROC, on loopback.

An independent implementation of the services' wire protocols; it imports nothing of the
clients. ``Sandbox`` starts everything (``seed=`` for reproducible ids and fault choices,
``faults=`` for rules applied at start); each service can also be served alone with
``SimServer(RapyutaSim(...))`` or ``SimServer(RerobotsSim(...))``. Faults and the request log are
described in :mod:`pytest_robofixtures.sim._wsgi`; ``robofixtures sim`` is :mod:`.cli`.
"""

from __future__ import annotations

from ._wsgi import FaultRule, SimApp, SimServer
from .sandbox import RAPYUTA_PROJECT, RAPYUTA_TOKEN, REROBOTS_TOKEN, Sandbox, parse_fault_rules

__all__ = [
    "RAPYUTA_PROJECT", "RAPYUTA_TOKEN", "REROBOTS_TOKEN", "FaultRule", "Sandbox", "SimApp",
    "SimServer", "parse_fault_rules",
]
