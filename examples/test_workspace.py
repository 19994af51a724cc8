"""A rented rerobots workspace: ssh, file copy both ways, and a camera assertion."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.rerobots_instance(workspace_types=["fixed_misty2"], addons=["cam"])
def test_robot_workspace_over_ssh_and_camera(rerobots_instance, tmp_path):
    ssh = rerobots_instance.ssh
    assert "Linux" in ssh.exec("uname -a").check().stdout_text

    config = tmp_path / "mission.yaml"
    config.write_text("waypoints: [dock, kitchen, dock]\n")
    ssh.put(str(config), "mission.yaml")
    assert ssh.exec("grep -c dock mission.yaml").check().stdout_text.strip() == "1"

    ssh.exec("echo 'battery: 87' > status.txt").check()
    status = tmp_path / "status.txt"
    ssh.get("status.txt", str(status))
    assert status.read_text().strip() == "battery: 87"

    first = rerobots_instance.camera.snapshot()
    second = rerobots_instance.camera.snapshot()
    assert first.array.shape[2] == 3 and first.array.dtype == np.uint8
    assert not np.array_equal(first.array, second.array), "the camera image should change"


@pytest.mark.rerobots_instance(workspace_types=["null"])
def test_failed_command_reports_its_exit_status(rerobots_instance):
    result = rerobots_instance.ssh.exec("ls /no/such/dir")
    assert not result.ok and result.exit_status != 0
    assert "No such file" in result.stderr_text
