"""pytest-robofixtures: hardware-in-the-loop fixtures for rapyuta.io, rerobots and ROC."""

from __future__ import annotations

__version__ = "0.1.0"
