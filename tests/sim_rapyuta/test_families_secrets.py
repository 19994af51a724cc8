"""Docker secrets with our client against the sandbox: CRUD, use by packages, errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_robofixtures.rapyuta import (
    Client,
    InvalidParameterException,
    Secret,
    SecretConfigDocker,
    SecretType,
)
from pytest_robofixtures.rapyuta.errors import (
    BadRequestError,
    ConflictError,
    ResourceNotFoundError,
)

from ._families import FAST, our_client, ros_cloud_manifest
from ._support import PROJECT, Sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    c = our_client(sandbox)
    yield c
    c.close()


def _docker(user: str = "bot", password: str = "s3cret") -> SecretConfigDocker:
    return SecretConfigDocker(user, password, "bot@example.com", "https://quay.io")


def test_create_get_list_update_delete(client: Client, sandbox: Sandbox) -> None:
    created: list[str] = []
    secret = client.create_secret(Secret("quay-pull", _docker()), on_created=created.append)
    assert created == [secret.guid] and secret.secret_type is SecretType.DOCKER
    assert secret.name == "quay-pull" and secret.project_guid == PROJECT and secret.created_at
    assert sandbox.app.families.docker_credentials(secret.guid)["https://quay.io"][
        "username"] == "bot"
    assert "s3cret" not in repr(_docker()) and "s3cret" not in repr(secret)
    assert client.get_secret(secret.guid).name == "quay-pull"
    assert [s.guid for s in client.list_secrets()] == [secret.guid]
    client.update_secret(secret.guid, Secret("quay-pull", _docker("bot2", "other")))
    creds = sandbox.app.families.docker_credentials(secret.guid)["https://quay.io"]
    assert creds["username"] == "bot2" and creds["auth"]
    assert sandbox.app.live_resources()["secrets"] == [{"id": secret.guid, "name": "quay-pull"}]
    secret.delete()
    assert client.list_secrets() == []
    with pytest.raises(ResourceNotFoundError, match="not found"):
        client.get_secret(secret.guid)


def test_packages_reference_secrets(client: Client) -> None:
    secret = client.create_secret(Secret("pull-secret", _docker()))
    manifest = ros_cloud_manifest()
    manifest["plans"][0]["components"][0]["executables"][0]["secret"] = secret.guid
    pkg = client.get_package(client.create_package(manifest)["packageId"])
    dep = pkg.provision("private-image", pkg.get_provision_configuration())
    dep.poll_deployment_till_ready(**FAST)
    dep.deprovision()
    client.delete_secret(secret.guid)
    with pytest.raises(BadRequestError, match=f"docker secret {secret.guid} not found"):
        pkg.provision("no-secret", pkg.get_provision_configuration())


def test_errors(client: Client, sandbox: Sandbox) -> None:
    with pytest.raises(InvalidParameterException, match="between 3 and 253"):
        Secret("ab", _docker())
    with pytest.raises(InvalidParameterException, match="lower case alphanumeric"):
        Secret("Bad_Name", _docker())
    with pytest.raises(InvalidParameterException, match="password cannot be empty"):
        SecretConfigDocker("u", "", "e")
    with pytest.raises(InvalidParameterException, match="of type"):
        client.create_secret("x")  # type: ignore[arg-type]
    client.create_secret(Secret("twice", _docker()))
    with pytest.raises(ConflictError, match="already exists"):
        client.create_secret(Secret("twice", _docker()))
    bad = sandbox.post("/api/secret/create", json={
        "type": "kubernetes.io/dockercfg", "name": "raw", "data": {".dockercfg": "%%%"}})
    assert bad.status_code == 400 and "base64" in bad.json()["error"]
    with pytest.raises(ResourceNotFoundError):
        client.delete_secret("secret-nope")
    with pytest.raises(InvalidParameterException, match="created first"):
        Secret("never-sent", _docker()).delete()
