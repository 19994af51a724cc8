"""``GET /_admin/requests`` (a cursor over the requests seen) and ``Sandbox(seed=...)``."""

from __future__ import annotations

import requests

from pytest_robofixtures.sim import Sandbox

from .conftest import Rapyuta, network_body


def test_request_log_in_order_with_a_cursor_and_without_admin_calls(rio: Rapyuta) -> None:
    start = rio.requests_seen()
    assert start == {"requests": [], "last": 0}
    rio.fault(kind="drop", method="GET", path="^/routednetwork/", count=1)
    guid = rio.request("POST", "/routednetwork", json=network_body("a")).json()["guid"]
    try:
        rio.request("GET", f"/routednetwork/{guid}")
    except requests.ConnectionError:
        pass
    rio.request("GET", f"/routednetwork/{guid}")
    rio.request("GET", "/no/such/route")
    log = rio.requests_seen()
    assert [(e["seq"], e["method"], e["path"], e["status"], e["fault"], e["done"])
            for e in log["requests"]] == [
        (1, "POST", "/routednetwork", 200, None, True),
        (2, "GET", f"/routednetwork/{guid}", None, "drop", True),
        (3, "GET", f"/routednetwork/{guid}", 200, None, True),
        (4, "GET", "/no/such/route", 404, None, True),
    ]
    assert log["last"] == 4
    later = rio.requests_seen(since=2)["requests"]
    assert [e["seq"] for e in later] == [3, 4]
    assert rio.requests_seen(since=4)["requests"] == []
    assert rio.sandbox.rapyuta is not None and rio.sandbox.rapyuta.app.requests_seen == 4


def test_request_log_cursor_is_validated(rio: Rapyuta) -> None:
    for bad in ("-1", "x", "1.5"):
        resp = requests.get(rio.url + "/_admin/requests", params={"since": bad}, timeout=10)
        assert resp.status_code == 400 and "since" in resp.json()["error"]


def _ids_and_fault_pattern(seed: int | None) -> tuple[int, list[str], list[int | None]]:
    with Sandbox(delay=0.05, roc=False, seed=seed) as sb:
        rio = Rapyuta(sb)
        rio.fault(kind="status", status=503, method="GET", path="^/routednetwork$", rate=0.5)
        guids = [rio.request("POST", "/routednetwork", json=network_body(f"n{i}")).json()["guid"]
                 for i in range(3)]
        statuses = [rio.request("GET", "/routednetwork").status_code for _ in range(24)]
        seed_used = sb.describe()["seed"]
        assert isinstance(seed_used, int)
        return seed_used, guids, statuses


def test_a_seed_makes_ids_and_fault_choices_reproducible() -> None:
    first = _ids_and_fault_pattern(1234)
    assert first == _ids_and_fault_pattern(1234)
    assert first[0] == 1234
    assert 0 < first[2].count(503) < 24, "rate 0.5 hits some requests, not all"
    other = _ids_and_fault_pattern(99)
    assert other[1] != first[1]


def test_no_seed_means_a_fresh_random_seed_per_start() -> None:
    one, two = _ids_and_fault_pattern(None), _ids_and_fault_pattern(None)
    assert one[0] != two[0] and one[1] != two[1]
    assert _ids_and_fault_pattern(one[0]) == one, "the reported seed replays the run"
