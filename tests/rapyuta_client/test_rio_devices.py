"""Devices against the sandbox: listing, config variables, labels, commands, topics, logs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import requests

from pytest_robofixtures.common.clock import VirtualClock
from pytest_robofixtures.common.polling import poll
from pytest_robofixtures.rapyuta import (
    APIError,
    Client,
    Command,
    ConfigNotFoundException,
    DeviceArch,
    InvalidCommandException,
    InvalidParameterException,
    LabelNotFoundException,
    LogsUploadRequest,
    LogsUUIDNotFoundException,
    OperationNotAllowedError,
    ParameterMissingException,
    QoS,
    ResourceNotFoundError,
    RetriesExhausted,
    SharedURL,
    SystemMetric,
    TopicKind,
)
from pytest_robofixtures.sim.rapyuta import (
    DEVICE_AMD64_DOCKER,
    DEVICE_ARM32,
    DEVICE_ARM64_PREINSTALLED,
    DEVICE_OFFLINE,
)

from ._support import Sandbox


def test_listing_and_filters(client: Client) -> None:
    all_devices = client.get_all_devices()
    assert {d.uuid for d in all_devices} == {DEVICE_AMD64_DOCKER, DEVICE_ARM64_PREINSTALLED,
                                             DEVICE_ARM32, DEVICE_OFFLINE}
    assert all(d.is_partial and d.deviceId == d.uuid for d in all_devices)
    online = client.get_all_devices(online_device=True)
    assert DEVICE_OFFLINE not in {d.uuid for d in online} and len(online) == 3
    arm = client.get_all_devices(arch_list=[DeviceArch.ARM64V8, "arm32v7"])
    assert {d.uuid for d in arm} == {DEVICE_ARM64_PREINSTALLED, DEVICE_ARM32}
    amd = client.get_all_devices(arch_list=[DeviceArch.AMD64])
    assert {d.uuid for d in amd} == {DEVICE_AMD64_DOCKER}  # the offline amd64 is not selected
    assert [d.name for d in client.get_all_devices(device_name="sim-arm32v7")] == ["sim-arm32v7"]
    with pytest.raises(InvalidParameterException, match="arch_list item must be one of"):
        client.get_all_devices(arch_list=["x86"])


def test_get_refresh_and_runtime(sandbox: Sandbox, client: Client) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    assert not dev.is_partial and dev.is_online() and dev.ip_interfaces
    assert dev.get_runtime() == "dockercompose" and dev.is_docker_enabled()
    pre = client.get_device(DEVICE_ARM64_PREINSTALLED)
    assert pre.is_preinstalled_enabled() and not pre.is_docker_enabled()
    sandbox.app.set_device_status(DEVICE_AMD64_DOCKER, "OFFLINE")
    assert dev.refresh().status == "OFFLINE"
    with pytest.raises(ResourceNotFoundError, match="devices/nope returned 404"):
        client.get_device("nope")


def test_config_variables(client: Client) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    keys = {c.key for c in dev.get_config_variables()}
    assert "runtime" in keys
    cfg = dev.add_config_variable("speed", "fast")
    assert cfg.key == "speed" and cfg.value == "fast" and cfg.id
    cfg.value = "slow"
    dev.update_config_variable(cfg)
    assert {c.key: c.value for c in dev.get_config_variables()}["speed"] == "slow"
    assert dev.delete_config_variable(cfg.id) is True
    assert "speed" not in {c.key for c in dev.get_config_variables()}
    with pytest.raises(ConfigNotFoundException):
        dev.delete_config_variable(cfg.id)
    runtime = next(c for c in dev.config_variables if c.key == "runtime")
    with pytest.raises(OperationNotAllowedError):
        dev.delete_config_variable(runtime.id)
    with pytest.raises(OperationNotAllowedError):
        dev.update_config_variable(runtime)
    with pytest.raises(ParameterMissingException):
        dev.add_config_variable("", "x")


def test_labels(client: Client) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    label = dev.add_label("floor", "2")
    assert (label.key, label.value) == ("floor", "2") and label.id
    label.value = "3"
    dev.update_label(label)
    assert {lb.key: lb.value for lb in dev.get_labels()}["floor"] == "3"
    assert dev.delete_label(label.id) is True
    assert "floor" not in {lb.key for lb in dev.get_labels()}
    with pytest.raises(LabelNotFoundException):
        dev.delete_label(label.id)
    with pytest.raises(LabelNotFoundException):
        dev.update_label(label)
    with pytest.raises(ParameterMissingException):
        dev.add_label("k", "")


def test_commands_really_run(sandbox: Sandbox, client: Client) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    out = dev.execute_command(Command("echo $GREETING; pwd", shell="/bin/sh",
                                      env={"GREETING": "hello"}, cwd="."))
    assert out.splitlines()[0] == "hello"
    (sandbox.app.scratch_dir(DEVICE_AMD64_DOCKER) / "ready.flag").write_text("yes")
    assert dev.execute_command(Command("cat ready.flag")).strip() == "yes"


def test_wait_for_command_output(sandbox: Sandbox, client: Client) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    # each run appends a line; the predicate holds on the third run
    cmd = Command("echo x >> runs.txt; wc -l < runs.txt")
    out = dev.wait_for_command_output(cmd, lambda o: int(o.strip()) >= 3, timeout=30)
    assert int(out.strip()) == 3
    clock = VirtualClock()
    with pytest.raises(RetriesExhausted, match="output of 'echo never' on device") as info:
        dev.wait_for_command_output(Command("echo never"), lambda o: "ready" in o, timeout=5,
                                    clock=clock)
    assert info.value.last_status.strip() == "never" and clock.slept == pytest.approx(5.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"cmd": ""}, "cmd must be a non-empty string"),
    ({"cmd": "ls", "shell": 1}, "shell must be a string"),
    ({"cmd": "ls", "bg": "no"}, "bg must be a bool"),
    ({"cmd": "ls", "env": {"1BAD": "x"}}, "env key '1BAD'"),
    ({"cmd": "ls", "env": ["A=1"]}, "env must be a dict"),
])
def test_bad_commands_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidCommandException, match=message):
        Command(**kwargs)  # type: ignore[arg-type]


def test_offline_device_refuses_commands(sandbox: Sandbox, client: Client) -> None:
    dev = client.get_device(DEVICE_OFFLINE)
    with pytest.raises(APIError, match="POST /api/device-manager/v0/cmd/ returned 409"):
        dev.execute_command(Command("true"))


def test_topics_and_metrics(client: Client) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    topics = dev.topics()
    assert topics
    status = dev.topic_status()
    assert "Subscribed" in status and "master_up" in status
    ok = dev.subscribe_topic(topics[0], qos=QoS.HIGH.value, kind=TopicKind.LOG)
    assert list(ok) == ["subscribed_success"]
    assert topics[0] in str(dev.topic_status().Subscribed)
    missing = dev.subscribe_topic("/does/not/exist")
    assert missing == {"subscribed_error": [{"/does/not/exist":
                                             "Unknown topic type: /does/not/exist"}]}
    assert "unsubscribed_success" in dev.unsubscribe_topic(topics[0], kind=TopicKind.LOG)
    with pytest.raises(InvalidParameterException, match="qos must be one of"):
        dev.subscribe_topic(topics[0], qos=7)
    assert dev.subscribe_metric(SystemMetric.CPU, QoS.MEDIUM) is True
    assert "cpu" in {m.name for m in dev.metrics()}
    assert dev.unsubscribe_metric("cpu") is True
    with pytest.raises(InvalidParameterException, match="metric must be one of"):
        dev.subscribe_metric("gpu")


def test_log_upload_download_share_delete(sandbox: Sandbox, client: Client) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    log = sandbox.app.scratch_dir(DEVICE_AMD64_DOCKER) / "robot.log"
    log.write_text("line 1\nline 2\n")
    req = dev.upload_log_file(LogsUploadRequest("robot.log", file_name="robot-copy.log",
                                                metadata={"run": "1"}))
    status = poll(lambda: dev.get_log_upload_status(req), lambda s: s.status == "COMPLETED",
                  timeout=10, what="upload").value
    assert status.filename == "robot-copy.log"
    files = dev.list_uploaded_files_for_device(sort="filename", reverse=True, paginate=True,
                                               filter_by_filename="robot",
                                               filter_by_status=["COMPLETED"])
    assert [f.request_uuid for f in files] == [req]
    signed = dev.download_log_file(req)
    assert requests.get(signed, timeout=5).text == "line 1\nline 2\n"
    shared = dev.create_shared_url(SharedURL(req, dt.datetime.now() + dt.timedelta(days=1)))
    assert requests.get(shared.url, timeout=5).text == "line 1\nline 2\n"
    assert dev.get_log_upload_status(req).shared_urls[0]["url_uuid"] == shared.url_uuid
    assert dev.delete_uploaded_log_file(req) is True
    with pytest.raises(LogsUUIDNotFoundException):
        dev.get_log_upload_status(req)
    with pytest.raises(LogsUUIDNotFoundException):
        dev.download_log_file(req)
    with pytest.raises(InvalidParameterException, match="sort must be one of"):
        dev.list_uploaded_files_for_device(sort="size")
    with pytest.raises(InvalidParameterException, match="file must be valid"):
        LogsUploadRequest("")
    with pytest.raises(InvalidParameterException, match="not created yet"):
        _ = SharedURL(req, dt.datetime.now()).url


@pytest.mark.parametrize("sandbox_delay", [30.0])  # the upload stays IN PROGRESS
def test_cancel_upload(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    (sandbox.app.scratch_dir(DEVICE_AMD64_DOCKER) / "big.log").write_text("x" * 1000)
    req = dev.upload_log_file(LogsUploadRequest("big.log"))
    assert dev.cancel_log_file_upload(req) is True
    assert dev.get_log_upload_status(req).status == "CANCELLED"
    with pytest.raises(LogsUUIDNotFoundException):
        dev.cancel_log_file_upload("nope")


def test_delete_device(sandbox: Sandbox, client: Client) -> None:
    dev = client.get_device(DEVICE_ARM32)
    assert dev.delete() is True and dev == {}
    with pytest.raises(ResourceNotFoundError):
        client.get_device(DEVICE_ARM32)
    assert client.delete_device(DEVICE_OFFLINE) is True
    assert len(client.get_all_devices()) == 2
