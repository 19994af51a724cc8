"""A requests session with a timeout on every request and safe retries done by urllib3.

Retries (:class:`SafeRetry`, a configured urllib3 ``Retry``):

- **429 and 503** are retried for every method: they mean the server did not process the
  request, so sending it again cannot create a second resource.
- **500, 502 and 504**, connection resets and read timeouts are retried only for idempotent
  methods (GET polls included). A POST/PUT whose outcome is unknown is never re-sent: the error
  (or the last 5xx response) reaches the caller, who reconciles by the resource's unique name
  (:func:`outcome_unknown` tells these failures apart from ones where nothing was sent).
- Connection failures before anything was sent (refused, connect timeout) are retried for every
  method.
- ``Retry-After`` is honoured exactly, within the request's retry budget: when the wait it asks
  for would exceed the budget, the request gives up at once with that status.

Every wait between attempts goes through the default clock, so in replay they take no real time.

The session reads the environment's proxy and CA-bundle settings once per scheme and host
instead of on every request (requests re-reads them each time, which was a third of the cost of
a replayed request); a change of ``HTTP(S)_PROXY``/``NO_PROXY`` after the first request to a host
is therefore not seen by that session. It also merges its headers and (empty) query parameters
with plain dict operations: requests 2.33+ checks each setting against a runtime Protocol, which
on Python 3.11 costs about 12 µs a check and eight checks a request.
"""

from __future__ import annotations

import http.cookiejar
import os
from collections.abc import Callable, Collection, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.cookies import cookiejar_from_dict as _cookiejar_from_dict
from requests.cookies import merge_cookies as _merge_cookies
from requests.sessions import merge_hooks as _merge_hooks
from requests.sessions import merge_setting as _merge_setting
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from .clock import default_clock

if TYPE_CHECKING:
    from requests.sessions import _Settings  # a stub-only TypedDict

# requests-stubs leave merge_setting unannotated: (request value, session value) -> merged
merge_setting: Callable[[Any, Any], Any] = _merge_setting
merge_hooks: Callable[[Any, Any], Any] = _merge_hooks
merge_cookies: Callable[[Any, Any], Any] = _merge_cookies
cookiejar_from_dict: Callable[[Any], Any] = _cookiejar_from_dict

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds
#: Statuses that mean "not processed": retried whatever the method.
UNPROCESSED_STATUSES = frozenset({429, 503})
#: Statuses after which the request may or may not have had its effect: idempotent methods only.
UNKNOWN_OUTCOME_STATUSES = frozenset({500, 502, 504})
RETRY_STATUSES = UNPROCESSED_STATUSES | UNKNOWN_OUTCOME_STATUSES
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
#: Default total seconds one request may spend waiting between its attempts.
DEFAULT_RETRY_BUDGET = 30.0


class SafeRetry(Retry):
    """urllib3's ``Retry`` with the policy of the module docstring, waiting on the default clock.

    ``budget`` bounds the seconds one request spends waiting between attempts (backoff and
    ``Retry-After`` together); ``waited`` is how much of it is used (carried from one attempt's
    Retry to the next by :meth:`new`).
    """

    def __init__(self, *args: Any, budget: float = DEFAULT_RETRY_BUDGET, waited: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget
        self.waited = waited

    def new(self, **kw: Any) -> SafeRetry:
        kw.setdefault("budget", self.budget)
        kw.setdefault("waited", self.waited)
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in UNPROCESSED_STATUSES:
            return True
        if status_code in UNKNOWN_OUTCOME_STATUSES:
            return method.upper() in (self.allowed_methods or IDEMPOTENT_METHODS)
        return False

    def wait_before_next(self, response: Any = None) -> float:
        """Seconds to wait before the next attempt: ``Retry-After`` if given, else the backoff."""
        if response is not None and self.respect_retry_after_header:
            retry_after = self.get_retry_after(response)
            if retry_after is not None:
                return retry_after
        return self.get_backoff_time()

    def increment(self, method: str | None = None, url: str | None = None,
                  response: Any = None, error: Exception | None = None,
                  _pool: Any = None, _stacktrace: Any = None) -> SafeRetry:
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        wait = new.wait_before_next(response)
        if self.waited + wait > self.budget:
            # Give up now rather than sleep past the budget; the caller sees the last status.
            reason = error or ResponseError(
                f"retry would wait {wait:g}s, beyond the {self.budget:g}s budget "
                f"({self.waited:g}s used)")
            raise MaxRetryError(_pool, url, reason) from reason
        return new.new(waited=self.waited + wait)

    def sleep(self, response: Any = None) -> None:
        wait = self.wait_before_next(response)
        if wait > 0:
            default_clock().sleep(wait)


def retry_policy(
    total: int = 4,
    backoff_factor: float = 0.2,
    budget: float = DEFAULT_RETRY_BUDGET,
    idempotent_methods: Collection[str] = IDEMPOTENT_METHODS,
    statuses: bool = True,
) -> SafeRetry:
    """The shared retry policy (see module docstring): ``total`` retries per request.

    ``statuses=False`` keeps the connection and read retries but answers every status at once
    (for a request whose refusal is itself the answer, such as "all deployments are busy").
    """
    return SafeRetry(
        total=total,
        connect=total,
        read=total,
        status=total if statuses else 0,
        other=0,
        redirect=0,
        backoff_factor=backoff_factor,
        backoff_max=5.0,
        allowed_methods=frozenset(m.upper() for m in idempotent_methods),
        respect_retry_after_header=True,
        retry_after_max=2**31,  # never clamp: a wait beyond the budget gives up instead
        raise_on_status=False,  # hand the last 5xx/429 response to the caller to map
        raise_on_redirect=False,
        budget=budget,
    )


def outcome_unknown(exc: BaseException) -> bool:
    """Whether a failed request may have reached the server and had its effect.

    True for read timeouts and connections reset or closed after the request was sent; False
    when nothing was sent (refused, connect timeout, DNS). A create that failed this way must be
    reconciled (look the resource up by its unique name) before it is sent again.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (urllib3.exceptions.NewConnectionError,
                                urllib3.exceptions.ConnectTimeoutError,
                                requests.exceptions.ConnectTimeout)):
            return False
        if isinstance(current, (urllib3.exceptions.ReadTimeoutError,
                                urllib3.exceptions.ProtocolError,
                                requests.exceptions.ReadTimeout,
                                ConnectionResetError)):
            return True
        reason = getattr(current, "reason", None)
        nested = current.args[0] if current.args else None
        current = (reason if isinstance(reason, BaseException)
                   else nested if isinstance(nested, BaseException)
                   else current.__cause__ or current.__context__)
    return False


class TimeoutSession(requests.Session):
    """A ``requests.Session`` with a default timeout, safe retries and cached proxy settings."""

    def __init__(
        self,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: Retry | int | None = None,
        retry_budget: float | None = None,
    ) -> None:
        super().__init__()
        self.timeout = timeout
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        budget = max(DEFAULT_RETRY_BUDGET, read_timeout) if retry_budget is None else retry_budget
        policy = retries if isinstance(retries, Retry) else retry_policy(
            4 if retries is None else retries, budget=budget
        )
        adapter = HTTPAdapter(max_retries=policy)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        # (scheme, host, no_proxy) -> proxies from the environment; CA bundle read once.
        self._env_proxies: dict[tuple[str, str, str | None], dict[str, str]] = {}
        self._env_ca_bundle: str | None = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        )

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        """Like requests' ``prepare_request``, with headers and empty params merged as plain dicts.

        Same result as requests' (request values override the session's, ``None`` removes a
        header); query parameters given as anything but empty go through requests' own merge.
        """
        if request.params or self.params or not isinstance(request.headers, dict):
            return super().prepare_request(request)
        cookies = request.cookies or {}
        if not isinstance(cookies, http.cookiejar.CookieJar):
            cookies = cookiejar_from_dict(cookies)
        merged_cookies = merge_cookies(merge_cookies(RequestsCookieJar(), self.cookies), cookies)
        auth = request.auth
        if self.trust_env and not auth and not self.auth:
            auth = requests.sessions.get_netrc_auth(request.url)
        headers: CaseInsensitiveDict[str | bytes] = CaseInsensitiveDict(self.headers)
        headers.update(request.headers)
        for name in [k for k, v in headers.items() if v is None]:
            del headers[name]
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=request.method.upper() if request.method else request.method,
            url=request.url,
            files=request.files,
            data=request.data,
            json=request.json,
            headers=headers,
            params="",  # nothing to encode: skips requests' per-value checks
            auth=merge_setting(auth, self.auth),
            cookies=merged_cookies,
            hooks=merge_hooks(request.hooks, self.hooks),
        )
        return prepared

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: bool | str | None,
        cert: str | tuple[str, str] | None,
    ) -> _Settings:
        """Like requests', but the environment is read once per scheme and host (see module)."""
        if not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        merged: dict[str, str] = dict(proxies or {})
        text = url.decode() if isinstance(url, bytes) else (url or "")
        parts = urlsplit(text)
        no_proxy = merged.get("no_proxy")
        key = (parts.scheme, parts.netloc, no_proxy)
        env = self._env_proxies.get(key)
        if env is None:
            env = self._env_proxies[key] = dict(get_environ_proxies(text, no_proxy=no_proxy))
        for name, value in env.items():
            merged.setdefault(name, value)
        if verify is True or verify is None:
            verify = self._env_ca_bundle or verify
        proxies = {k: v for k, v in {**self.proxies, **merged}.items() if v is not None}
        return {
            "proxies": proxies,
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }


def make_session(
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    retries: Retry | int | None = None,
    headers: dict[str, str] | None = None,
    retry_budget: float | None = None,
) -> TimeoutSession:
    """Build a :class:`TimeoutSession` with ``headers`` set on every request.

    ``retry_budget`` bounds the seconds one request waits between its attempts (default
    :data:`DEFAULT_RETRY_BUDGET`, or the read timeout if that is longer).
    """
    session = TimeoutSession(timeout=timeout, retries=retries, retry_budget=retry_budget)
    if headers:
        session.headers.update(headers)
    return session
