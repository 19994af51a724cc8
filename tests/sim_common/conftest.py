"""A whole :class:`Sandbox` (without ROC) on loopback, driven with plain ``requests``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pytest_robofixtures.sim import RAPYUTA_PROJECT, RAPYUTA_TOKEN, Sandbox


class Rapyuta:
    """The sandbox's rapyuta.io service with an authenticated session."""

    def __init__(self, sandbox: Sandbox) -> None:
        assert sandbox.rapyuta is not None
        self.sandbox = sandbox
        self.url = sandbox.rapyuta.url
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {RAPYUTA_TOKEN}",
                                  "project": RAPYUTA_PROJECT})

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        return self.http.request(method, self.url + path, **kw)

    def fault(self, **rule: Any) -> requests.Response:
        return requests.post(self.url + "/_admin/faults", json=rule, timeout=10)

    def requests_seen(self, since: int = 0) -> dict[str, Any]:
        resp = requests.get(self.url + "/_admin/requests", params={"since": since}, timeout=10)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def networks(self) -> list[dict[str, Any]]:
        resp = requests.get(self.url + "/_admin/resources", timeout=10)
        nets: list[dict[str, Any]] = resp.json()["routed_networks"]
        return nets


def network_body(name: str) -> dict[str, Any]:
    return {"name": name, "runtime": "cloud", "rosDistro": "noetic", "shared": False,
            "parameters": {}}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(delay=0.05, roc=False) as sb:
        yield sb


@pytest.fixture
def rio(sandbox: Sandbox) -> Rapyuta:
    return Rapyuta(sandbox)
