"""The teardown stack of one test (or one shared scope).

Finalizers run in reverse order and every one runs even if another fails. Ctrl-C (or SIGTERM,
which the plugin turns into KeyboardInterrupt) during teardown does not abandon the rest: the
remaining finalizers, and the interrupted one, get a short grace period; a second interrupt
skips to the end (what is left stays in the run journal for ``robofixtures reap``). The
interrupt is then raised again, so pytest stops the run with exit status 2.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from .common.clock import Clock, SystemClock


def describe_error(exc: BaseException) -> str:
    """``Type: message``, never an empty string (``KeyboardInterrupt()`` has no message)."""
    text = str(exc).strip()
    name = type(exc).__name__
    if not text:
        return name
    return text if text.startswith(name) else f"{name}: {text}"


@dataclass
class TeardownFailure:
    """One finalizer that failed: what it tore down and why."""

    what: str
    error: BaseException

    def __str__(self) -> str:
        return f"{self.what}: {describe_error(self.error)}"


class TeardownInterrupted(KeyboardInterrupt):
    """Ctrl-C/SIGTERM arrived during teardown; what could be torn down in the grace was."""


class Teardown:
    """A stack of finalizers run in reverse order; every one runs even if another fails."""

    def __init__(self, grace: float = 30.0, clock: Clock | None = None) -> None:
        self._stack: list[tuple[str, Callable[[], None]]] = []
        self._lock = threading.Lock()
        self.grace = grace
        self._clock = clock or SystemClock()
        self._deadline: float | None = None

    def push(self, what: str, fn: Callable[[], None]) -> None:
        """Register a finalizer; the last one pushed runs first."""
        with self._lock:
            self._stack.append((what, fn))

    def __len__(self) -> int:
        return len(self._stack)

    def time_left(self, wanted: float) -> float:
        """How long a finalizer may wait: ``wanted``, or less once an interrupt began the grace."""
        if self._deadline is None:
            return wanted
        return max(0.0, min(wanted, self._deadline - self._clock.monotonic()))

    def run(self) -> list[TeardownFailure]:
        """Run every finalizer; return the failures. Re-raises a Ctrl-C at the end."""
        failures: list[TeardownFailure] = []
        interrupted: KeyboardInterrupt | None = None
        retried: set[int] = set()
        while True:
            with self._lock:
                if not self._stack:
                    break
                what, fn = self._stack.pop()
            if interrupted is not None and self.time_left(1.0) <= 0:
                failures.append(TeardownFailure(what, interrupted))
                continue
            try:
                fn()
            except KeyboardInterrupt as exc:
                if interrupted is not None:
                    # A second interrupt: stop tearing down; the journal keeps the rest.
                    failures.append(TeardownFailure(what, exc))
                    failures.extend(TeardownFailure(w, exc) for w, _ in reversed(self._stack))
                    self._stack.clear()
                    break
                interrupted = exc
                self._deadline = self._clock.monotonic() + self.grace
                if id(fn) not in retried:  # give the interrupted finalizer one more go
                    retried.add(id(fn))
                    self.push(what, fn)
                else:
                    failures.append(TeardownFailure(what, exc))
            except Exception as exc:
                failures.append(TeardownFailure(what, exc))
        if interrupted is not None:
            raise TeardownInterrupted(
                "interrupted during teardown"
                + (f"; not torn down: {'; '.join(map(str, failures))}" if failures else
                   "; everything was torn down in the grace period")
            ) from interrupted
        return failures


__all__ = ["Teardown", "TeardownFailure", "TeardownInterrupted", "describe_error"]
