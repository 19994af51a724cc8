"""Replay's HTTP patching: built once, scoped to active cassettes, no environment lookups."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import requests.sessions

from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import Recorder, Scrubber, recording_path
from pytest_robofixtures.recording import http as rec_http
from pytest_robofixtures.sim._wsgi import SimServer

from .conftest import RERECORD, TOKEN, headers


def record(tmp_path: Path, demo: SimServer, name: str, n: int) -> Path:
    path = recording_path(tmp_path / "c", f"tests/test_p.py::{name}")
    rec = Recorder.open(path, "record", RERECORD, Scrubber(secrets=[TOKEN]))
    session = make_session(retries=0, headers=headers())
    with rec.http():
        for i in range(n):
            session.post(f"{demo.url}/echo", json={"recording": name, "i": i})
    rec.close()
    return path


@pytest.fixture
def environ_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real: Callable[..., Any] = requests.sessions.get_environ_proxies

    def counting(url: str, no_proxy: Any = None) -> Any:
        calls.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counting)
    return calls


def test_replayed_requests_do_not_read_proxy_settings(
    tmp_path: Path, demo: SimServer, environ_lookups: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = record(tmp_path, demo, "test_env", 3)
    # Recording goes out: the environment is read (once per host, the session caches it).
    before = len(environ_lookups)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing-ca.pem"))
    rep = Recorder.open(path, "replay", RERECORD, Scrubber(secrets=[TOKEN]))
    session = make_session(retries=0, headers=headers())
    with rep.http():
        answers = [session.post(f"{demo.url}/echo", json={"recording": "test_env", "i": i})
                   for i in range(3)]
    assert [a.json()["got"]["i"] for a in answers] == [0, 1, 2]
    assert len(environ_lookups) == before  # replay read nothing from the environment


def test_patches_are_built_once_and_removed_after_the_last_cassette(
    tmp_path: Path, demo: SimServer
) -> None:
    path = record(tmp_path, demo, "test_scope", 1)
    original_conn = http.client.HTTPConnection
    original_merge = requests.Session.merge_environment_settings
    built = []
    for _ in range(2):
        rep = Recorder.open(path, "replay", RERECORD, Scrubber(secrets=[TOKEN]))
        with rep.http():
            assert http.client.HTTPConnection is not original_conn
            assert requests.Session.merge_environment_settings is not original_merge
            built.append(rec_http._patchers)
        assert http.client.HTTPConnection is original_conn
        assert requests.Session.merge_environment_settings is original_merge
    assert built[0] is not None and built[0] is built[1]


def test_every_patched_attribute_comes_back_exactly_as_it_was(
    tmp_path: Path, demo: SimServer
) -> None:
    import urllib3.connectionpool as pools

    path = record(tmp_path, demo, "test_restore", 1)
    watched = [http.client, pools, pools.HTTPConnectionPool, pools.HTTPSConnectionPool,
               requests.adapters.HTTPAdapter, requests.Session, requests.sessions]
    before = [dict(vars(obj)) for obj in watched]
    # _get_conn is inherited by the HTTPS pool: patched there, it must be removed, not copied
    assert "_get_conn" not in vars(pools.HTTPSConnectionPool)
    rep = Recorder.open(path, "replay", RERECORD, Scrubber(secrets=[TOKEN]))
    with rep.http():
        assert "_get_conn" in vars(pools.HTTPSConnectionPool)
        assert requests.adapters.HTTPAdapter.send is not before[4]["send"]
    after = [dict(vars(obj)) for obj in watched]
    for obj, was, now in zip(watched, before, after):
        changed = {k for k in was.keys() | now.keys() if was.get(k) is not now.get(k)}
        assert not changed, f"{obj}: {sorted(changed)} not restored"


def test_nested_cassettes_answer_innermost_first_then_the_outer_again(
    tmp_path: Path, demo: SimServer
) -> None:
    outer_path = record(tmp_path, demo, "test_outer", 2)
    inner_path = record(tmp_path, demo, "test_inner", 1)
    outer = Recorder.open(outer_path, "replay", RERECORD, Scrubber(secrets=[TOKEN]))
    inner = Recorder.open(inner_path, "replay", RERECORD, Scrubber(secrets=[TOKEN]))
    session = make_session(retries=0, headers=headers())
    seen = demo.app.requests_seen
    with outer.http():
        first = session.post(f"{demo.url}/echo", json={"recording": "test_outer", "i": 0})
        with inner.http():
            nested = session.post(f"{demo.url}/echo", json={"recording": "test_inner", "i": 0})
        second = session.post(f"{demo.url}/echo", json={"recording": "test_outer", "i": 1})
    assert [r.json()["got"] for r in (first, nested, second)] == [
        {"recording": "test_outer", "i": 0}, {"recording": "test_inner", "i": 0},
        {"recording": "test_outer", "i": 1}]
    assert outer.unused() == [] and inner.unused() == []
    assert demo.app.requests_seen == seen


def test_a_connection_used_after_its_cassette_closed_says_so() -> None:
    with pytest.raises(RuntimeError, match="after the cassette was closed"):
        _ = rec_http._Current().play_response
