"""The shared HTTP session against a real server with the sandbox's fault rules.

429/503 are retried for every method; 500/502/504, resets and read timeouts only for idempotent
ones; a create whose outcome is unknown is never re-sent; waits run on the shared clock.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from pytest_robofixtures.common.clock import VirtualClock, use_clock
from pytest_robofixtures.common.http import make_session, outcome_unknown
from pytest_robofixtures.sim._wsgi import FaultRule, SimApp, SimServer, json_response


class Thing(SimApp):
    def __init__(self) -> None:
        super().__init__()
        self.created = 0
        self.route("/thing", self.get, methods=["GET"])
        self.route("/thing", self.post, methods=["POST", "PUT"])

    def get(self, request: Request) -> Response:
        return json_response({"ok": True})

    def post(self, request: Request) -> Response:
        with self.lock:
            self.created += 1
            return json_response({"id": self.created}, 201)


@pytest.fixture
def server() -> Iterator[SimServer]:
    with SimServer(Thing()) as srv:
        yield srv


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    with use_clock(VirtualClock()) as virtual:
        assert isinstance(virtual, VirtualClock)
        yield virtual


def app(server: SimServer) -> Thing:
    assert isinstance(server.app, Thing)
    return server.app


def fault(server: SimServer, **rule: Any) -> None:
    server.app.faults.add(FaultRule(**rule))


def seen(server: SimServer) -> list[tuple[str, int | None, str | None]]:
    return [(e["method"], e["status"], e["fault"]) for e in server.app.request_log.since(0)]


def test_get_retries_5xx_and_429_with_backoff_on_the_clock(
    server: SimServer, clock: VirtualClock
) -> None:
    fault(server, kind="status", status=503, method="GET", count=2)
    fault(server, kind="status", status=429, method="GET", count=1)
    start = time.monotonic()
    resp = make_session(retries=4).get(f"{server.url}/thing")
    assert resp.status_code == 200 and server.app.requests_seen == 4
    assert clock.slept > 0, "the backoff waited on the shared clock"
    assert time.monotonic() - start < clock.slept + 5.0


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("status", [429, 503])
def test_unprocessed_statuses_are_retried_for_creates_and_create_once(
    server: SimServer, clock: VirtualClock, method: str, status: int
) -> None:
    fault(server, kind="status", status=status, method=method, count=1)
    resp = make_session(retries=4).request(method, f"{server.url}/thing", json={})
    assert resp.status_code == 201
    assert app(server).created == 1
    assert seen(server) == [(method, status, "status"), (method, 201, None)]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_unknown_outcome_status_on_post_is_not_retried(
    server: SimServer, clock: VirtualClock, status: int
) -> None:
    fault(server, kind="status", status=status, method="POST", count=1)
    resp = make_session(retries=4).post(f"{server.url}/thing", json={})
    assert resp.status_code == status
    assert seen(server) == [("POST", status, "status")]


def test_500_after_the_change_committed_is_handed_to_the_caller(
    server: SimServer, clock: VirtualClock
) -> None:
    fault(server, kind="status", status=500, method="POST", count=1, after=True)
    resp = make_session(retries=4).post(f"{server.url}/thing", json={})
    assert resp.status_code == 500
    assert app(server).created == 1, "committed once; the caller reconciles, nothing re-sent"
    assert seen(server) == [("POST", 500, "status")]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_unknown_outcome_status_on_get_is_retried(
    server: SimServer, clock: VirtualClock, status: int
) -> None:
    fault(server, kind="status", status=status, method="GET", count=2)
    resp = make_session(retries=4).get(f"{server.url}/thing")
    assert resp.status_code == 200
    assert [s for _, s, _ in seen(server)] == [status, status, 200]


def test_retry_after_is_honoured_on_the_virtual_clock(
    server: SimServer, clock: VirtualClock
) -> None:
    fault(server, kind="status", status=503, method="POST", count=1, retry_after=7)
    start = time.monotonic()
    resp = make_session(retries=4).post(f"{server.url}/thing", json={})
    assert resp.status_code == 201 and app(server).created == 1
    assert clock.slept == 7.0
    assert time.monotonic() - start < 6.0, "the 7 s wait was virtual"


def test_retry_after_beyond_the_budget_gives_up_with_the_status(
    server: SimServer, clock: VirtualClock
) -> None:
    fault(server, kind="status", status=429, method="POST", count=1, retry_after=120)
    resp = make_session(retries=4, retry_budget=60).post(f"{server.url}/thing", json={})
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "120"
    assert clock.slept == 0 and app(server).created == 0
    assert server.app.requests_seen == 1


def test_retries_stop_when_the_budget_is_spent(server: SimServer, clock: VirtualClock) -> None:
    fault(server, kind="status", status=503, method="GET", retry_after=4)
    resp = make_session(retries=10, retry_budget=10).get(f"{server.url}/thing")
    assert resp.status_code == 503
    assert clock.slept == 8.0 and server.app.requests_seen == 3


def test_lost_reply_on_a_create_raises_outcome_unknown_and_is_not_resent(
    server: SimServer, clock: VirtualClock
) -> None:
    fault(server, kind="lost_reply", method="POST", count=1)
    with pytest.raises(requests.ConnectionError) as info:
        make_session(retries=4).post(f"{server.url}/thing", json={})
    assert outcome_unknown(info.value)
    assert app(server).created == 1
    assert seen(server) == [("POST", None, "lost_reply")]


def test_read_timeout_after_commit_on_a_create_is_not_resent(server: SimServer) -> None:
    fault(server, kind="delay", seconds=1.0, method="POST", count=1, after=True)
    with pytest.raises(requests.Timeout) as info:
        make_session(timeout=(2.0, 0.2), retries=4).post(f"{server.url}/thing", json={})
    assert outcome_unknown(info.value)
    assert app(server).created == 1 and server.app.requests_seen == 1


@pytest.mark.parametrize("kind", ["drop", "lost_reply"])
def test_resets_on_get_are_retried(server: SimServer, clock: VirtualClock, kind: str) -> None:
    fault(server, kind=kind, method="GET", count=2)
    assert make_session(retries=4).get(f"{server.url}/thing").json() == {"ok": True}
    assert [f for _, _, f in seen(server)] == [kind, kind, None]


def test_nothing_sent_is_not_an_unknown_outcome() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(requests.ConnectionError) as info:
        make_session(retries=0).post(f"http://127.0.0.1:{port}/thing", json={})
    assert not outcome_unknown(info.value)


def test_every_request_has_a_timeout(server: SimServer) -> None:
    fault(server, kind="delay", seconds=1.0, method="GET", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        # the 0.2 s read timeout fires long before the 1 s answer; with retries=0 urllib3 gives
        # up at once and requests reports it as a ConnectionError (a MaxRetryError)
        make_session(timeout=(1.0, 0.2), retries=0).get(f"{server.url}/thing")


PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
              "http_proxy", "https_proxy", "all_proxy", "no_proxy")


def test_proxy_settings_are_read_once_per_host(
    server: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    session = make_session(retries=0, timeout=5)
    assert session.get(f"{server.url}/thing").ok
    # A proxy that does not exist, set after the session's first request to this host:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    assert session.get(f"{server.url}/thing").ok, "the session kept the settings it read"
    with pytest.raises(requests.exceptions.ProxyError):
        make_session(retries=0, timeout=5).get(f"{server.url}/thing")  # a new session reads them
    assert server.app.requests_seen == 2
