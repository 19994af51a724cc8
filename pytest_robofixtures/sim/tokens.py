"""The sandbox's credentials, in a module light enough to import anywhere.

They open nothing but a local sandbox, so they are not secrets.
"""

from __future__ import annotations

RAPYUTA_TOKEN = "sim-token"
RAPYUTA_PROJECT = "sim-project"
REROBOTS_TOKEN = "sim-rerobots-token"

__all__ = ["RAPYUTA_PROJECT", "RAPYUTA_TOKEN", "REROBOTS_TOKEN"]
