"""The shared HTTP session: timeouts, idempotent-only retries, waits on the shared clock."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from pytest_robofixtures.common.clock import VirtualClock, use_clock
from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.sim._wsgi import FaultRule, SimApp, SimServer, json_response


class Thing(SimApp):
    def __init__(self) -> None:
        super().__init__()
        self.created = 0
        self.route("/thing", self.get, methods=["GET"])
        self.route("/thing", self.post, methods=["POST"])

    def get(self, request: object) -> object:
        return json_response({"ok": True})

    def post(self, request: object) -> object:
        self.created += 1
        return json_response({"id": self.created}, 201)


@pytest.fixture
def server() -> Iterator[SimServer]:
    with SimServer(Thing()) as srv:
        yield srv


def test_get_retries_5xx_and_429_with_backoff_on_the_clock(server: SimServer) -> None:
    server.app.faults.add(FaultRule(kind="status", status=503, method="GET", count=2))
    server.app.faults.add(FaultRule(kind="status", status=429, method="GET", count=1))
    clock = VirtualClock()
    start = time.monotonic()
    with use_clock(clock):
        resp = make_session(retries=4).get(f"{server.url}/thing")
    assert resp.status_code == 200 and server.app.requests_seen == 4
    assert clock.slept > 0, "the backoff waited on the shared clock"
    assert time.monotonic() - start < clock.slept + 0.5


def test_post_is_never_retried_on_a_status(server: SimServer) -> None:
    server.app.faults.add(FaultRule(kind="status", status=503, method="POST", count=1))
    resp = make_session(retries=4).post(f"{server.url}/thing", json={})
    assert resp.status_code == 503
    assert server.app.created == 0 and server.app.requests_seen == 1


def test_every_request_has_a_timeout(server: SimServer) -> None:
    server.app.faults.add(FaultRule(kind="delay", seconds=1.0, method="GET", count=1))
    with pytest.raises(requests.exceptions.ConnectionError):
        # the 0.2 s read timeout fires long before the 1 s answer; with retries=0 urllib3 gives
        # up at once and requests reports it as a ConnectionError (a MaxRetryError)
        make_session(timeout=(1.0, 0.2), retries=0).get(f"{server.url}/thing")
