"""``APIClient``: the rerobots HTTP API, request-for-request compatible with ``rerobots`` 0.11.0.

Same paths, query parameters (``info=t`` included) and bodies as the official client (the body of
``POST /new`` is a JSON string sent without a Content-Type, as 0.11.0 does), and the same mapping of
error replies onto exceptions. What differs: every request has a timeout and urllib3 retries
(through :func:`~pytest_robofixtures.common.http.make_session`), connection failures become
:class:`~.errors.APIConnectionError`, error messages name the method, path and status, a call that
needs a token and has none fails before any request, and a trailing slash on ``base_uri`` is
dropped.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests

from ..common.clock import Clock
from ..common.http import DEFAULT_TIMEOUT, make_session, retry_policy
from .errors import (
    TOKEN_ENV,
    APIConnectionError,
    BusyWorkspaceDeployment,
    BusyWorkspaceInstance,
    Error,
    InstanceNotFound,
    MissingAPIToken,
    WrongAuthToken,
)

DEFAULT_BASE_URI = "https://api.rerobots.net"
WRONG_TOKEN = "wrong authorization token"
BUSY_DEPLOYMENTS = "All matching workspace deployments are busy"
BUSY_INSTANCE = "This instance is busy."
#: Capabilities of access rules (``create_access_rule``).
CAPABILITIES = ("CAP_NO_INSTANTIATE", "CAP_INSTANTIATE")
#: Actions of firewall rules (``add_firewall_rule``).
FIREWALL_ACTIONS = ("ACCEPT", "DROP", "REJECT")


def _body(res: requests.Response) -> Any:
    """The JSON body of ``res``, or None when it is not JSON."""
    try:
        return res.json()
    except ValueError:
        return None


class APIClient:
    """Client of the rerobots HTTP API (the surface of ``rerobots.api.APIClient`` 0.11.0)."""

    def __init__(
        self,
        api_token: str | None = None,
        headers: dict[str, str] | None = None,
        ignore_env: bool = False,
        base_uri: str | None = None,
        verify: bool | str = True,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        if api_token is None and not ignore_env:
            api_token = os.environ.get(TOKEN_ENV)
        if api_token is not None and not isinstance(api_token, str):
            raise TypeError(f"api_token must be a str, not {type(api_token).__name__}")
        # A token read from a file usually ends with a newline, which no header may carry.
        self.__api_token = api_token.strip() if api_token else None
        if base_uri is None:
            base_uri = DEFAULT_BASE_URI
        if not base_uri.startswith(("http://", "https://")):
            raise ValueError(
                f"base_uri must start with http:// or https://, got {base_uri!r} "
                f"(e.g. {DEFAULT_BASE_URI!r})"
            )
        self.__base_uri = base_uri.rstrip("/")
        self.clock = clock
        self.session = make_session(timeout=timeout, retries=retries, headers=dict(headers or {}))
        self.session.verify = verify
        # Connection retries only (no status retries): see request_instance.
        self._single_try = make_session(timeout=timeout, retries=retry_policy(
            total=4 if retries is None or not isinstance(retries, int) else retries,
            statuses=False))
        self._single_try.verify = verify
        if self.__api_token:
            self.session.headers["Authorization"] = "Bearer " + self.__api_token
        self._single_try.headers = self.session.headers  # one set of headers for both

    # -- configuration -------------------------------------------------------------------------
    @property
    def base_uri(self) -> str:
        """The API's base URI, without a trailing slash."""
        return self.__base_uri

    def has_api_token(self) -> bool:
        """Whether this client holds an API token."""
        return self.__api_token is not None

    def add_client_headers(self, headers: dict[str, str] | None = None) -> None:
        """Add headers sent with every request (an ``Authorization`` never replaces the token)."""
        self.session.headers.update(headers or {})
        if self.__api_token:
            self.session.headers["Authorization"] = "Bearer " + self.__api_token

    def get_client_headers(self) -> dict[str, str]:
        """A copy of the supplemental headers (the Authorization header included)."""
        skip = set(requests.utils.default_headers())
        return {k: str(v) for k, v in self.session.headers.items() if k not in skip}

    def clear_client_headers(self) -> None:
        """Remove every supplemental header, keeping the API token."""
        self.session.headers.clear()
        self.session.headers.update(requests.utils.default_headers())
        if self.__api_token:
            self.session.headers["Authorization"] = "Bearer " + self.__api_token

    def apply_auth_token(self, token: str) -> None:
        """Use ``token`` from now on."""
        if not token or not token.strip():
            raise ValueError("apply_auth_token() needs a non-empty token")
        self.__api_token = token.strip()
        self.session.headers["Authorization"] = "Bearer " + self.__api_token

    def close(self) -> None:
        """Close the HTTP connections."""
        self.session.close()

    def __repr__(self) -> str:
        token = "set" if self.__api_token else "none"
        return f"APIClient(base_uri={self.__base_uri!r}, token={token})"

    # -- plumbing ------------------------------------------------------------------------------
    def _need_token(self, method: str, path: str) -> None:
        if not self.__api_token:
            raise MissingAPIToken(
                f"{method} {path} needs a rerobots API token, and this client has none: set the "
                f"environment variable {TOKEN_ENV} (or pass api_token=...); tokens are made at "
                "https://rerobots.net/tokens",
                method=method,
                path=path,
            )

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: str | None = None,
        json_body: Any = None,
        auth: bool = True,
        session: requests.Session | None = None,
    ) -> requests.Response:
        if auth:
            self._need_token(method, path)
        kwargs: dict[str, Any] = {}
        if params is not None:
            kwargs["params"] = params
        if data is not None:
            kwargs["data"] = data
        if json_body is not None:
            kwargs["json"] = json_body
        try:
            return (session or self.session).request(method, self.__base_uri + path, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise APIConnectionError(
                f"{method} {self.__base_uri}{path} failed: {exc}", method=method, path=path
            ) from exc

    @staticmethod
    def _fail(
        cls: type[Error], res: requests.Response, message: Any, payload: Any = None
    ) -> Error:
        method = res.request.method or "?"
        path = urlsplit(res.request.url or "").path
        return cls(
            f"{method} {path} -> HTTP {res.status_code}: {message}",
            method=method,
            path=path,
            status=res.status_code,
            payload=payload,
        )

    def _raw_error(self, res: requests.Response) -> Error:
        """Error family A: the raw text of the reply (a plain Error, as in 0.11.0)."""
        payload = _body(res)
        if isinstance(payload, dict) and payload.get("error_message") == WRONG_TOKEN:
            if not self.__api_token:
                return self._fail(
                    MissingAPIToken, res,
                    f"{WRONG_TOKEN}: this client has no API token; set {TOKEN_ENV} "
                    "(or pass api_token=...)", payload,
                )
            return self._fail(
                Error, res, f"{WRONG_TOKEN} (check {TOKEN_ENV} or the api_token argument)",
                payload,
            )
        return self._fail(Error, res, res.text.strip() or res.reason, payload)

    def _auth_aware_error(self, res: requests.Response) -> Error:
        """Error family B: a wrong token is :class:`WrongAuthToken`."""
        payload = _body(res)
        if not isinstance(payload, dict):
            return self._raw_error(res)
        msg = payload.get("error_message")
        if msg == WRONG_TOKEN:
            return self._fail(
                WrongAuthToken, res,
                f"{WRONG_TOKEN} (check {TOKEN_ENV} or the api_token argument)", payload,
            )
        return self._fail(Error, res, msg if msg is not None else payload, payload)

    # -- workspace deployments -----------------------------------------------------------------
    def get_wtypes(self) -> list[str]:
        """List the workspace types."""
        res = self._request("GET", "/workspaces", auth=False)
        if not res.ok:
            raise self._raw_error(res)
        return list(res.json()["workspace_types"])

    def get_wdeployments(
        self,
        query: str | None = None,
        maxlen: int | str | None = None,
        types: list[str] | None = None,
        page: int | None = None,
        max_per_page: int | None = None,
    ) -> Any:
        """List workspace deployments as ``{id, type, region, queuelen}`` dicts.

        With ``max_per_page``, return ``(list, page_count)``.
        """
        if isinstance(types, str):
            types = [types]
        params: dict[str, Any] = {}
        if max_per_page is not None:
            params["max_per_page"] = max_per_page
            if page is not None:
                params["page"] = page
        if query is not None:
            params["q"] = query
        if maxlen is not None:
            params["maxlen"] = maxlen
        if types is not None:
            params["types"] = ",".join(types)
        params["info"] = "t"
        res = self._request("GET", "/deployments", params=params, auth=False)
        if not res.ok:
            raise self._raw_error(res)
        payload = res.json()
        info = payload.get("info", {})
        wdeployments = []
        for wdid in payload["workspace_deployments"]:
            item = info.get(wdid, {})
            wdeployments.append({
                "id": wdid,
                "type": item.get("type"),
                "region": item.get("region"),
                "queuelen": item.get("queuelen"),
            })
        if max_per_page is None:
            return wdeployments
        return wdeployments, payload.get("page_count")

    def get_wdeployment_info(self, wdeployment_id: str) -> dict[str, Any]:
        """Details of one workspace deployment."""
        res = self._request("GET", "/deployment/" + wdeployment_id, auth=False)
        if not res.ok:
            raise self._raw_error(res)
        return dict(res.json())

    # -- access rules --------------------------------------------------------------------------
    def get_access_rules(
        self, wdeployment_id: str | None = None, to_user: str | None = None
    ) -> list[dict[str, Any]]:
        """Access rules (``id, date_created, user, wdeployment_id, capability, param``).

        Of every deployment you manage, or of ``wdeployment_id``; ``to_user`` filters by user.
        """
        params = {"to_user": to_user} if to_user is not None else {}
        path = "/rules" if wdeployment_id is None else f"/deployment/{wdeployment_id}/rules"
        res = self._request("GET", path, params=params)
        if not res.ok:
            raise self._auth_aware_error(res)
        return list(res.json()["rules"])

    def create_access_rule(
        self, wdeployment_id: str, capability: str, to_user: str | None = None
    ) -> int:
        """Add an access rule to a deployment; return the rule id.

        ``capability`` is ``CAP_NO_INSTANTIATE`` or ``CAP_INSTANTIATE``, for ``to_user`` or, when
        None, for everyone.
        """
        if capability not in CAPABILITIES:
            raise Error(
                f"unrecognized capability {capability!r}: expected one of {list(CAPABILITIES)}"
            )
        body: dict[str, Any] = {"cap": capability}
        if to_user is not None:
            body["user"] = to_user
        res = self._request("POST", f"/deployment/{wdeployment_id}/rule", json_body=body)
        if not res.ok:
            # 0.11.0 reports "<code> <reason>"; the body's message is added for the CI log.
            raise self._fail(Error, res, f"{res.status_code} {res.reason}: {res.text.strip()}",
                             _body(res))
        return int(res.json()["rule_id"])

    def del_access_rule(self, wdeployment_id: str, rule_id: int | str) -> None:
        """Delete an access rule of a deployment."""
        res = self._request("DELETE", f"/deployment/{wdeployment_id}/rule/{rule_id}")
        if not res.ok:
            raise self._fail(Error, res, f"{res.status_code} {res.reason}: {res.text.strip()}",
                             _body(res))

    # -- tokens ----------------------------------------------------------------------------------
    def revoke_token(self, token: str | bytes | None = None, sha256: str | None = None) -> None:
        """Revoke an API token, given as the token or as the hex SHA-256 of it (cannot be undone).

        ValueError when neither is given, or both are and ``sha256`` is not the token's hash.
        """
        if token is None and sha256 is None:
            raise ValueError("token or sha256 must be non-None")
        if token is not None:
            raw = token.encode("utf-8") if isinstance(token, str) else bytes(token)
            digest = hashlib.sha256(raw).hexdigest()
            if sha256 is not None and sha256 != digest:
                raise ValueError("both token or sha256 given, but SHA256(token) != sha256")
            sha256 = digest
        assert sha256 is not None
        res = self._request("POST", "/revoke/" + sha256)
        if not res.ok:
            raise self._raw_error(res)

    def purge(self) -> None:
        """Revoke every API token of your account, this client's included (cannot be undone)."""
        res = self._request("POST", "/purge")
        if not res.ok:
            raise self._raw_error(res)

    # -- reservations ----------------------------------------------------------------------------
    def get_reservations(self) -> list[dict[str, Any]]:
        """Your pending reservations (made by ``request_instance(..., reserve=True)``)."""
        res = self._request("GET", "/reservations")
        if not res.ok:
            raise self._raw_error(res)
        return list(res.json()["reservations"])

    def cancel_reservation(self, reservation_id: str) -> None:
        """Cancel a reservation (cannot be undone)."""
        res = self._request("DELETE", "/reservation/" + reservation_id)
        if not res.ok:
            raise self._raw_error(res)

    # -- CI ------------------------------------------------------------------------------------
    def get_ci_projects(self) -> dict[str, Any]:
        """Your CI projects (the reply as the service sends it)."""
        res = self._request("GET", "/ci/projects")
        if not res.ok:
            raise self._auth_aware_error(res)
        return dict(res.json())

    def create_ci_project(self, repo_url: str) -> str:
        """Create a CI project for the repository at ``repo_url``; return its id."""
        res = self._request("POST", "/ci/new", json_body={"repo_url": repo_url})
        if not res.ok:
            raise self._auth_aware_error(res)
        return str(res.json()["pid"])

    def submit_ci_job(self, pid: str, branch: str, ref: str) -> str:
        """Start a job of CI project ``pid`` on ``branch`` at commit ``ref``; return its id."""
        res = self._request(
            "POST", f"/ci/project/{pid}/job", json_body={"branch": branch, "commit": ref}
        )
        if res.status_code == 404:
            raise self._fail(Error, res, f"not found: no CI project {pid}", _body(res))
        if not res.ok:
            raise self._auth_aware_error(res)
        return str(res.json()["jid"])

    # -- instances -----------------------------------------------------------------------------
    def get_instances(
        self,
        include_terminated: bool = False,
        page: int | None = None,
        max_per_page: int | None = None,
    ) -> Any:
        """IDs of your instances; with ``max_per_page``, ``(ids, page_count)``."""
        params: dict[str, Any] = {}
        if include_terminated:
            params["include_terminated"] = ""
        if max_per_page is not None:
            params["max_per_page"] = max_per_page
            if page is not None:
                params["page"] = page
        res = self._request("GET", "/instances", params=params)
        if not res.ok:
            raise self._auth_aware_error(res)
        payload = res.json()
        if max_per_page is None:
            return list(payload["workspace_instances"])
        return list(payload["workspace_instances"]), payload.get("page_count")

    def get_instance_info(self, instance_id: str) -> dict[str, Any]:
        """Details of one workspace instance (status, fwd, hostkeys...)."""
        res = self._request("GET", "/instance/" + instance_id)
        if res.ok:
            return dict(res.json())
        payload = _body(res)
        if not isinstance(payload, dict):
            raise self._raw_error(res)
        msg = payload.get("error_message")
        if msg == "instance not found":
            raise self._fail(
                InstanceNotFound, res, f"no instance with identifier {instance_id}", payload
            )
        if msg == WRONG_TOKEN:
            raise self._fail(
                WrongAuthToken, res,
                f"{WRONG_TOKEN} (check {TOKEN_ENV} or the api_token argument)", payload,
            )
        raise self._fail(Error, res, msg if msg is not None else payload, payload)

    def get_instance_sshkey(self, instance_id: str) -> str:
        """The private key the server generated for an instance (``GET /instance/{id}/sshkey``).

        Not in the Python client 0.11.0 (the service's Rust client uses it): how an instance
        this client did not create itself, e.g. one adopted after a lost reply, gets its key.
        """
        res = self._request("GET", f"/instance/{instance_id}/sshkey")
        payload = _body(res)
        if res.ok and isinstance(payload, dict) and isinstance(payload.get("key"), str):
            return str(payload["key"])
        if not isinstance(payload, dict):
            raise self._raw_error(res)
        msg = payload.get("error_message")
        if msg == WRONG_TOKEN:
            raise self._fail(
                WrongAuthToken, res,
                f"{WRONG_TOKEN} (check {TOKEN_ENV} or the api_token argument)", payload,
            )
        raise self._fail(Error, res, msg if msg is not None else payload, payload)

    def find_instances(
        self,
        wdeployment_id: str | None = None,
        statuses: Iterable[str] | None = ("INIT", "READY"),
        *,
        exclude: Iterable[str] = (),
        per_page: int = 100,
    ) -> list[dict[str, Any]]:
        """Details of your instances, filtered by deployment and status (not in 0.11.0).

        Reconciles a create whose reply was lost: ``find_instances(wdid)`` lists the instances
        on deployment ``wdid`` that are INIT or READY (a deployment holds one instance at a
        time, so at most one), each as ``GET /instance/{id}`` returns it. ``statuses=None``
        keeps every status (terminated instances included). Walks every page of
        ``GET /instances``; an instance that vanishes between the list and the read is skipped.
        ``exclude`` drops ids the caller already knows (e.g. other workers' instances sharing
        the token), so a lost reply is never reconciled onto someone else's instance.
        """
        wanted = None if statuses is None else frozenset(statuses)
        terminal = wanted is None or bool(wanted & {"TERMINATED", "INIT_FAIL"})
        ids: list[str] = []
        page, pages = 1, 1
        while page <= pages:
            chunk, count = self.get_instances(
                include_terminated=terminal, page=page, max_per_page=per_page
            )
            ids.extend(str(i) for i in chunk)
            pages = int(count or 1)
            page += 1
        found = []
        skip = set(exclude)
        for iid in dict.fromkeys(ids):  # no duplicates if a page shifted under us
            if iid in skip:
                continue
            try:
                info = self.get_instance_info(iid)
            except InstanceNotFound:
                continue
            info.setdefault("id", iid)
            if wdeployment_id is not None and info.get("deployment") != wdeployment_id:
                continue
            if wanted is not None and info.get("status") not in wanted:
                continue
            found.append(info)
        return found

    def terminate_instance(self, instance_id: str) -> None:
        """Terminate a workspace instance (does not wait)."""
        res = self._request("POST", "/terminate/" + instance_id)
        if res.ok:
            return
        payload = _body(res)
        if not isinstance(payload, dict):
            raise self._raw_error(res)
        msg = payload.get("result_message")
        if isinstance(msg, str):
            if msg.startswith(BUSY_INSTANCE):
                raise self._fail(BusyWorkspaceInstance, res, msg, payload)
            raise self._fail(Error, res, msg, payload)
        if payload.get("error_message") == "instance not found":
            # 0.11.0 raises a plain Error here; InstanceNotFound is an Error, so that still holds.
            raise self._fail(
                InstanceNotFound, res, f"no instance with identifier {instance_id}", payload
            )
        raise self._fail(Error, res, payload, payload)

    def request_instance(
        self,
        type_or_wdeployment_id: str,
        sshkey: str | None = None,
        vpn: bool = False,
        reserve: bool = False,
        event_url: str | None = None,
        duration: int | None = None,
    ) -> dict[str, Any]:
        """Request a new instance; the reply has ``id`` and, without ``sshkey``, ``sshkey``.

        ``sshkey`` is YOUR public key; without it the server generates a key pair and returns
        the private key. Keep the reply out of logs.
        """
        body: dict[str, Any] = {}
        if sshkey is not None:
            body["sshkey"] = sshkey
        if duration is not None:
            body["expire_d"] = duration
        if vpn:
            body["vpn"] = vpn
        body["reserve"] = reserve
        if event_url is not None:
            body["eurl"] = event_url
        # 0.11.0 posts a pre-serialised string: a JSON body with no Content-Type.
        # "All matching deployments are busy" is an answer, not a passing fault: ask once, so a
        # caller trying several deployments moves on at once instead of waiting out retries.
        # Any other 503/429 was not processed either, so it is safe to send again, with retries.
        path = "/new/" + type_or_wdeployment_id
        res = self._request("POST", path, data=json.dumps(body), session=self._single_try)
        if res.status_code in (429, 503) and not _is_busy(res):
            res = self._request("POST", path, data=json.dumps(body))
        if res.ok:
            return dict(res.json())
        payload = _body(res)
        if not isinstance(payload, dict):
            raise self._fail(Error, res, f"Response {res.status_code}: {res.content!r}")
        msg = payload.get("result_message")
        if msg is None:
            msg = payload.get("error")
        if msg is None:
            if payload.get("error_message") == WRONG_TOKEN:
                raise self._fail(
                    WrongAuthToken, res,
                    f"{WRONG_TOKEN} (check {TOKEN_ENV} or the api_token argument)", payload,
                )
            raise self._fail(Error, res, payload.get("error_message", payload), payload)
        if str(msg).startswith(BUSY_DEPLOYMENTS):
            raise self._fail(BusyWorkspaceDeployment, res, msg, payload)
        raise self._fail(Error, res, msg, payload)

    # -- firewall --------------------------------------------------------------------------------
    def get_firewall_rules(self, instance_id: str) -> list[dict[str, Any]]:
        """The firewall (packet filter) rules of an instance, in order."""
        res = self._request("GET", "/firewall/" + instance_id)
        if not res.ok:
            raise self._raw_error(res)
        return list(res.json()["rules"])

    def add_firewall_rule(
        self, instance_id: str, action: str, source_address: str | None = None
    ) -> None:
        """Append a firewall rule to an instance.

        ``action`` is ACCEPT, DROP or REJECT, for ``source_address`` (a CIDR) or every source.
        """
        if action not in FIREWALL_ACTIONS:
            raise Error(
                f"unrecognized firewall action {action!r}: expected one of {list(FIREWALL_ACTIONS)}"
            )
        body: dict[str, str] = {}
        if source_address is not None:
            body["src"] = source_address
        body["action"] = action
        # As 0.11.0: a JSON string without a Content-Type.
        res = self._request("POST", "/firewall/" + instance_id, data=json.dumps(body))
        if not res.ok:
            raise self._raw_error(res)

    def flush_firewall_rules(self, instance_id: str) -> None:
        """Remove every firewall rule (then any source can reach the instance)."""
        res = self._request("DELETE", "/firewall/" + instance_id)
        if not res.ok:
            raise self._raw_error(res)

    def get_vpn_newclient(self, instance_id: str) -> dict[str, Any]:
        """Create a new OpenVPN client: ``{client_id, ovpn}`` (the config is a secret)."""
        res = self._request("POST", "/vpn/" + instance_id)
        if not res.ok:
            raise self._raw_error(res)
        return dict(res.json())

    # -- add-ons -------------------------------------------------------------------------------
    def _addon_post(self, addon: str, instance_id: str) -> None:
        res = self._request("POST", f"/addon/{addon}/{instance_id}")
        if not res.ok:
            raise self._raw_error(res)

    def _addon_delete(self, addon: str, instance_id: str) -> None:
        res = self._request("DELETE", f"/addon/{addon}/{instance_id}")
        if not res.ok:
            raise self._raw_error(res)

    def _addon_status(self, addon: str, instance_id: str) -> dict[str, Any]:
        res = self._request("GET", f"/addon/{addon}/{instance_id}")
        if res.status_code == 404:
            return {"status": "notfound"}
        if not res.ok:
            raise self._raw_error(res)
        return dict(res.json())

    def activate_addon_cam(self, instance_id: str) -> None:
        """Activate the cam (camera) add-on."""
        self._addon_post("cam", instance_id)

    def status_addon_cam(self, instance_id: str) -> dict[str, Any]:
        """Status of the cam add-on: ``{'status': 'notfound'|'starting'|'active', ...}``."""
        return self._addon_status("cam", instance_id)

    def deactivate_addon_cam(self, instance_id: str) -> None:
        """Deactivate the cam add-on."""
        self._addon_delete("cam", instance_id)

    def get_snapshot_cam(
        self,
        instance_id: str,
        camera_id: int = 0,
        coding: str | None = None,
        dformat: str | None = None,
    ) -> dict[str, Any]:
        """An image from a camera of the cam add-on, as 0.11.0 returns it.

        ``coding=None`` gives raw bytes in ``data`` (``'base64'`` keeps the text);
        ``dformat='ndarray'`` decodes to a NumPy uint8 array of shape (H, W, 3).
        """
        if dformat is not None:
            dformat = dformat.lower()
            if dformat not in ("ndarray", "jpeg"):
                raise ValueError(f"dformat must be None, 'jpeg' or 'ndarray', not {dformat!r}")
        if coding is not None and coding != "base64":
            raise ValueError(f"coding must be None or 'base64', not {coding!r}")
        if dformat == "ndarray" and coding is not None:
            raise ValueError("dformat='ndarray' needs coding=None")
        res = self._request("GET", f"/addon/cam/{instance_id}/{camera_id}/img")
        if not res.ok:
            if res.status_code == 404:
                raise self._fail(
                    Error, res,
                    f"instance {instance_id} not found, or cam add-on not active "
                    "(activate it with activate_addon_cam() and wait for status 'active')",
                    _body(res),
                )
            raise self._raw_error(res)
        payload = dict(res.json())
        if not payload.get("success"):
            return payload
        if "coding" in payload and payload["coding"] != coding:
            if coding is None and payload["coding"] == "base64":
                payload["data"] = base64.b64decode(payload["data"])
                payload["coding"] = None
        if dformat is not None and str(payload.get("format", "")).lower() != dformat:
            if dformat == "ndarray":
                import numpy as np
                from PIL import Image

                with Image.open(io.BytesIO(payload["data"])) as img:
                    payload["data"] = np.asarray(img.convert("RGB"), dtype=np.uint8)
                payload["format"] = "ndarray"
        return payload

    def activate_addon_mistyproxy(self, instance_id: str) -> None:
        """Activate the mistyproxy add-on (proxy URLs come from its status)."""
        self._addon_post("mistyproxy", instance_id)

    def status_addon_mistyproxy(self, instance_id: str) -> dict[str, Any]:
        """Status of the mistyproxy add-on, with ``url: [http_url, https_url]`` when active."""
        return self._addon_status("mistyproxy", instance_id)

    def deactivate_addon_mistyproxy(self, instance_id: str) -> None:
        """Deactivate the mistyproxy add-on (a new activation makes new URLs)."""
        self._addon_delete("mistyproxy", instance_id)

    def activate_addon_drive(self, instance_id: str) -> None:
        """Activate the drive add-on."""
        self._addon_post("drive", instance_id)

    def status_addon_drive(self, instance_id: str) -> dict[str, Any]:
        """Status of the drive add-on."""
        return self._addon_status("drive", instance_id)

    def send_drive_command(self, instance_id: str, command: dict[str, Any] | None) -> None:
        """Send a motion command through the drive add-on (None: stop)."""
        if command is None:
            command = {"linearv": 0, "angularv": 0}
        res = self._request("POST", f"/addon/drive/{instance_id}/tx", json_body=command)
        if not res.ok:
            raise self._raw_error(res)

    def deactivate_addon_drive(self, instance_id: str) -> None:
        """Deactivate the drive add-on."""
        self._addon_delete("drive", instance_id)

    def activate_addon_vnc(self, instance_id: str) -> None:
        """Activate the VNC add-on (then ``start_addon_vnc`` opens the user-visible session)."""
        self._addon_post("vnc", instance_id)

    def status_addon_vnc(self, instance_id: str) -> dict[str, Any]:
        """Status of the VNC add-on: ``{'status': 'notfound'|'starting'|'active', ...}``."""
        return self._addon_status("vnc", instance_id)

    def start_addon_vnc(self, instance_id: str) -> None:
        """Start the user-visible connection of the VNC add-on."""
        res = self._request("POST", f"/addon/vnc/{instance_id}/start")
        if not res.ok:
            raise self._raw_error(res)

    def stop_addon_vnc(self, instance_id: str) -> None:
        """Stop the user-visible connection of the VNC add-on (the add-on stays applied)."""
        res = self._request("POST", f"/addon/vnc/{instance_id}/stop")
        if not res.ok:
            raise self._raw_error(res)

    def deactivate_addon_vnc(self, instance_id: str) -> None:
        """Deactivate the VNC add-on."""
        self._addon_delete("vnc", instance_id)


# The exceptions are re-exported so ``from rerobots.api import Error, ...`` ports unchanged.
__all__ = [
    "CAPABILITIES",
    "DEFAULT_BASE_URI",
    "FIREWALL_ACTIONS",
    "APIClient",
    "BusyWorkspaceDeployment",
    "BusyWorkspaceInstance",
    "Error",
    "InstanceNotFound",
    "WrongAuthToken",
]


def _is_busy(res: requests.Response) -> bool:
    """Whether a refusal is the service's "every matching deployment is busy"."""
    payload = _body(res)
    if not isinstance(payload, dict):
        return False
    message = str(payload.get("result_message") or payload.get("error") or "")
    return message.startswith("All matching workspace deployments are busy")
