"""HTTP plumbing: one session per client, the two response envelopes, errors as exceptions."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from ..common.clock import Clock, default_clock
from ..common.http import make_session
from .errors import (
    APIError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    InternalServerError,
    RequestTimeout,
    ResourceNotFoundError,
    UnauthorizedError,
)

DM = "/api/device-manager/v0/"

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: ResourceNotFoundError,
    409: ConflictError,
    500: InternalServerError,
}

Overrides = dict[int, type[Exception]]


def server_message(response: requests.Response) -> str:
    """The server's error text: top-level ``error``, else ``response.error``, else the raw body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        if body.get("error"):
            return str(body["error"])
        inner = body.get("response")
        if isinstance(inner, dict) and inner.get("error"):
            return str(inner["error"])
    return ""


def raise_for_status(response: requests.Response, overrides: Overrides | None = None) -> None:
    """Raise the exception mapped from a non-2xx ``response`` (method, path, status, message)."""
    if 200 <= response.status_code < 300:
        return
    method = response.request.method or "?"
    path = urlsplit(response.request.url or "").path
    msg = server_message(response)
    text = f"{method} {path} returned {response.status_code}" + (f": {msg}" if msg else "")
    cls: type[Exception] = (overrides or {}).get(response.status_code) or _BY_STATUS.get(
        response.status_code, APIError
    )
    if issubclass(cls, APIError):
        raise cls(text, method=method, path=path, status_code=response.status_code,
                  server_message=msg)
    raise cls(text)


def _is_timeout(exc: BaseException) -> bool:
    """Whether a requests error is a timeout (urllib3 wraps read timeouts in MaxRetryError)."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return False  # a subclass of ConnectTimeoutError, but e.g. a refused connection
    return isinstance(reason, (urllib3.exceptions.TimeoutError, TimeoutError))


class Rest:
    """Authenticated access to the catalog and core (device-manager) hosts."""

    def __init__(
        self,
        auth_token: str,
        project: str | None,
        catalog_host: str,
        core_api_host: str,
        timeout: float | tuple[float, float],
        retries: int,
        clock: Clock | None,
    ) -> None:
        self.catalog_host = catalog_host.rstrip("/")
        self.core_api_host = core_api_host.rstrip("/")
        self._clock = clock
        token = auth_token if auth_token.startswith("Bearer") else f"Bearer {auth_token}"
        self.session = make_session(timeout=timeout, retries=retries, headers={
            "Authorization": token, "Content-Type": "application/json",
        })
        self.project = project

    @property
    def clock(self) -> Clock:
        """The clock pollers use (the default clock, unless one was given)."""
        return self._clock or default_clock()

    @property
    def project(self) -> str | None:
        """The project GUID sent in the ``project`` header (None: header omitted)."""
        return self._project

    @project.setter
    def project(self, value: str | None) -> None:
        self._project = value
        if value is None:
            self.session.headers.pop("project", None)
        else:
            self.session.headers["project"] = value

    def close(self) -> None:
        """Close the connection pool."""
        self.session.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json_body: Any = None,
        overrides: Overrides | None = None,
    ) -> requests.Response:
        """Send one request; transport failures and non-2xx answers raise mapped exceptions."""
        kwargs: dict[str, Any] = {"params": params}
        if json_body is not None:
            kwargs["data"] = json.dumps(json_body)
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            path = urlsplit(url).path
            if not _is_timeout(exc):
                raise APIError(f"Error occurred for URL {url}: {exc}", method=method,
                               path=path) from exc
            raise RequestTimeout(
                f"{method} {path} timed out after {self.session.timeout}s (no answer from "
                f"{url}); raise Client(timeout=...) if the server is slow: {exc}",
                method=method, path=path,
            ) from exc
        raise_for_status(response, overrides)
        return response

    @staticmethod
    def parse(response: requests.Response) -> Any:
        """The JSON body of a 2xx response (APIError if it is not JSON)."""
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise APIError(
                f"{response.request.method} {response.url} returned a body that is not JSON: "
                f"{response.text[:200]!r}"
            ) from exc

    def catalog(self, method: str, path: str, *, params: Any = None, json_body: Any = None,
                overrides: Overrides | None = None) -> Any:
        """A catalog call; returns the raw JSON body."""
        resp = self.request(method, self.catalog_host + path, params=params, json_body=json_body,
                            overrides=overrides)
        return self.parse(resp)

    def core(self, method: str, path: str, *, params: Any = None, json_body: Any = None,
             overrides: Overrides | None = None) -> Any:
        """A call to another core-host API (metrics, users); returns the raw JSON body."""
        resp = self.request(method, self.core_api_host + path, params=params,
                            json_body=json_body, overrides=overrides)
        return self.parse(resp)

    def dm_raw(self, method: str, path: str, *, params: Any = None, json_body: Any = None,
               overrides: Overrides | None = None) -> Any:
        """A device-manager call; returns the whole envelope."""
        resp = self.request(method, self.core_api_host + DM + path, params=params,
                            json_body=json_body, overrides=overrides)
        return self.parse(resp)

    def dm(self, method: str, path: str, *, params: Any = None, json_body: Any = None,
           overrides: Overrides | None = None) -> Any:
        """A device-manager call; returns ``response.data`` of the envelope."""
        body = self.dm_raw(method, path, params=params, json_body=json_body, overrides=overrides)
        try:
            return body["response"]["data"]
        except (TypeError, KeyError) as exc:
            raise APIError(
                f"{method} {DM}{path}: the answer has no response.data: {str(body)[:200]}"
            ) from exc

    def dm_ok(self, method: str, path: str, *, params: Any = None, json_body: Any = None,
              overrides: Overrides | None = None) -> bool:
        """A device-manager call whose answer is just ``{"status": "success"}``."""
        body = self.dm_raw(method, path, params=params, json_body=json_body, overrides=overrides)
        return isinstance(body, dict) and body.get("status") == "success"
