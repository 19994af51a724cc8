"""Mirror of ``rapyuta_io.clients.package``."""

from __future__ import annotations

from ..enums import RestartPolicy, ROSDistro, Runtime
from ..package import Package
from ..provision import ExecutableMount, ProvisionConfiguration

__all__ = ["ExecutableMount", "Package", "ProvisionConfiguration", "ROSDistro", "RestartPolicy",
           "Runtime"]
