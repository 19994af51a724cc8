"""Sandbox faults over real HTTP: lost replies, faults after the handler, validated rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from .conftest import Rapyuta, network_body


def test_lost_reply_commits_then_closes_without_an_answer(rio: Rapyuta) -> None:
    assert rio.fault(kind="lost_reply", method="POST", path="^/routednetwork$",
                     count=1).status_code == 201
    with pytest.raises(requests.ConnectionError):
        rio.request("POST", "/routednetwork", json=network_body("lost"))
    assert [n["name"] for n in rio.networks()] == ["lost"], "the change was committed"
    seen = rio.requests_seen()["requests"]
    assert [(e["method"], e["path"], e["status"], e["fault"]) for e in seen] == [
        ("POST", "/routednetwork", None, "lost_reply")]
    # the rule is spent: the next create is answered
    assert rio.request("POST", "/routednetwork", json=network_body("next")).status_code == 200


@pytest.mark.parametrize("status", [500, 503])
def test_status_after_the_handler_commits_and_answers_the_error(
    rio: Rapyuta, status: int
) -> None:
    assert rio.fault(kind="status", status=status, after=True, method="POST",
                     path="^/routednetwork$", count=1).status_code == 201
    resp = rio.request("POST", "/routednetwork", json=network_body("after"))
    assert resp.status_code == status and resp.json() == {"error": f"injected fault {status}"}
    assert [n["name"] for n in rio.networks()] == ["after"]


def test_status_before_the_handler_changes_nothing(rio: Rapyuta) -> None:
    rio.fault(kind="status", status=503, method="POST", path="^/routednetwork$", count=1,
              retry_after=3)
    resp = rio.request("POST", "/routednetwork", json=network_body("before"))
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "3"
    assert rio.networks() == []


def test_delay_after_the_handler_commits_before_the_read_timeout(rio: Rapyuta) -> None:
    rio.fault(kind="delay", seconds=1.0, after=True, method="POST", path="^/routednetwork$",
              count=1)
    with pytest.raises(requests.Timeout):
        rio.request("POST", "/routednetwork", json=network_body("slow"), timeout=(5, 0.2))
    assert [n["name"] for n in rio.networks()] == ["slow"]


BAD_RULES: list[tuple[Any, str]] = [
    ({"kind": "explode"}, "kind must be one of"),
    ({"status": 503}, "needs a kind"),
    ({"kind": "status", "status": 999}, "status must be an integer from 100 to 599"),
    ({"kind": "status", "status": 99}, "status must be an integer from 100 to 599"),
    ({"kind": "status", "status": "503"}, "status must be an integer"),
    ({"kind": "status", "status": True}, "status must be an integer"),
    ({"kind": "status", "path": "(unclosed"}, "not a valid regular expression"),
    ({"kind": "status", "path": 5}, "path must be a regular expression string"),
    ({"kind": "status", "rate": 1.5}, "rate must be a number from 0 to 1"),
    ({"kind": "status", "rate": -0.1}, "rate must be a number from 0 to 1"),
    ({"kind": "status", "count": -1}, "count must be a non-negative integer"),
    ({"kind": "status", "method": "GET /x"}, "method must be an HTTP method name"),
    ({"kind": "delay", "seconds": -2}, "seconds must be a non-negative number"),
    ({"kind": "drop", "after": True}, "after applies to kinds status and delay"),
    ({"kind": "status", "after": "yes"}, "after must be true or false"),
    ({"kind": "status", "retry_after": 1.5}, "retry_after must be a non-negative integer"),
    ({"kind": "status", "hits": 3}, "unknown fault rule keys ['hits']"),
    ({"kind": "status", "colour": "red"}, "unknown fault rule keys ['colour']"),
    ([{"kind": "status"}], "a fault rule is a JSON object"),
    (None, "a fault rule is a JSON object"),
]


@pytest.mark.parametrize("rule, message", BAD_RULES, ids=[m for _, m in BAD_RULES])
def test_bad_rules_are_refused_with_the_reason(rio: Rapyuta, rule: Any, message: str) -> None:
    resp = requests.post(rio.url + "/_admin/faults", data=json.dumps(rule), timeout=10)
    assert resp.status_code == 400, resp.text
    assert message in resp.json()["error"]
    assert requests.get(rio.url + "/_admin/faults", timeout=10).json() == []


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"kind": "status", "rate": NaN}',
                                  b"\xff\xfe"])
def test_malformed_admin_bodies_are_400(rio: Rapyuta, body: bytes) -> None:
    resp = requests.post(rio.url + "/_admin/faults", data=body, timeout=10)
    assert resp.status_code == 400 and resp.json()["error"]
    assert requests.get(rio.url + "/_admin/faults", timeout=10).json() == []


def test_a_good_rule_is_listed_with_its_hits(rio: Rapyuta) -> None:
    created = rio.fault(kind="status", status=418, method="get", path="^/routednetwork$",
                        count=2)
    assert created.status_code == 201
    for _ in range(3):
        rio.request("GET", "/routednetwork")
    (listed,) = requests.get(rio.url + "/_admin/faults", timeout=10).json()
    assert listed["status"] == 418 and listed["hits"] == 2
    statuses = [e["status"] for e in rio.requests_seen()["requests"]]
    assert statuses == [418, 418, 200]


@pytest.mark.parametrize("depth", [65, 5000, 200_000])
def test_json_nested_too_deep_is_refused_on_every_route(rio: Rapyuta, depth: int) -> None:
    deep = b"[" * depth + b"]" * depth
    for path in ("/routednetwork", "/serviceclass/add", "/_admin/faults"):
        resp = rio.request("POST", path, data=deep)
        assert resp.status_code == 400, (path, resp.status_code)
        assert "deeper than 64" in resp.json()["error"]
    assert rio.networks() == []


def test_json_at_the_depth_limit_reaches_the_handler(rio: Rapyuta) -> None:
    body = network_body("deep-ok")
    body["parameters"] = {"x": json.loads("[" * 62 + "]" * 62)}  # 64 levels in all
    resp = rio.request("POST", "/routednetwork", json=body)
    assert "deeper than" not in resp.text
    # brackets inside strings are text, not nesting
    flat = network_body("[" * 100)
    assert "deeper than" not in rio.request("POST", "/routednetwork", json=flat).text
