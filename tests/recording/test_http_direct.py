"""Replay answers ``requests`` directly from the recording, and gives what the full path gives.

A replayed request through ``requests`` is answered at ``HTTPAdapter.send`` without building a
urllib3 connection and response. What only the full path does right (urllib3's retry of a
recorded 429/503, cookies, a body stored still encoded, a streamed upload) still takes it. Every
case here is recorded against a real loopback server, which is stopped before replay, and
replayed through our session and a plain ``requests.Session`` (as the official SDKs use).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3
from werkzeug.wrappers import Request, Response

from pytest_robofixtures.common.clock import VirtualClock, use_clock
from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import Recorder, RecordingMismatch, Scrubber, recording_path
from pytest_robofixtures.sim._wsgi import SimApp, SimServer, json_response

NODEID = "tests/test_direct.py::test_direct"
RERECORD = "pytest tests/test_direct.py --robo-sim"


class Service(SimApp):
    def __init__(self) -> None:
        super().__init__()
        self.flaky_calls = 0
        self.route("/json/<int:n>", self.json_item, methods=["GET", "DELETE"])
        self.route("/echo", self.echo, methods=["POST", "PUT"])
        self.route("/flaky", self.flaky, methods=["GET"])
        self.route("/gz", self.gz, methods=["GET"])
        self.route("/cookie", self.cookie, methods=["GET"])
        self.route("/moved", self.moved, methods=["GET"])
        self.route("/text", self.text, methods=["GET"])

    def json_item(self, request: Request, n: int) -> Response:
        return json_response({"n": n, "args": dict(request.args)})

    def echo(self, request: Request) -> Response:
        return json_response({"got": request.get_data(as_text=True)}, 201)

    def flaky(self, request: Request) -> Response:
        self.flaky_calls += 1
        if self.flaky_calls == 1:
            return json_response({"error": "busy"}, 503, headers={"Retry-After": "2"})
        return json_response({"ok": True})

    def gz(self, request: Request) -> Response:
        body = gzip.compress(json.dumps({"compressed": True}).encode())
        return Response(body, headers={"Content-Encoding": "gzip"}, mimetype="application/json")

    def cookie(self, request: Request) -> Response:
        response = json_response({"cookie": "set"})
        response.set_cookie("sid", "abc123")
        return response

    def moved(self, request: Request) -> Response:
        return Response("", status=302, headers={"Location": "/json/7"})

    def text(self, request: Request) -> Response:
        return Response("héllo", mimetype="text/plain", headers={"X-Multi": "a"})


def chunks() -> Iterator[bytes]:
    yield b"streamed-"
    yield b"upload"


def scenario(session: requests.Session, base: str) -> list[Any]:
    """Every kind of exchange; what each response looked like to the caller."""
    out: list[Any] = []

    def seen(r: requests.Response) -> None:
        out.append((r.status_code, r.reason, r.headers.get("Content-Type"), r.content,
                    r.encoding, [h.status_code for h in r.history], r.url))

    seen(session.get(f"{base}/json/1"))
    seen(session.get(f"{base}/json/2", params={"a": "1"}))
    seen(session.post(f"{base}/echo", json={"x": 1}))
    seen(session.put(f"{base}/echo", data="plain text"))
    seen(session.post(f"{base}/echo", data=chunks()))
    seen(session.delete(f"{base}/json/3"))
    seen(session.get(f"{base}/flaky"))
    seen(session.get(f"{base}/gz"))
    seen(session.get(f"{base}/cookie"))
    seen(session.get(f"{base}/moved"))
    text = session.get(f"{base}/text")
    seen(text)
    out.append(text.text)
    out.append(b"".join(session.get(f"{base}/json/1", stream=True).iter_content(4)))
    return out


SESSIONS = {
    "ours": lambda: make_session(retries=2),
    "plain": requests.Session,
}


class UrlopenCounter:
    """Counts requests that went through urllib3 (the full path) rather than the direct one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.urls: list[str] = []
        real = urllib3.connectionpool.HTTPConnectionPool.urlopen

        def urlopen(pool: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            self.urls.append(f"{method} {url}")
            return real(pool, method, url, *args, **kwargs)

        monkeypatch.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", urlopen)


@pytest.fixture
def server() -> Iterator[SimServer]:
    srv = SimServer(Service()).start()
    try:
        yield srv
    finally:
        srv.stop()


def record(root: Path, server: SimServer, make: Any) -> list[Any]:
    rec = Recorder.open(recording_path(root, NODEID), "record", RERECORD, Scrubber(),
                        metadata={"nodeid": NODEID, "mode": "sim"}, run_id="r1", worker="gw0")
    with use_clock(VirtualClock()), rec.active():
        result = scenario(make(), server.url)
    assert rec.close().written
    return result


@pytest.mark.parametrize("kind", sorted(SESSIONS))
def test_replay_gives_what_was_recorded_and_only_special_cases_take_urllib3(
    kind: str, tmp_path: Path, server: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make = SESSIONS[kind]
    recorded = record(tmp_path, server, make)
    base = server.url
    server.stop()
    counter = UrlopenCounter(monkeypatch)

    rec = Recorder.open(recording_path(tmp_path, NODEID), "replay", RERECORD, Scrubber())
    with use_clock(VirtualClock()), rec.active():
        replay_session = make()
        replayed = scenario(replay_session, base)
    report = rec.close()

    assert replayed == recorded
    assert report.unused == []
    assert "sid" not in replay_session.cookies  # Set-Cookie is a secret: recorded scrubbed
    through_urllib3 = {u.split("?")[0] for u in counter.urls}
    # the streamed upload and the cookie always take the full path; so does the recorded 503
    # where the session retries it (ours does; a plain session gets the 503 itself). A gzip
    # body is stored decoded, so it is served directly.
    expected = {"POST /echo", "GET /cookie"}
    if kind == "ours":
        expected.add("GET /flaky")
    assert through_urllib3 == expected


def test_a_plain_session_sees_the_recorded_503_and_ours_retries_it(
    tmp_path: Path, server: SimServer
) -> None:
    plain = record(tmp_path / "plain", server, requests.Session)
    server.app.flaky_calls = 0  # type: ignore[attr-defined]
    ours = record(tmp_path / "ours", server, lambda: make_session(retries=2))
    assert plain[6][0] == 503
    assert ours[6][0] == 200


def test_a_request_not_recorded_is_a_mismatch_on_the_direct_path(
    tmp_path: Path, server: SimServer
) -> None:
    record(tmp_path, server, make_session)
    base = server.url
    server.stop()
    rec = Recorder.open(recording_path(tmp_path, NODEID), "replay", RERECORD, Scrubber())
    with rec.active(), pytest.raises(RecordingMismatch) as caught:
        make_session().get(f"{base}/json/99")
    rec.close()
    assert "GET" in str(caught.value) and "/json/99" in str(caught.value)
    assert "/json/1" in str(caught.value)  # the nearest recorded request is named
