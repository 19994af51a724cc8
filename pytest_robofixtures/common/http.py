"""A requests session with a timeout on every request and retries done by urllib3.

Retries: connection errors are retried for every method (the request never left), while
429/502/503/504 and read errors are retried only for idempotent methods, so a retry can never
create a second resource. ``Retry-After`` is honoured. Retry waits go through the default clock,
so in replay they take no real time either.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .clock import default_clock

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds
RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class ClockRetry(Retry):
    """urllib3's Retry, sleeping on the default clock, so a replayed retry does not really wait."""

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            default_clock().sleep(backoff)

    def sleep_for_retry(self, response: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            default_clock().sleep(retry_after)
            return True
        return False


def retry_policy(total: int = 4, backoff_factor: float = 0.2) -> Retry:
    """The shared retry policy (see module docstring)."""
    return ClockRetry(
        total=total,
        connect=total,
        read=total,
        status=total,
        other=0,
        backoff_factor=backoff_factor,
        backoff_max=5.0,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=IDEMPOTENT_METHODS,
        respect_retry_after_header=True,
        raise_on_status=False,  # hand the last 5xx/429 response to the caller to map
    )


class TimeoutSession(requests.Session):
    """A ``requests.Session`` that applies a default timeout to every request."""

    def __init__(
        self,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: Retry | int | None = None,
    ) -> None:
        super().__init__()
        self.timeout = timeout
        policy = retries if isinstance(retries, Retry) else retry_policy(
            4 if retries is None else retries
        )
        adapter = HTTPAdapter(max_retries=policy)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def make_session(
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    retries: Retry | int | None = None,
    headers: dict[str, str] | None = None,
) -> TimeoutSession:
    """Build a :class:`TimeoutSession` with ``headers`` set on every request."""
    session = TimeoutSession(timeout=timeout, retries=retries)
    if headers:
        session.headers.update(headers)
    return session
