"""Sandbox hygiene: clean command environments, no root commands, fresh secrets and ids."""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable
from typing import Any

import pytest
import requests

from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER
from pytest_robofixtures.sim.rapyuta_devices import COMMAND_PATH

from ._support import DM, Sandbox, wait_for

DEV = DEVICE_AMD64_DOCKER
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the privilege drop needs root")


def _run(sb: Sandbox, cmd: str, **extra: Any) -> str:
    out = sb.data(sb.post(f"{DM}/cmd/", json={"cmd": cmd, "device_ids": [DEV], **extra}))
    return str(out[DEV])


def _env(sb: Sandbox, **extra: Any) -> dict[str, str]:
    lines = _run(sb, "env", **extra).splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_commands_never_see_the_parent_environment(sandbox: Sandbox,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOFIXTURES_PARENT_SECRET", "leak")
    monkeypatch.setenv("PATH", "/parent/only/bin:" + os.environ["PATH"])
    env = _env(sandbox, env={"MY_VAR": "1"})
    assert "ROBOFIXTURES_PARENT_SECRET" not in env
    assert env["PATH"] == COMMAND_PATH
    assert env["HOME"] == str(sandbox.app.scratch_dir(DEV)) and env["LANG"] == "C.UTF-8"
    assert env["MY_VAR"] == "1"
    config_keys = {c["key"] for c in sandbox.app.dm.devices[DEV]["config_variables"]}
    allowed = {"PATH", "HOME", "LANG", "USER", "RIO_DEVICE_ID", "MY_VAR", "PWD", "SHLVL", "_",
               "OLDPWD"} | config_keys  # PWD, SHLVL and _ are the shell's own
    assert set(env) <= allowed, set(env) - allowed


@as_root
def test_commands_run_unprivileged_when_the_sandbox_is_root(sandbox: Sandbox) -> None:
    nobody = pwd.getpwnam("nobody")
    assert _run(sandbox, "id -u").strip() == str(nobody.pw_uid)
    scratch = sandbox.app.scratch_dir(DEV)
    secret = scratch / "root-only.txt"
    secret.write_text("top secret")
    secret.chmod(0o600)
    out = _run(sandbox, "cat root-only.txt 2>&1; echo done")
    assert "top secret" not in out and "Permission denied" in out
    _run(sandbox, "mkdir -p work && echo hi > work/made.txt", cwd="sub/dir")
    made = scratch / "sub" / "dir" / "work" / "made.txt"
    assert made.read_text() == "hi\n" and made.stat().st_uid == nobody.pw_uid
    _run(sandbox, "sleep 30", bg=True)
    wait_for(lambda: any(p.poll() is None for p in list(sandbox.app.dm.procs)),
             what="bg command")


@as_root
def test_command_user_can_be_chosen(make_sandbox: Callable[..., Sandbox]) -> None:
    daemon = pwd.getpwnam("daemon")
    sb = make_sandbox(command_user="daemon")
    assert _run(sb, "id -u").strip() == str(daemon.pw_uid)


def test_signing_secret_is_fresh_per_start(make_sandbox: Callable[..., Sandbox]) -> None:
    """Same seed, same upload id, different secret: one sandbox's signed URL fails at another."""
    urls = []
    for _ in range(2):
        sb = make_sandbox(seed=11)
        _run(sb, "echo data > a.log")
        req = sb.data(sb.post(f"{DM}/logs/{DEV}/upload", json={"device_path": "a.log"}))[
            "request_uuid"]
        wait_for(lambda sb=sb, req=req: sb.data(sb.get(f"{DM}/logs/{DEV}/status/{req}"))[
            "status"] == "COMPLETED", what="upload")
        urls.append((sb, req, sb.data(sb.get(f"{DM}/logs/{DEV}/{req}"))["signed_url"]))
    (first, req1, url1), (second, req2, url2) = urls
    assert req1 == req2  # the seed reproduces the ids ...
    assert requests.get(url1, timeout=5).status_code == 200
    foreign = url1.replace(first.url, second.url)
    assert requests.get(foreign, timeout=5).status_code == 403  # ... but not the secret


def _first_ids(sb: Sandbox) -> list[str]:
    net = sb.post("/routednetwork", json={"name": "n", "runtime": "cloud",
                                          "rosDistro": "noetic", "shared": True}).json()
    manifest = {"name": "p", "packageVersion": "v1", "plans": [{"name": "default",
                "components": [{"name": "c", "requiredRuntime": "cloud",
                                "executables": [{"name": "e", "docker": "busybox"}]}]}]}
    pkg = sb.post("/serviceclass/add", json=manifest).json()
    return [net["guid"], pkg["packageId"], sb.app.organization]


def test_ids_are_random_per_start_unless_seeded(make_sandbox: Callable[..., Sandbox]) -> None:
    unseeded = [_first_ids(make_sandbox()) for _ in range(2)]
    assert all(a != b for a, b in zip(*unseeded))
    seeded = [_first_ids(make_sandbox(seed=5)) for _ in range(2)]
    assert seeded[0] == seeded[1]
    assert _first_ids(make_sandbox(seed=6)) != seeded[0]
