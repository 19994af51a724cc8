"""``TimeoutSession.prepare_request`` gives exactly what requests' own ``prepare_request`` gives.

Our session merges headers and empty params as plain dicts (requests 2.33+ checks each against a
runtime Protocol, slow on Python 3.11); whatever the request, the prepared result must not change.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from pytest_robofixtures.common.http import make_session

CASES: list[dict[str, Any]] = [
    {"method": "get", "url": "http://API.example.test/items/1"},
    {"method": "GET", "url": "http://api.example.test/items?x=1", "headers": {"X-A": "1"}},
    {"method": "POST", "url": "http://api.example.test/items", "json": {"name": "n", "n": 2}},
    {"method": "PUT", "url": "http://api.example.test/items/2", "data": b"raw bytes",
     "headers": {"project": "override", "Accept": None}},
    {"method": "POST", "url": "http://api.example.test/form", "data": {"a": "1", "b": ["2", "3"]}},
    {"method": "GET", "url": "http://api.example.test/q", "params": {"page": 2, "size": None}},
    {"method": "GET", "url": "http://api.example.test/c", "cookies": {"k": "v"}},
    {"method": "GET", "url": "http://api.example.test/a", "auth": ("user", "pw")},
    {"method": "POST", "url": "http://api.example.test/f", "files": {"f": ("a.txt", b"abc")}},
    {"method": "GET", "url": "http://api.example.test/h", "headers": {"project": None}},
]


def _prepare(session: requests.Session, case: dict[str, Any]) -> requests.PreparedRequest:
    return session.prepare_request(requests.Request(**case))


def _plain_session() -> requests.Session:
    session = requests.Session()
    session.headers.update({"project": "p-1"})
    session.cookies.set("session_cookie", "s")
    return session


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['method']} {c['url'].rsplit('/', 1)[1]}")
def test_prepared_request_is_the_same_as_requests(case: dict[str, Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETRC", "/nonexistent/netrc")
    ours = make_session(headers={"project": "p-1"})
    ours.cookies.set("session_cookie", "s")
    theirs = _plain_session()

    a, b = _prepare(ours, case), _prepare(theirs, case)

    assert a.method == b.method
    assert a.url == b.url
    assert list(a.headers) == list(b.headers)  # header order is what goes on the wire
    if case.get("files"):  # multipart boundaries are random: compare the shape
        assert a.body is not None and b.body is not None and len(a.body) == len(b.body)
        kinds = [r.headers.pop("Content-Type").split(";")[0] for r in (a, b)]
        assert kinds == ["multipart/form-data"] * 2
    else:
        assert a.body == b.body
    assert dict(a.headers) == dict(b.headers)


def test_session_params_still_merge_through_requests() -> None:
    ours = make_session()
    ours.params = {"always": "1"}
    prepared = _prepare(ours, {"method": "GET", "url": "http://api.example.test/x"})
    assert prepared.url == "http://api.example.test/x?always=1"


def test_netrc_credentials_are_still_used(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.example.test login alice password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    prepared = _prepare(make_session(), {"method": "GET", "url": "http://api.example.test/x"})
    expected = _prepare(requests.Session(), {"method": "GET", "url": "http://api.example.test/x"})
    assert prepared.headers["Authorization"] == expected.headers["Authorization"]
    assert prepared.headers["Authorization"].startswith("Basic ")
