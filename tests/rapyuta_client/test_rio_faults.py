"""Faults: retries only where they cannot duplicate, request timeouts, mapped HTTP errors."""

from __future__ import annotations

import pytest

from pytest_robofixtures.common.clock import SystemClock
from pytest_robofixtures.common.polling import poll
from pytest_robofixtures.rapyuta import (
    APIError,
    ConflictError,
    InternalServerError,
    RequestTimeout,
    ROSDistro,
)

from ._support import Sandbox, cloud_manifest


@pytest.mark.parametrize("kind, status", [("status", 503), ("status", 429), ("status", 502),
                                          ("drop", 0)])
def test_get_is_retried(sandbox: Sandbox, kind: str, status: int) -> None:
    client = sandbox.client(retries=3)
    net = client.create_cloud_routed_network("n", ROSDistro.NOETIC, True)
    sandbox.fault(kind=kind, status=status or 503, method="GET", path="^/routednetwork/",
                  count=2)
    before = sandbox.app.requests_seen
    assert client.get_routed_network(net.guid).guid == net.guid
    assert sandbox.app.requests_seen - before == 3  # two faults, then the answer


def test_retries_give_up_with_the_last_error(sandbox: Sandbox) -> None:
    client = sandbox.client(retries=1)
    sandbox.fault(kind="status", status=503, method="GET", path="^/v2/catalog", count=5)
    with pytest.raises(APIError) as info:
        client.get_all_packages()
    assert info.value.status_code == 503
    assert "GET /v2/catalog returned 503: injected fault 503" in str(info.value)
    assert sandbox.app.requests_seen == 2


def test_500_maps_to_internal_server_error(sandbox: Sandbox) -> None:
    client = sandbox.client(retries=0)
    sandbox.fault(kind="status", status=500, method="GET", path="devices", count=1)
    with pytest.raises(InternalServerError, match="returned 500"):
        client.get_all_devices()


@pytest.mark.parametrize("kind", ["status", "drop"])
def test_post_is_never_retried_so_no_duplicate(sandbox: Sandbox, kind: str) -> None:
    client = sandbox.client(retries=3)
    sandbox.fault(kind=kind, status=500, method="POST", path="^/serviceclass/add", count=1)
    with pytest.raises(APIError):
        client.create_package(cloud_manifest())
    assert sandbox.app.requests_seen == 1
    assert sandbox.resources()["packages"] == []
    client.create_package(cloud_manifest())  # the caller decides to try again
    assert len(sandbox.resources()["packages"]) == 1


def test_routed_network_post_dropped_is_not_duplicated(sandbox: Sandbox) -> None:
    client = sandbox.client(retries=3)
    sandbox.fault(kind="status", status=502, method="POST", path="^/routednetwork$", count=1)
    with pytest.raises(APIError, match="POST /routednetwork returned 502"):
        client.create_cloud_routed_network("once", ROSDistro.NOETIC, True)
    assert sandbox.resources()["routed_networks"] == []


@pytest.mark.parametrize("kind", ["status", "drop"])
def test_put_provision_is_never_retried(sandbox: Sandbox, kind: str) -> None:
    client = sandbox.client(retries=3)
    pkg = client.get_package(client.create_package(cloud_manifest())["packageId"])
    cfg = pkg.get_provision_configuration()
    sandbox.fault(kind=kind, status=500, method="PUT", path="^/v2/service_instances/", count=1)
    before = sandbox.app.requests_seen
    with pytest.raises(APIError):
        pkg.provision("once", cfg)
    assert sandbox.app.requests_seen - before == 1
    assert sandbox.resources()["deployments"] == []
    assert not cfg.is_provisioned  # nothing was created: the same configuration may be sent again
    pkg.provision("once", cfg)
    assert [d["name"] for d in sandbox.resources()["deployments"]] == ["once"]


def test_request_timeout_on_a_slow_server(sandbox: Sandbox) -> None:
    client = sandbox.client(timeout=0.3, retries=0)
    sandbox.fault(kind="delay", seconds=1.5, method="GET", path="^/routednetwork", count=1)
    with pytest.raises(RequestTimeout, match="GET /routednetwork timed out after 0.3s") as info:
        client.get_all_routed_networks()
    assert isinstance(info.value, TimeoutError)
    assert client.get_all_routed_networks() == []  # the next call is fine


def test_slow_post_times_out_and_is_not_resent(sandbox: Sandbox) -> None:
    client = sandbox.client(timeout=0.3, retries=3)
    sandbox.fault(kind="delay", seconds=1.0, method="POST", path="^/serviceclass/add", count=1)
    with pytest.raises(RequestTimeout):
        client.create_package(cloud_manifest())
    # the slow request still completes server-side; it was sent once and made one package
    poll(sandbox.resources, lambda r: bool(r["packages"]), timeout=10, what="the slow create",
         clock=SystemClock())
    assert sandbox.app.requests_seen == 1
    assert len(sandbox.resources()["packages"]) == 1
    with pytest.raises(ConflictError):
        sandbox.client(timeout=5).create_package(cloud_manifest())


def test_connection_refused_is_an_api_error() -> None:
    from pytest_robofixtures.rapyuta import Client

    client = Client("t", "p", catalog_host="http://127.0.0.1:9", core_api_host="http://127.0.0.1:9",
                    retries=0, timeout=2)
    with pytest.raises(APIError, match="Error occurred for URL http://127.0.0.1:9/routednetwork"):
        client.get_all_routed_networks()
