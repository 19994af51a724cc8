"""The ``robofixtures`` command."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``robofixtures`` command."""
    return 0
