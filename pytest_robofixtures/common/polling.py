"""Adaptive polling: fast at first, backing off to a cap, bounded by a timeout.

The official SDKs sleep a fixed 5-6 s between polls; here the first polls come within tens of
milliseconds, so a resource that becomes ready quickly is seen quickly, and a long wait still
costs few requests.

With a ``hint`` (the expected time-to-ready, e.g. from the previous recording of the same test)
the poller sleeps through most of it (still looking in now and then, in case this time is
quicker) and then polls densely around the hint, so a long wait is noticed within a fraction of
a second at no more requests than the SDK's fixed interval.

Which schedule a client uses when none is passed is the *poll policy*
(:func:`default_backoff`): :meth:`Backoff.for_interval` of the SDK's interval, as frugal as the
SDK against a real service; :func:`use_poll_policy` changes it inside a block (the plugin polls
its embedded sandbox and replays densely, where requests cost nothing).
"""

from __future__ import annotations

import contextlib
import math
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
    #: With a hint: the relative error expected of it. The poller sleeps until
    #: ``(1 - hint_spread) * hint``, polls every ``hint_step * cap`` seconds (at most a quarter
    #: of that window) until ``(1 + hint_spread) * hint``, then backs off as without a hint, so
    #: a hint that is too short costs little; one that is too long is slept through.
    hint_spread: float = 0.1
    hint_step: float = 0.2
    #: While sleeping toward a hint, look at least every ``hint_guard * cap`` seconds, so a
    #: hint that is too long costs about the SDK's overshoot, not the hint's whole error.
    hint_guard: float = 6.0

    @classmethod
    def for_interval(cls, interval: float) -> Backoff:
        """A schedule to use instead of an SDK's fixed ``interval`` polling.

        Quick to notice short waits (first polls 1/6 of the interval apart, at most 0.75 s),
        then never more than the time waited so far, capped under ``interval`` so a long wait is
        noticed sooner than the SDK notices it, at a little more load (less with a hint).
        """
        if not interval > 0 or not math.isfinite(interval):
            raise ValueError(f"interval must be a finite number > 0, not {interval!r}")
        return cls(initial=min(0.75, interval / 6), factor=2.0, cap=0.85 * interval,
                   proportion=1.0)

    @classmethod
    def dense(cls, interval: float) -> Backoff:
        """Polls from 50 ms apart, backing off to ``interval``.

        For services that cost nothing to ask (the embedded sandbox, replay), where noticing
        at once matters more than load.
        """
        if not interval > 0 or not math.isfinite(interval):
            raise ValueError(f"interval must be a finite number > 0, not {interval!r}")
        return cls(initial=min(0.05, interval), factor=1.6, cap=interval)

    def next_delay(self, previous: float | None, elapsed: float,
                   hint: float | None = None) -> float:
        """The delay after ``previous`` (None for the first) once ``elapsed`` seconds passed.

        ``hint`` is the expected time-to-ready (seconds from the start), if known.
        """
        if hint is not None and hint > 0 and math.isfinite(hint):
            lead = (1 - self.hint_spread) * hint
            if elapsed < lead:  # sleep most of the expected wait, looking in now and then
                guard = self.hint_guard * self.cap
                return min(lead - elapsed, guard) if guard > 0 else lead - elapsed
            step = min(self.hint_step * self.cap, self.hint_spread * hint / 2)
            beyond = elapsed - (1 + self.hint_spread) * hint
            if beyond <= 0:
                return step
            # The hint was wrong: back off from the fine step as if the wait started there.
            return min(self.cap, max(step, self.proportion * beyond))
        grown = self.initial if previous is None else previous * self.factor
        limit = max(self.initial, self.proportion * elapsed) if self.proportion else grown
        return min(self.cap, grown, limit)

    def delays(self, hint: float | None = None) -> Iterator[float]:
        """The delays when each poll is instantaneous (for reasoning and docs)."""
        elapsed, delay = 0.0, None
        while True:
            delay = self.next_delay(delay, elapsed, hint)
            elapsed += delay
            yield delay


#: An SDK's fixed polling interval (seconds) -> the schedule to poll with instead.
PollPolicy = Callable[[float], Backoff]
_policy: PollPolicy = Backoff.for_interval


def default_backoff(interval: float) -> Backoff:
    """The schedule clients poll with, for a wait the SDK would poll every ``interval`` s."""
    return _policy(interval)


@contextlib.contextmanager
def use_poll_policy(policy: PollPolicy) -> Iterator[PollPolicy]:
    """Make ``policy`` the poll policy inside the block (e.g. ``Backoff.dense``)."""
    global _policy
    previous = _policy
    _policy = policy
    try:
        yield policy
    finally:
        _policy = previous


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
    hint: float | None = None,
) -> PollResult[T]:
    """Call ``fetch`` until ``done(value)``; raise :class:`PollTimeout` past ``timeout`` seconds.

    ``fetch`` may raise to abort (e.g. a failed deployment). ``on_change`` is called with the value
    and the elapsed time whenever ``describe(value)`` changes, which feeds timelines and progress.
    ``hint`` is the expected time-to-ready in seconds (e.g. the previous recording's): the poller
    sleeps most of it, then polls densely around it (see :class:`Backoff`).
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
        delay = backoff.next_delay(delay, elapsed, hint)
        clock.sleep(min(delay, max(0.0, timeout - elapsed)))
