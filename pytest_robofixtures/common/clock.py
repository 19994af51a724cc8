"""One clock for every wait, so replay can skip the sleeping.

Clients take a ``clock`` argument; when it is omitted they use :func:`default_clock`, which the
pytest plugin swaps for a :class:`VirtualClock` in replay mode (``use_clock``).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar, runtime_checkable

T = TypeVar("T")


@runtime_checkable
class Clock(Protocol):
    """What a waiting loop needs from time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    def time(self) -> float:
        """Wall-clock seconds since the epoch."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (really, or virtually)."""
        ...


class SystemClock:
    """The real clock: real sleeps."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """A clock that never sleeps: ``sleep`` only moves virtual time forward.

    Used in replay, so a poll that waited ten minutes live replays at once while the poller sees
    the same elapsed times and so takes the same decisions.
    """

    def __init__(self, start: float = 0.0, epoch: float = 1_700_000_000.0) -> None:
        self._now = start
        self._epoch = epoch
        self._lock = threading.Lock()
        self.slept = 0.0  # total virtual seconds slept, for reports and tests

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def time(self) -> float:
        with self._lock:
            return self._epoch + self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._now += seconds
                self.slept += seconds


_SYSTEM = SystemClock()
_current: Clock = _SYSTEM


def default_clock() -> Clock:
    """The clock clients use when none is passed."""
    return _current


@contextlib.contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Make ``clock`` the default clock inside the block."""
    global _current
    previous = _current
    _current = clock
    try:
        yield clock
    finally:
        _current = previous


def wait_on_feed(
    receive: Callable[[float], T | None],
    take: Callable[[T], None],
    done: Callable[[], bool],
    timeout: float,
    clock: Clock | None = None,
) -> bool:
    """Hand items from ``receive`` to ``take`` until ``done()``; False if ``timeout`` ran out.

    ``done()`` is checked first and after every item. ``receive(seconds)`` returns the next item
    or None when none arrived within ``seconds`` (a subscription's ``receive``); None ends the
    wait at once (a replayed feed that has nothing more returns None without waiting). The
    deadline is kept on ``clock`` (default: the default clock), so every wait has one time base.
    """
    if not math.isfinite(timeout) or timeout < 0:
        raise ValueError(f"timeout must be a finite number >= 0, not {timeout!r}")
    clock = clock or default_clock()
    deadline = clock.monotonic() + timeout
    while not done():
        remaining = deadline - clock.monotonic()
        item = receive(remaining) if remaining > 0 else None
        if item is None:
            return done()
        take(item)
    return True
