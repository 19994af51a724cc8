"""pytest-robofixtures: hardware-in-the-loop fixtures for rapyuta.io, rerobots and ROC."""

from __future__ import annotations

__version__ = "0.1.0"

from .common.errors import InfraError  # noqa: E402  (the public name: pytest_robofixtures.InfraError)

__all__ = ["InfraError", "__version__"]
