"""Code written for rerobots 0.11.0 runs unchanged but for the package name."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import SandboxInfo

# rerobots 0.11.0 decodes ndarray snapshots with Image.getdata, deprecated in Pillow 12.
pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata:DeprecationWarning")

# A user's program for the official client (its own style: private _id, polling by hand).
PROGRAM = '''
import rerobots
import rerobots.api
from rerobots.api import APIClient, Error, InstanceNotFound, WrongAuthToken
from rerobots.instances import Instance


def main(base, token, wait, tmp):
    apic = APIClient(api_token=token, base_uri=base, ignore_env=True)
    try:
        APIClient(api_token="wrong", base_uri=base, ignore_env=True).get_instances()
        raise AssertionError("a wrong token was accepted")
    except WrongAuthToken:
        pass
    try:
        apic.get_instance_info("nope")
        raise AssertionError("no InstanceNotFound")
    except InstanceNotFound:
        pass
    wdid = apic.get_wdeployments(types=["fixed_misty2"])[0]["id"]
    inst = rerobots.Instance(wdeployment_id=wdid, apic=apic)
    wait(lambda: inst.get_status() == "READY")
    inst.add_firewall_rule("ACCEPT", source_address="127.0.0.1")
    rules = inst.get_firewall_rules()
    inst.start_sshclient()
    out = inst.exec_ssh("echo ported")
    (tmp / "up.txt").write_text("up")
    inst.put_file(str(tmp / "up.txt"), "/up.txt")
    inst.get_file("/up.txt", str(tmp / "down.txt"))
    inst.activate_addon_mistyproxy()
    wait(lambda: inst.status_addon_mistyproxy()["status"] == "active")
    urls = inst.status_addon_mistyproxy()["url"]
    inst.activate_addon_cam()
    wait(lambda: inst.status_addon_cam()["status"] == "active")
    snap = inst.get_snapshot_cam(dformat="ndarray")
    rid = inst.create_access_rule("CAP_INSTANTIATE", to_user="friend")
    users = [r["user"] for r in inst.get_access_rules()]
    inst.del_access_rule(rid)
    try:
        inst.add_firewall_rule("ALLOW")
        raise AssertionError("a bad action was accepted")
    except rerobots.api.Error:
        pass
    details = inst.get_details()
    inst.terminate()
    wait(lambda: Instance(instance_id=inst._id, apic=apic).get_status() == "TERMINATED")
    return {
        "out": out, "rules": rules, "down": (tmp / "down.txt").read_text(),
        "urls": len(urls), "shape": snap["data"].shape, "users": users,
        "details": (details["type"], details["region"], details["status"],
                    details["conn"]["type"]),
        "instances": apic.get_instances(),
    }
'''


def _wait(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _run(source: str, sandbox: SandboxInfo, tmp: Path) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, "<user program>", "exec"), namespace)  # noqa: S102 - our own text
    tmp.mkdir()
    return dict(namespace["main"](sandbox.url, sandbox.token, _wait, tmp))


def test_a_rerobots_program_ports_by_renaming_the_package(
    sandbox: SandboxInfo, tmp_path: Path
) -> None:
    theirs = _run(PROGRAM, sandbox, tmp_path / "official")
    ported = PROGRAM.replace("rerobots", "pytest_robofixtures.rerobots")
    assert "import pytest_robofixtures.rerobots.api" in ported
    ours = _run(ported, sandbox, tmp_path / "ours")
    assert ours == theirs
    assert ours["out"] == b"ported\n" and ours["shape"] == (240, 320, 3)
    assert ours["rules"] == [{"src": "127.0.0.1/32", "action": "ACCEPT"}]
