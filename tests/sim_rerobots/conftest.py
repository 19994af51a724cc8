"""Fixtures for the rerobots sandbox tests: a real RerobotsSim served on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_robofixtures.sim._wsgi import SimServer
from pytest_robofixtures.sim.rerobots import RerobotsSim

TOKEN = "test-token"
DELAY = 0.15


class Sandbox:
    """A started sandbox plus a requests session that carries the token."""

    def __init__(self, app: RerobotsSim, server: SimServer) -> None:
        self.app = app
        self.server = server
        self.url = server.url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {TOKEN}"

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(self.url + path, timeout=10, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.http.post(self.url + path, timeout=30, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.http.delete(self.url + path, timeout=10, **kw)

    def status(self, iid: str) -> str:
        res = self.get(f"/instance/{iid}")
        assert res.status_code == 200, res.text
        return str(res.json()["status"])

    def wait_status(self, iid: str, wanted: str, timeout: float = 10.0) -> dict[str, Any]:
        return wait_for(lambda: self._if_status(iid, wanted), timeout, f"{iid} {wanted}")

    def _if_status(self, iid: str, wanted: str) -> dict[str, Any] | None:
        body = self.get(f"/instance/{iid}").json()
        return body if body["status"] == wanted else None

    def new(self, target: str, **body: Any) -> dict[str, Any]:
        res = self.post(f"/new/{target}", json={"reserve": False, **body})
        assert res.status_code == 200, res.text
        return dict(res.json())


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    app = RerobotsSim(token=TOKEN, delay=DELAY, scratch_root=tmp_path / "scratch")
    server = SimServer(app).start()
    box = Sandbox(app, server)
    try:
        yield box
    finally:
        box.http.close()
        server.stop()
        # stop() leaves no SSH server thread of this sandbox behind
        ports = {i.ssh.port for i in app.instances.values() if i.ssh is not None}
        names = {f"sim-sshd-{p}" for p in ports}
        wait_for(lambda: not names & {t.name for t in threading.enumerate()},
                 what="SSH server threads gone")
        assert not (tmp_path / "scratch").exists() or not any(
            (tmp_path / "scratch").iterdir()
        ), "close() left per-instance scratch dirs"
