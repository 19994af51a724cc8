"""Bundle paths and deterministic resource names."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_robofixtures.recording import (
    NameFactory,
    Recorder,
    RecordingMismatch,
    Scrubber,
    recording_path,
)
from pytest_robofixtures.recording.paths import MAX_COMPONENT

from .conftest import RERECORD


def test_test_paths(tmp_path: Path) -> None:
    assert recording_path(tmp_path, "tests/hil/test_nav.py::TestArm::test_go[x-1]") == (
        tmp_path / "tests" / "hil" / "test_nav" / "TestArm.test_go[x-1]")
    assert recording_path("c", "test_a.py::test_b") == Path("c/test_a/test_b")
    odd = recording_path("c", "t.py::test_x[a/b: c?*]")
    assert odd == Path("c/t/test_x[a_b_c_]")
    assert recording_path("c", "../../etc/t.py::test") == Path("c/etc/t/test")


def test_scope_paths() -> None:
    assert recording_path("c", "tests/test_a.py", "routed_network") == Path(
        "c/tests/test_a/@routed_network")
    assert recording_path("c", "tests/test_a.py::TestX", "net") == Path("c/tests/test_a/TestX/@net")
    assert recording_path("c", "", "rerobots_instance") == Path("c/@session/@rerobots_instance")
    with pytest.raises(ValueError, match="names no test"):
        recording_path("c", "tests/test_a.py")


def test_long_names_are_shortened_with_a_hash() -> None:
    long_a = "t.py::test_x[" + "a" * 300 + "]"
    long_b = "t.py::test_x[" + "a" * 299 + "b]"
    pa, pb = recording_path("c", long_a), recording_path("c", long_b)
    assert len(pa.name) <= MAX_COMPONENT and len(pb.name) <= MAX_COMPONENT
    assert pa != pb and pa == recording_path("c", long_a)


def test_record_names_are_unique_per_run_and_worker() -> None:
    a = NameFactory("record", run_id="r1", worker="gw0")
    b = NameFactory("record", run_id="r1", worker="gw1")
    c = NameFactory("record", run_id="r2", worker="gw0")
    names = [a.new("net"), a.new("Deploy Pkg!"), b.new("net"), c.new("net")]
    assert names[:2] == ["robo-r1-gw0-1-net", "robo-r1-gw0-2-deploy-pkg"]
    assert len(set(names)) == 4
    assert a.made == [{"hint": "net", "name": names[0]},
                      {"hint": "deploy-pkg", "name": names[1]}]
    assert all(len(n) <= 63 for n in names)


def test_default_run_ids_differ_and_worker_comes_from_xdist(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    ids = {NameFactory("record").run_id for _ in range(20)}
    assert len(ids) > 1
    assert NameFactory("record").new("x").split("-")[2] == "gw3"


def test_replay_returns_recorded_names_in_order(tmp_path: Path) -> None:
    path = tmp_path / "b"
    rec = Recorder.open(path, "record", RERECORD, Scrubber(), run_id="abc", worker="gw0")
    recorded = [rec.names.new("net"), rec.names.new("deploy"), rec.names.new("deploy")]
    rec.close()
    for _ in range(2):  # deterministic on every replay, whatever the run or worker
        rep = Recorder.open(path, "replay", RERECORD, Scrubber(), run_id="zzz", worker="gw9")
        assert [rep.names.new("net"), rep.names.new("deploy"), rep.names.new("deploy")] == recorded
        with pytest.raises(RecordingMismatch, match="only 3 name"):
            rep.names.new("deploy")


def test_replay_name_for_a_different_hint_is_a_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "b"
    rec = Recorder.open(path, "record", RERECORD, Scrubber(), run_id="abc")
    rec.names.new("net")
    rec.close()
    rep = Recorder.open(path, "replay", RERECORD, Scrubber())
    with pytest.raises(RecordingMismatch) as info:
        rep.names.new("device")
    assert "hint: recorded 'net', got 'device'" in str(info.value)
    assert RERECORD in str(info.value)
