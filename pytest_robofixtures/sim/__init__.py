"""The embedded sandbox: rapyuta.io, rerobots (with real SSH) and ROC, on loopback.

An independent implementation of the services' wire protocols; it imports nothing of the
clients. ``Sandbox`` starts everything; each service can also be served alone with
``SimServer(RapyutaSim(...))`` or ``SimServer(RerobotsSim(...))``.
"""

from __future__ import annotations

from ._wsgi import FaultRule, SimApp, SimServer
from .sandbox import RAPYUTA_PROJECT, RAPYUTA_TOKEN, REROBOTS_TOKEN, Sandbox

__all__ = [
    "RAPYUTA_PROJECT", "RAPYUTA_TOKEN", "REROBOTS_TOKEN", "FaultRule", "Sandbox", "SimApp",
    "SimServer",
]
