"""The root of infrastructure errors, shared by the clients and the plugin.

Client exceptions that mean "the service, not the code under test, failed" (5xx and 429 left
after retries, no answer at all, a busy rental) also derive from :class:`InfraError`, so the
plugin can report them apart from the test's own failures wherever they are raised, and
``pytest --reruns 2 --only-rerun InfraError`` reruns only them. Nothing here imports pytest.
"""

from __future__ import annotations


class InfraError(Exception):
    """The infrastructure failed, not the code under test."""

    what = "infrastructure error"

    def __str__(self) -> str:
        text = super().__str__()
        # The words "InfraError" are what --only-rerun matches; say them once.
        return text if text.startswith("InfraError") else f"InfraError ({self.what}): {text}"


__all__ = ["InfraError"]
