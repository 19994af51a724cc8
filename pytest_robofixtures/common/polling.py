"""Adaptive polling: fast at first, backing off to a cap, bounded by a timeout.

The official SDKs sleep a fixed 5-6 s between polls; here the first polls come within tens of
milliseconds, so a resource that becomes ready quickly is seen quickly, and a long wait still
costs few requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .clock import Clock, default_clock

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Delays between polls: ``initial`` growing by ``factor`` up to ``cap`` seconds."""

    initial: float = 0.02
    factor: float = 1.6
    cap: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield delay
            delay = min(self.cap, delay * self.factor)


@dataclass
class PollResult(Generic[T]):
    """What a finished poll saw."""

    value: T
    polls: int
    elapsed: float
    states: list[str] = field(default_factory=list)


class PollTimeout(Exception):
    """The condition did not hold before the timeout; ``last`` is the last value seen."""

    def __init__(self, message: str, last: object, polls: int, elapsed: float) -> None:
        super().__init__(message)
        self.last = last
        self.polls = polls
        self.elapsed = elapsed


def poll(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    what: str,
    describe: Callable[[T], str] = repr,
    clock: Clock | None = None,
    backoff: Backoff | None = None,
    max_polls: int | None = None,
    on_change: Callable[[T, float], None] | None = None,
) -> PollResult[T]:
    """Call ``fetch`` until ``done(value)``; raise :class:`PollTimeout` past ``timeout`` seconds.

    ``fetch`` may raise to abort (e.g. a failed deployment). ``on_change`` is called with the value
    and the elapsed time whenever ``describe(value)`` changes, which feeds timelines and progress.
    """
    clock = clock or default_clock()
    backoff = backoff or Backoff()
    start = clock.monotonic()
    states: list[str] = []
    polls = 0
    delays = backoff.delays()
    while True:
        value = fetch()
        polls += 1
        elapsed = clock.monotonic() - start
        state = describe(value)
        if not states or states[-1] != state:
            states.append(state)
            if on_change is not None:
                on_change(value, elapsed)
        if done(value):
            return PollResult(value, polls, elapsed, states)
        if elapsed >= timeout or (max_polls is not None and polls >= max_polls):
            raise PollTimeout(
                f"timed out after {elapsed:.1f}s and {polls} polls waiting for {what}; "
                f"last state: {state}",
                value,
                polls,
                elapsed,
            )
        clock.sleep(min(next(delays), max(0.0, timeout - elapsed)))
