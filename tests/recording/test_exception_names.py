"""Recorded exception types: stable recorded names, the legacy module paths, unknown names."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pytest_robofixtures.recording import Recorder, RecordingCorrupt, Scrubber, recording_path
from pytest_robofixtures.recording._util import (
    EXCEPTION_NAMES,
    LEGACY_NAMES,
    canonical_name,
    exception_from_record,
    exception_record,
    instantiate,
    resolve,
)
from pytest_robofixtures.recording.bundle import Bundle
from pytest_robofixtures.rerobots.errors import BusyWorkspaceDeployment, SSHError
from pytest_robofixtures.roc.protocol import RemoteError, RocTimeout

from .conftest import RERECORD


@pytest.mark.parametrize("name", sorted(EXCEPTION_NAMES))
def test_every_registered_name_resolves_and_rebuilds_with_its_message(name: str) -> None:
    cls = resolve(name)
    assert issubclass(cls, BaseException)
    exc = instantiate(cls, "recorded message 42")
    assert isinstance(exc, cls)
    assert "recorded message 42" in str(exc)


def test_every_legacy_path_maps_to_a_registered_name() -> None:
    unknown = {path: name for path, name in LEGACY_NAMES.items() if name not in EXCEPTION_NAMES}
    assert not unknown


def test_names_are_recorded_not_module_paths() -> None:
    assert exception_record(RocTimeout("no reply")) == {"type": "roc.RocTimeout",
                                                        "message": "no reply"}
    assert exception_record(BusyWorkspaceDeployment("busy"))["type"] == (
        "rerobots.BusyWorkspaceDeployment")
    assert exception_record(TimeoutError("slow"))["type"] == "builtins.TimeoutError"
    assert exception_record(socket.gaierror("dns"))["type"] == "socket.gaierror"


def test_an_unregistered_class_is_recorded_as_its_nearest_registered_base() -> None:
    class FlakyLink(SSHError):
        pass

    record = exception_record(FlakyLink("link down"))
    assert record["type"] == "rerobots.SSHError"
    assert record["class"].endswith("FlakyLink")
    replayed = exception_from_record(record)
    assert type(replayed) is SSHError and str(replayed) == "link down"


@pytest.mark.parametrize(("legacy", "cls"), [
    ("pytest_robofixtures.roc.protocol.RocTimeout", RocTimeout),
    ("pytest_robofixtures.roc.protocol.RemoteError", RemoteError),
    ("pytest_robofixtures.rerobots.errors.BusyWorkspaceDeployment", BusyWorkspaceDeployment),
    ("builtins.ConnectionRefusedError", ConnectionRefusedError),
    ("socket.timeout", TimeoutError),
])
def test_old_recordings_with_module_paths_still_resolve(legacy: str, cls: type) -> None:
    assert canonical_name(legacy) is not None
    exc = exception_from_record({"type": legacy, "message": "old"})
    assert type(exc) is cls and "old" in str(exc)


def test_paramiko_types_resolve_by_recorded_name() -> None:
    import paramiko

    exc = exception_from_record({"type": "paramiko.SSHException", "message": "no banner"})
    assert type(exc) is paramiko.SSHException
    chan = exception_from_record({"type": "paramiko.ChannelException", "message": "refused"})
    assert isinstance(chan, paramiko.ChannelException) and "refused" in str(chan)


def test_an_unknown_recorded_name_is_recording_corrupt_not_runtime_error() -> None:
    with pytest.raises(RecordingCorrupt, match="'mypkg.errors.Gone' is not a known recorded"):
        exception_from_record({"type": "mypkg.errors.Gone", "message": "x"})


def test_a_recording_with_an_unknown_type_is_corrupt_at_load(tmp_path: Path) -> None:
    path = recording_path(tmp_path / "c", "tests/test_x.py::test_x")
    bundle = Bundle(path, RERECORD)
    bundle.ssh = [{"host": "h", "port": 22, "user": "root", "exec": "true",
                   "raised": exception_record(RocTimeout("late"))}]
    bundle.save(Scrubber())
    assert Bundle.load(path, RERECORD).ssh[0]["raised"]["type"] == "roc.RocTimeout"
    text = bundle.path.read_text().replace("roc.RocTimeout", "mypkg.errors.Gone")
    bundle.path.write_text(text)
    with pytest.raises(RecordingCorrupt) as info:
        Recorder.open(path, "replay", RERECORD, Scrubber())
    assert str(bundle.path) in str(info.value) and "mypkg.errors.Gone" in str(info.value)


def test_a_recorded_exception_replays_from_the_file(tmp_path: Path) -> None:
    path = recording_path(tmp_path / "c", "tests/test_x.py::test_y")
    bundle = Bundle(path, RERECORD)
    bundle.ssh = [{"host": "h", "port": 22, "user": "root", "exec": "uname",
                   "raised": exception_record(BusyWorkspaceDeployment("all busy"))}]
    bundle.save(Scrubber())
    doc = yaml.safe_load(bundle.path.read_text())
    assert doc["ssh"][0]["raised"] == {"type": "rerobots.BusyWorkspaceDeployment",
                                       "message": "all busy"}
    rep = Recorder.open(path, "replay", RERECORD, Scrubber())
    session = rep.ssh_factory()("h", 22, [], None)
    with pytest.raises(BusyWorkspaceDeployment, match="all busy"):
        session.exec("uname")


def test_recording_imports_no_client_package() -> None:
    code = ("import sys, pytest_robofixtures.recording\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('paramiko', 'zmq') or "
            "m.startswith(('pytest_robofixtures.rerobots', 'pytest_robofixtures.rapyuta', "
            "'pytest_robofixtures.roc'))]\n"
            "print(bad)\nsys.exit(1 if bad else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
