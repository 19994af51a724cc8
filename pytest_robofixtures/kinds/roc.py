"""The ``roc_broker`` and ``roc_object`` kinds: a broker's endpoints, a proxy to an object.

The proxy also collects the object's status updates and log records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .base import Kind, Param

if TYPE_CHECKING:
    from ..factory import Robo
    from ..roc import Endpoints
    from ..roc_support import RocObjectHandle


class RocBrokerKind(Kind["Endpoints"]):
    """Endpoints of a running ROC broker (a local one, the sandbox's, or --roc-broker)."""

    name = "roc_broker"
    help = "configure the roc_broker fixture (ROC broker endpoints)."
    params = (Param("base_port", (int,)),)
    positional = "base_port"

    def provision(self, robo: Robo, **kwargs: Any) -> Endpoints:
        return robo.roc_broker(**kwargs)


class RocObjectKind(Kind["RocObjectHandle"]):
    """A proxy to a shared ROC object (@pytest.mark.roc_object('vnir')) with status and logs."""

    name = "roc_object"
    help = "configure the roc_object fixture (proxy to a shared ROC object)."
    params = (Param("object_id", (str,)), Param("timeout", (int, float), positive=True))
    positional = "object_id"
    requires_one_of = ("object_id",)
    requires_hint = "roc_object needs @pytest.mark.roc_object('<object id>')"

    def fixture(self, robo: Robo, request: pytest.FixtureRequest,
                kwargs: dict[str, Any]) -> RocObjectHandle:
        endpoints = request.getfixturevalue("roc_broker")
        return self.provision(robo, endpoints=endpoints, **kwargs)

    def provision(self, robo: Robo, **kwargs: Any) -> RocObjectHandle:
        from ..roc_support import RocObjectHandle

        object_id = kwargs["object_id"]
        endpoints = kwargs.get("endpoints") or robo.roc_broker()
        handle = RocObjectHandle._open(
            endpoints, object_id, timeout=float(kwargs.get("timeout") or 2.0),
            recorder=robo.recorder, record=robo.record, clock=robo.clock,
            elapsed=robo.elapsed,
        )
        robo.teardown.push(f"roc_object {object_id}", handle._close)
        robo.record.resources.append(f"roc_object {object_id}")
        robo.event(f"roc {object_id}", "connected")
        return handle


KINDS = (RocBrokerKind(), RocObjectKind())
