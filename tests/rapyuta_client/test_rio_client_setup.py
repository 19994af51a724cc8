"""Client construction: tokens, hosts (args, RIO_CONFIG, production), headers on the wire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_robofixtures.rapyuta import (
    DEFAULT_HOSTS,
    Client,
    ForbiddenError,
    InvalidAuthTokenException,
    UnauthorizedError,
)

from ._support import PROJECT, TOKEN, Sandbox


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token_names_the_variable(token: str | None) -> None:
    with pytest.raises(InvalidAuthTokenException, match="RIO_AUTH_TOKEN"):
        Client(token, PROJECT)


def test_from_env_reads_token_and_project(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("RIO_PROJECT", PROJECT)
    with Client.from_env(catalog_host=sandbox.url, core_api_host=sandbox.url) as c:
        assert c.get_all_routed_networks() == []
    monkeypatch.delenv("RIO_AUTH_TOKEN")
    with pytest.raises(InvalidAuthTokenException, match="RIO_AUTH_TOKEN"):
        Client.from_env()


def test_hosts_default_to_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RIO_CONFIG", raising=False)
    c = Client(TOKEN)
    assert c.catalog_host == DEFAULT_HOSTS["catalog_host"]
    assert c.core_api_host == DEFAULT_HOSTS["core_api_host"]


def test_rio_config_file_points_at_the_sandbox(sandbox: Sandbox, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "rio.json"
    cfg.write_text(json.dumps({"catalog_host": sandbox.url + "/",
                               "core_api_host": sandbox.url}))
    monkeypatch.setenv("RIO_CONFIG", str(cfg))
    c = Client(TOKEN, PROJECT)
    assert c.catalog_host == sandbox.url  # trailing slash stripped
    assert c.get_all_packages() == []
    assert len(c.get_all_devices()) == 4
    # explicit arguments win over the file
    other = Client(TOKEN, PROJECT, catalog_host="http://127.0.0.1:9")
    assert other.catalog_host == "http://127.0.0.1:9"
    assert other.core_api_host == sandbox.url


def test_broken_rio_config_falls_back_to_production(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    monkeypatch.setenv("RIO_CONFIG", str(bad))
    assert Client(TOKEN).catalog_host == DEFAULT_HOSTS["catalog_host"]


def test_bearer_prefix_is_not_doubled(sandbox: Sandbox) -> None:
    c = Client(f"Bearer {TOKEN}", PROJECT, catalog_host=sandbox.url, core_api_host=sandbox.url)
    assert c.session.headers["Authorization"] == f"Bearer {TOKEN}"
    assert c.get_all_routed_networks() == []


def test_wrong_token_is_401_with_method_path_and_message(sandbox: Sandbox) -> None:
    c = Client("wrong", PROJECT, catalog_host=sandbox.url, core_api_host=sandbox.url)
    with pytest.raises(UnauthorizedError) as info:
        c.get_all_routed_networks()
    err = info.value
    assert err.status_code == 401 and err.method == "GET" and err.path == "/routednetwork"
    assert "GET /routednetwork returned 401" in str(err) and "invalid auth token" in str(err)


def test_project_header_and_set_project(sandbox: Sandbox) -> None:
    c = Client(TOKEN, None, catalog_host=sandbox.url, core_api_host=sandbox.url)
    assert "project" not in c.session.headers
    with pytest.raises(ForbiddenError, match="missing project header"):
        c.get_all_packages()
    c.set_project("someone-else")
    with pytest.raises(ForbiddenError, match="someone-else"):
        c.get_all_packages()
    c.set_project(PROJECT)
    assert c.get_all_packages() == []
