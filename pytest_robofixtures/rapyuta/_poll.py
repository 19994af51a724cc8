"""The SDK's ``_poll_till_ready`` decision rules (reference §3.3), polled adaptively."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..common.clock import Clock
from ..common.polling import Backoff, PollTimeout, default_backoff, poll
from .errors import DeploymentNotRunningException, InvalidParameterException, RetriesExhausted

READY_STATUSES = frozenset({"Running", "Available", "Released"})
IMAGE_PULL_ERROR = "DEP_E153"

#: the first (and, with ``sleep_interval=0``, every) pause between polls, in seconds
MIN_INTERVAL = 0.05

OnChange = Callable[[Any, float], None]


def _get(status: Any, key: str) -> Any:
    return status.get(key) if isinstance(status, dict) else getattr(status, key, None)


def describe(status: Any) -> str:
    """``phase=… status=… errors=…`` of a status object."""
    phase, state, errors = _get(status, "phase"), _get(status, "status"), _get(status, "errors")
    return f"phase={phase} status={state} errors={errors}"


def is_ready(status: Any, ready_phases: Iterable[str] = ()) -> bool:
    """True when ready; False while it may still progress; raises when it will not."""
    phase = _get(status, "phase")
    phase = str(phase) if phase is not None else None
    if phase in {str(p) for p in ready_phases}:
        return True
    if phase == "Succeeded":
        return str(_get(status, "status")) in READY_STATUSES
    if phase == "In progress":
        return False
    if phase == "Provisioning" and IMAGE_PULL_ERROR not in (_get(status, "errors") or []):
        return False
    raise DeploymentNotRunningException(
        f"Deployment might not progress: {describe(status)}", deployment_status=status
    )


def poll_till_ready(
    fetch: Callable[[], Any],
    *,
    what: str,
    retry_count: int,
    sleep_interval: float,
    timeout: float | None,
    clock: Clock,
    ready_phases: Iterable[str] = (),
    on_change: OnChange | None = None,
    hint: float | None = None,
    backoff: Backoff | None = None,
) -> Any:
    """Poll ``fetch`` until ready; the timeout bounds it.

    The schedule is ``backoff``, else the poll policy's for ``sleep_interval`` (see
    :func:`~pytest_robofixtures.common.polling.default_backoff`); ``hint`` is the expected
    time-to-ready in seconds, if known.
    """
    if not isinstance(retry_count, int) or retry_count <= 0:
        raise InvalidParameterException(f"retry_count must be a positive int; got {retry_count!r}")
    if isinstance(sleep_interval, bool) or not isinstance(sleep_interval, (int, float)) \
            or sleep_interval < 0:
        raise InvalidParameterException(
            f"sleep_interval must be a positive number or 0; got {sleep_interval!r}")
    # sleep_interval=0 (the SDK's busy poll) still backs off a little: no tight loop
    interval = float(sleep_interval) or MIN_INTERVAL
    limit = float(timeout) if timeout is not None else retry_count * interval
    phases = [str(p) for p in ready_phases]
    schedule = backoff or default_backoff(interval)
    try:
        result = poll(fetch, lambda s: is_ready(s, phases), timeout=limit, what=what,
                      describe=describe, clock=clock, backoff=schedule, on_change=on_change,
                      hint=hint)
    except PollTimeout as exc:
        raise RetriesExhausted(
            f"Retries exhausted: waited {exc.elapsed:.1f}s ({exc.polls} polls, timeout "
            f"{limit:g}s) for {what} to be ready. Last state: {describe(exc.last)}",
            last_status=exc.last,
        ) from None
    return result.value
