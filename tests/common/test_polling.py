"""The shared adaptive poller, driven by the virtual clock (no real sleeping)."""

from __future__ import annotations

import time

import pytest

from pytest_robofixtures.common.clock import VirtualClock
from pytest_robofixtures.common.polling import Backoff, PollTimeout, poll


def resource(clock: VirtualClock, ready_at: float) -> tuple[list[float], object]:
    seen: list[float] = []

    def fetch() -> str:
        seen.append(clock.monotonic())
        return "READY" if clock.monotonic() >= ready_at else "PENDING"

    return seen, fetch


@pytest.mark.parametrize("ready_at", [0.3, 1.0, 7.5, 90.0, 600.0])
def test_ready_is_seen_within_a_fraction_of_the_wait(ready_at: float) -> None:
    clock = VirtualClock()
    seen, fetch = resource(clock, ready_at)
    start = time.monotonic()
    result = poll(fetch, lambda s: s == "READY", timeout=3600, what="x", clock=clock,
                  describe=str, backoff=Backoff(cap=5.0))
    assert time.monotonic() - start < 1.0, "the virtual clock must not really sleep"
    lag = result.elapsed - ready_at
    assert 0 <= lag <= max(0.02, 0.15 * ready_at) + 1e-9
    assert result.states == ["PENDING", "READY"]
    # Few requests even for long waits: bounded by the cap once the wait is long.
    assert result.polls <= 50 + ready_at / 5.0


def test_timeout_names_what_was_awaited_and_the_last_state() -> None:
    clock = VirtualClock()
    _, fetch = resource(clock, ready_at=1e9)
    changes: list[tuple[object, float]] = []
    with pytest.raises(PollTimeout) as info:
        poll(fetch, lambda s: s == "READY", timeout=30, what="deployment d-1 to run",
             clock=clock, on_change=lambda v, t: changes.append((v, t)))
    assert "deployment d-1 to run" in str(info.value) and "PENDING" in str(info.value)
    assert info.value.last == "PENDING" and info.value.elapsed >= 30
    assert changes == [("PENDING", 0.0)]


def test_delays_start_small_grow_and_are_capped() -> None:
    backoff = Backoff(initial=0.02, factor=1.6, cap=2.0)
    delays = [d for d, _ in zip(backoff.delays(), range(200))]
    assert delays[0] == 0.02
    assert all(b >= a for a, b in zip(delays, delays[1:]))
    assert max(delays) == 2.0
