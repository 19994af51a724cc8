"""Lazy re-exports for a package's ``__init__`` (PEP 562).

A package lists where each public name lives; importing the package then imports none of its
submodules, and ``package.Name`` (or ``from package import Name``) imports the one it needs.
Names are looked up on each access, never cached in the package: whoever unloads and re-imports
the submodules (pytester's in-process runs do) then gets the classes the fresh submodules use.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``; ``where`` maps a name to its module.

    A module is relative to the package (``".client"``) or absolute.
    """

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module, package), name)

    def __dir__() -> list[str]:
        return sorted([*vars(sys.modules[package]), *where])

    return __getattr__, __dir__


__all__ = ["lazy_exports"]
