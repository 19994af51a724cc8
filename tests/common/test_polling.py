"""The shared adaptive poller, driven by the virtual clock (no real sleeping)."""

from __future__ import annotations

import subprocess
import sys
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


def _wait(ready_at: float, backoff: Backoff, hint: float | None = None) -> tuple[float, int]:
    clock = VirtualClock()
    _, fetch = resource(clock, ready_at)
    result = poll(fetch, lambda s: s == "READY", timeout=3600, what="x", clock=clock,
                  describe=str, backoff=backoff, hint=hint)
    return result.elapsed - ready_at, result.polls


def _sdk(ready_at: float, interval: float) -> tuple[float, int]:
    k = -(-ready_at // interval)  # polls at 0, I, 2I, ...
    return k * interval - ready_at, int(k) + 1


@pytest.mark.parametrize("ready_at, hint", [(300.0, 310.0), (300.0, 292.0), (45.0, 47.0),
                                             (590.0, 600.0)])
def test_a_good_hint_beats_fixed_interval_polling_at_fewer_gets(
    ready_at: float, hint: float
) -> None:
    interval = 5.0
    lag, polls = _wait(ready_at, Backoff.for_interval(interval), hint)
    sdk_lag, sdk_polls = _sdk(ready_at, interval)
    assert 0 <= lag <= 0.2 * interval, "noticed within a fifth of the SDK's interval"
    assert polls < sdk_polls
    assert sdk_lag >= 0


def test_a_short_hint_falls_back_to_backing_off() -> None:
    lag, polls = _wait(300.0, Backoff.for_interval(5.0), hint=100.0)
    assert 0 <= lag <= 0.85 * 5.0 + 1e-9
    assert polls <= 1.5 * _sdk(300.0, 5.0)[1], "no worse than without a hint"


def test_a_hint_too_long_costs_one_guard_interval_not_the_whole_error() -> None:
    backoff = Backoff.for_interval(5.0)
    guard = backoff.hint_guard * backoff.cap
    lag, polls = _wait(100.0, backoff, hint=200.0)
    assert 0 <= lag <= guard + 1e-9  # a look-in every guard seconds notices it
    assert polls == 1 + -(-100.0 // guard)  # the start, then one look-in per guard interval


def test_without_a_guard_a_long_hint_is_slept_through_up_to_its_lead() -> None:
    lag, polls = _wait(100.0, Backoff(hint_guard=0), hint=200.0)
    assert lag == pytest.approx(0.9 * 200.0 - 100.0)
    assert polls == 2  # one at the start, one after the long sleep


def test_outside_the_plugin_clients_poll_like_the_sdk() -> None:
    # (this test run itself is in replay mode, where the plugin polls densely)
    code = ("from pytest_robofixtures.common.polling import Backoff, default_backoff\n"
            "assert default_backoff(5.0) == Backoff.for_interval(5.0)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_use_poll_policy_changes_the_schedule_inside_the_block_only() -> None:
    from pytest_robofixtures.common.polling import default_backoff, use_poll_policy

    with use_poll_policy(Backoff.for_interval):
        assert default_backoff(5.0) == Backoff.for_interval(5.0)
        with use_poll_policy(Backoff.dense):
            assert default_backoff(5.0) == Backoff.dense(5.0)
            assert default_backoff(5.0).initial == 0.05
        assert default_backoff(6.0) == Backoff.for_interval(6.0)


@pytest.mark.parametrize("interval", [1.0, 5.0, 6.0])
@pytest.mark.parametrize("ready_at", [0.4, 2.5, 17.0, 75.0, 333.0])
def test_without_a_hint_never_later_than_fixed_interval_polling_could_be(
    interval: float, ready_at: float
) -> None:
    lag, polls = _wait(ready_at, Backoff.for_interval(interval))
    assert 0 <= lag <= 0.85 * interval + 1e-9, "the cap stays under the SDK's interval"
    assert lag <= ready_at + 1e-9, "a delay is never longer than the time waited"
    assert polls <= 1.5 * _sdk(ready_at, interval)[1] + 8


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_for_interval_refuses_nonsense(bad: float) -> None:
    with pytest.raises(ValueError, match="interval"):
        Backoff.for_interval(bad)


def test_a_nonsense_hint_is_ignored() -> None:
    plain = _wait(40.0, Backoff.for_interval(5.0))
    for hint in (float("nan"), float("inf"), 0.0, -3.0):
        assert _wait(40.0, Backoff.for_interval(5.0), hint) == plain
