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
    """Delays between polls: from ``initial``, growing by ``factor`` up to ``cap`` seconds.

    A delay is also never more than ``proportion`` of the time waited so far, so the poller
    notices a ready resource within that fraction of the wait (15%: a resource ready after 1 s
    is seen within 0.15 s) while a ten-minute wait still costs few requests.
    """

    initial: float = 0.02
    factor: float = 1.6
    cap: float = 2.0
    proportion: float = 0.15

    def next_delay(self, previous: float | None, elapsed: float) -> float:
        """The delay after ``previous`` (None for the first) once ``elapsed`` seconds passed."""
        grown = self.initial if previous is None else previous * self.factor
        limit = max(self.initial, self.proportion * elapsed) if self.proportion else grown
        return min(self.cap, grown, limit)

    def delays(self) -> Iterator[float]:
        """The delays when each poll is instantaneous (for reasoning and docs)."""
        elapsed, delay = 0.0, None
        while True:
            delay = self.next_delay(delay, elapsed)
            elapsed += delay
            yield delay


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
    delay: float | None = None
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
        delay = backoff.next_delay(delay, elapsed)
        clock.sleep(min(delay, max(0.0, timeout - elapsed)))
