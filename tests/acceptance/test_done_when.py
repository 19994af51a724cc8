"""The issues' "done when" checks, as a user would do them from a shell and a Python prompt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from .conftest import BIN, run_script, start, stop


def test_official_rapyuta_sdk_against_robofixtures_sim(sandbox: dict[str, Any],
                                                       tmp_path: Path) -> None:
    rio = sandbox["rapyuta"]
    config = tmp_path / "rio_config.json"
    config.write_text(json.dumps({"catalog_host": rio["catalog_host"],
                                  "core_api_host": rio["core_api_host"],
                                  "rip_host": rio["catalog_host"]}))
    # The SDK unchanged but for its host setting (RIO_CONFIG, the SDK's own mechanism).
    result = run_script(f"""
        from rapyuta_io import Client
        from rapyuta_io.clients.package import ROSDistro
        from rapyuta_io.clients.model import Command

        client = Client(auth_token={rio["auth_token"]!r}, project={rio["project"]!r})
        assert client._catalog_client._catalog_api_host.startswith("http://127.0.0.1")
        net = client.create_cloud_routed_network("sdk-net", ROSDistro.MELODIC, True)
        net.poll_routed_network_till_ready(sleep_interval=0.1)
        device = [d for d in client.get_all_devices(online_device=True)][0]
        out = client.get_device(device.uuid).execute_command(Command(cmd="echo sdk-$((40+2))"))
        print("OUT", out.strip())
        client.delete_routed_network(net.guid)
    """, tmp_path, env={"RIO_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert "OUT sdk-42" in result.stdout
    assert requests.get(rio["admin"], timeout=5).json()["routed_networks"] == []


PROMPT_SESSION = """
    from pathlib import Path
    from pytest_robofixtures.rerobots import APIClient, Instance

    apic = APIClient(api_token={token!r}, base_uri={uri!r})
    inst = Instance(["fixed_misty2"], apic=apic)
    inst.wait_until_ready(timeout=30)
    print("UNAME", inst.ssh.run_ok("uname -a").stdout_text.split()[0])
    Path("here.txt").write_text("from the laptop")
    inst.ssh.put("here.txt", "there.txt")
    inst.ssh.get("there.txt", "back.txt")
    print("COPY", Path("back.txt").read_text())
    inst.camera.activate()
    print("FRAME", inst.camera.snapshot().array.shape)
    print("END", inst.terminate(wait=True))
"""


def test_rent_ssh_copy_camera_terminate_from_a_python_prompt(sandbox: dict[str, Any],
                                                             tmp_path: Path) -> None:
    rr = sandbox["rerobots"]
    result = run_script(PROMPT_SESSION.format(token=rr["api_token"], uri=rr["base_uri"]),
                        tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "UNAME Linux" in out and "COPY from the laptop" in out
    assert "FRAME (240, 320, 3)" in out and "END TERMINATED" in out
    assert requests.get(rr["admin"], timeout=5).json()["instances"] == []


def test_official_rerobots_client_against_robofixtures_sim(sandbox: dict[str, Any],
                                                           tmp_path: Path) -> None:
    rr = sandbox["rerobots"]
    result = run_script(f"""
        import time
        import rerobots, rerobots.api

        apic = rerobots.api.APIClient(api_token={rr["api_token"]!r},
                                      base_uri={rr["base_uri"]!r}, ignore_env=True)
        inst = rerobots.Instance(wdeployment_id=apic.get_wdeployments()[0]["id"], apic=apic)
        while inst.get_status() != "READY":
            time.sleep(0.05)
        inst.start_sshclient()
        print("PWD", inst.exec_ssh("pwd").decode().strip() != "")
        inst.activate_addon_cam()
        while inst.status_addon_cam()["status"] != "active":
            time.sleep(0.05)
        print("SHAPE", inst.get_snapshot_cam(dformat="ndarray")["data"].shape)
        inst.terminate()
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "PWD True" in result.stdout and "SHAPE (240, 320, 3)" in result.stdout


SERVER = """
    import logging, sys, time
    from pytest_robofixtures.roc import Endpoints, RocStatusUpdater
    from pytest_robofixtures.roc.servers import run_simple_server

    class VNIRCamera:
        def __init__(self):
            self.fps = 10.0
            self.status = RocStatusUpdater(Endpoints("127.0.0.1", {port}))
        def openShutter(self):
            logging.getLogger("vnir").warning("shutter opened")
            self.status.emit("instruments.vnir", {{"shutter": "open"}})
            return True

    run_simple_server("vnir", VNIRCamera(), Endpoints("127.0.0.1", {port}))
"""

CLIENT = """
    from pytest_robofixtures.roc import RocClient, Endpoints
    ep = Endpoints("127.0.0.1", {port})
    c = RocClient(ep)
    c.wait_for_object("vnir", timeout=10)
    vnir = c["vnir"]
    vnir.openShutter()
    print("FPS", vnir.fps)
"""


def test_seed_example_in_three_terminals(tmp_path: Path) -> None:
    broker = start([str(BIN / "rocbroker"), "--port", "0", "--json"], cwd=tmp_path)
    server = None
    try:
        assert broker.stdout is not None
        port = json.loads(broker.stdout.readline())["base_port"]
        (tmp_path / "server.py").write_text(__import__("textwrap").dedent(SERVER.format(port=port)))
        server = start([str(Path(BIN) / "python"), "server.py"], cwd=tmp_path)
        dump = tmp_path / "roc.log"
        logdump = start([str(BIN / "roclogdump"), "--port", str(port), "-o", str(dump),
                         "--format", "text", "--duration", "20"], cwd=tmp_path)
        try:
            from pytest_robofixtures.roc import Endpoints, StatusTree, status_feed

            with StatusTree(status_feed(Endpoints("127.0.0.1", port), "instruments"),
                            "instruments") as tree:
                # A client in its own process, repeated until its update has been seen (the
                # subscriber may join after the first one: bounded, no sleeps).
                for _ in range(20):
                    client = run_script(CLIENT.format(port=port), tmp_path, timeout=60)
                    assert client.returncode == 0, client.stderr
                    assert "FPS 10.0" in client.stdout
                    if tree.poll(1.0) and tree.get("instruments.vnir.shutter", None) == "open":
                        break
                assert tree.get("instruments.vnir.shutter") == "open"
            for _ in range(100):
                if dump.exists() and "shutter opened" in dump.read_text():
                    break
                client = run_script(CLIENT.format(port=port), tmp_path, timeout=60)
            assert "shutter opened" in dump.read_text()
        finally:
            stop(logdump)
    finally:
        if server is not None:
            stop(server)
        stop(broker)
