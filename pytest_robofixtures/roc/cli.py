"""Compatibility path of the console entry points (``rocbroker``, ``roclogdump``).

They live in :mod:`pytest_robofixtures.roc.server.cli`; ``pyproject.toml`` still names this
module.
"""

from __future__ import annotations

import sys

from .server.cli import broker_main, logdump_main

__all__ = ["broker_main", "logdump_main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(broker_main())
