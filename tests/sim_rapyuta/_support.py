"""Helpers for the rapyuta.io sandbox tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from pytest_robofixtures.sim._wsgi import SimServer
from pytest_robofixtures.sim.rapyuta import RapyutaSim

TOKEN = "tok-123"
PROJECT = "project-abc"
DM = "/api/device-manager/v0"
DELAY = 0.2


@dataclass
class Sandbox:
    """A running sandbox plus an authenticated requests session."""

    app: RapyutaSim
    server: SimServer
    http: requests.Session

    @property
    def url(self) -> str:
        return self.server.url

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        return self.http.request(method, self.url + path, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def data(self, resp: requests.Response) -> Any:
        """The device-manager payload, checking the envelope."""
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["status"] == "success"
        return body["response"]["data"]


def start_sandbox(tmp_path: Path, **kw: Any) -> Sandbox:
    kw.setdefault("token", TOKEN)
    kw.setdefault("project", PROJECT)
    kw.setdefault("delay", DELAY)
    kw.setdefault("scratch_root", tmp_path / "devices")
    app = RapyutaSim(**kw)
    server = SimServer(app).start()
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {kw['token']}"})
    if kw["project"] is not None:
        http.headers["project"] = kw["project"]
    return Sandbox(app, server, http)



def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)
