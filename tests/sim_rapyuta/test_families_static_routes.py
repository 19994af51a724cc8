"""Static routes with our client against the sandbox: URLs, lookup, binding, errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_robofixtures.rapyuta import Client, StaticRoute
from pytest_robofixtures.rapyuta.errors import (
    BadRequestError,
    ConflictError,
    InvalidParameterException,
    ResourceNotFoundError,
)

from ._families import FAST, our_client, ros_cloud_manifest
from ._support import PROJECT, Sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    c = our_client(sandbox)
    yield c
    c.close()


def test_create_get_list_delete(client: Client, sandbox: Sandbox) -> None:
    created: list[str] = []
    route = client.create_static_route("my-robot-ui", on_created=created.append)
    assert isinstance(route, StaticRoute) and created == [route.guid]
    assert route.urlPrefix == "my-robot-ui" and route.projectGUID == PROJECT
    assert route.urlString.startswith("my-robot-ui-") and route.urlString.endswith(".ep-r.io")
    assert client.get_static_route(route.guid) == route
    assert [r.guid for r in client.get_all_static_routes()] == [route.guid]
    assert client.get_static_route_by_name("my-robot-ui").guid == route.guid
    assert client.get_static_route_by_name("other-name") is None
    assert sandbox.app.live_resources()["static_routes"] == [
        {"id": route.guid, "name": "my-robot-ui"}]
    other = client.create_static_route("second-route")
    client.delete_static_route(other.guid)
    assert route.delete() is True and route == {}
    assert client.get_all_static_routes() == []
    with pytest.raises(ResourceNotFoundError, match="static route"):
        client.get_static_route(other.guid)


def test_bound_to_an_exposed_endpoint(client: Client) -> None:
    route = client.create_static_route("talker-web")
    pkg = client.get_package(client.create_package(ros_cloud_manifest(endpoints=True))
                             ["packageId"])
    dep = pkg.provision("web-dep", pkg.get_provision_configuration()
                        .add_static_route("talker", "web", route))
    dep.poll_deployment_till_ready(**FAST)
    cid = pkg.plans[0].get_component_id("talker")
    assert dep.provisionContext["component_context"][cid]["static_route_config"] == {
        "web": route.guid}
    with pytest.raises(ConflictError, match="already used by deployment"):
        pkg.provision("again", pkg.get_provision_configuration()
                      .add_static_route("talker", "web", route))
    with pytest.raises(ConflictError, match="used by deployment"):
        client.delete_static_route(route.guid)
    with pytest.raises(BadRequestError, match="not an exposed endpoint"):
        pkg.provision("wrong-endpoint", pkg.get_provision_configuration()
                      .add_static_route("talker", "api", client.create_static_route("api-x")))
    dep.deprovision()
    client.delete_static_route(route.guid)


def test_errors(client: Client) -> None:
    with pytest.raises(BadRequestError, match=r"must match"):
        client.create_static_route("Bad_Name")
    with pytest.raises(BadRequestError, match="4 to 64"):
        client.create_static_route("abc")
    client.create_static_route("taken")
    with pytest.raises(ConflictError, match="already exists"):
        client.create_static_route("taken")
    with pytest.raises(InvalidParameterException):
        client.create_static_route("")
    with pytest.raises(ResourceNotFoundError):
        client.delete_static_route("staticroute-nope")
    with pytest.raises(TypeError, match="not of type Static Route"):
        client.get_package(client.create_package(ros_cloud_manifest())["packageId"]) \
            .get_provision_configuration().add_static_route("talker", "web", "r")  # type: ignore
