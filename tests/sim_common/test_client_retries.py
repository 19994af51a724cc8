"""Our clients through the whole sandbox's faults: no duplicate, no silent loss, waits virtual."""

from __future__ import annotations

import pytest

from pytest_robofixtures.common.clock import VirtualClock, use_clock
from pytest_robofixtures.common.http import outcome_unknown
from pytest_robofixtures.rapyuta import Client, InternalServerError, ROSDistro
from pytest_robofixtures.rapyuta.errors import APIError
from pytest_robofixtures.sim import RAPYUTA_PROJECT, RAPYUTA_TOKEN, Sandbox

from .conftest import Rapyuta


def client(sandbox: Sandbox) -> Client:
    assert sandbox.rapyuta is not None
    url = sandbox.rapyuta.url
    return Client(RAPYUTA_TOKEN, RAPYUTA_PROJECT, catalog_host=url, core_api_host=url,
                  retries=3, timeout=5)


@pytest.mark.parametrize("status", [429, 503])
def test_unprocessed_create_is_retried_and_made_once(
    sandbox: Sandbox, rio: Rapyuta, status: int
) -> None:
    rio.fault(kind="status", status=status, method="POST", path="^/routednetwork$", count=1,
              retry_after=20)
    with use_clock(VirtualClock()) as clock:
        net = client(sandbox).create_cloud_routed_network("once", ROSDistro.NOETIC, True)
    assert [n["id"] for n in rio.networks()] == [net.guid]
    assert isinstance(clock, VirtualClock) and clock.slept == 20.0
    posts = [e for e in rio.requests_seen()["requests"] if e["method"] == "POST"]
    assert [(e["status"], e["fault"]) for e in posts] == [(status, "status"), (200, None)]


def test_a_500_after_commit_reaches_the_caller_and_is_not_resent(
    sandbox: Sandbox, rio: Rapyuta
) -> None:
    rio.fault(kind="status", status=500, after=True, method="POST", path="^/routednetwork$",
              count=1)
    with pytest.raises(InternalServerError):
        client(sandbox).create_cloud_routed_network("maybe", ROSDistro.NOETIC, True)
    assert [n["name"] for n in rio.networks()] == ["maybe"], "the caller must reconcile by name"
    assert sum(e["method"] == "POST" for e in rio.requests_seen()["requests"]) == 1


def test_a_lost_reply_to_a_create_is_an_unknown_outcome(sandbox: Sandbox, rio: Rapyuta) -> None:
    rio.fault(kind="lost_reply", method="POST", path="^/routednetwork$", count=1)
    with pytest.raises(APIError) as info:
        client(sandbox).create_cloud_routed_network("lost", ROSDistro.NOETIC, True)
    assert outcome_unknown(info.value)
    assert [n["name"] for n in rio.networks()] == ["lost"]
    assert sum(e["method"] == "POST" for e in rio.requests_seen()["requests"]) == 1


def test_a_500_on_a_get_poll_is_retried(sandbox: Sandbox, rio: Rapyuta) -> None:
    c = client(sandbox)
    net = c.create_cloud_routed_network("polled", ROSDistro.NOETIC, True)
    cursor = rio.requests_seen()["last"]
    rio.fault(kind="status", status=500, method="GET", path="^/routednetwork/", count=2)
    with use_clock(VirtualClock()):
        assert c.get_routed_network(net.guid).guid == net.guid
    assert [e["status"] for e in rio.requests_seen(since=cursor)["requests"]] == [500, 500, 200]
