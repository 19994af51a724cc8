"""Models shared by several resources (``rapyuta_io.clients.common_models``)."""

from __future__ import annotations

from typing import Any

from ._model import ObjDict


class InternalDeploymentStatus(ObjDict):
    """The state of a network's internal deployment: ``phase``, ``status``, ``error_code``.

    Built as the SDK's ``InternalDeploymentStatus(phase, status=None, error_code=None)``, or from
    the server's ``internalDeploymentStatus`` object (``InternalDeploymentStatus(mapping)``).
    """

    def __init__(self, phase: Any = None, status: Any = None,
                 error_code: list[str] | None = None, **fields: Any) -> None:
        if isinstance(phase, dict):
            fields = {**phase, **fields}
            phase = fields.pop("phase", None)
            status = fields.pop("status", status)
            error_code = fields.pop("error_code", error_code)
        super().__init__(fields)
        self.phase = phase
        self.status = status
        self.error_code = list(error_code or [])
