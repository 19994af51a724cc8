"""ROC recording around the real ZeroMQ transport and feed on a real broker; replay opens none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_robofixtures.recording import (
    Recorder,
    RecordingMismatch,
    Scrubber,
    recording_path,
    scan_for_secrets,
)
from pytest_robofixtures.recording.stable import read_document
from pytest_robofixtures.roc import (
    RemoteError,
    RocBroker,
    RocClient,
    RocServer,
    RocStatusUpdater,
    ZmqRocTransport,
    start_broker,
    status_feed,
)

from .conftest import RERECORD, TOKEN

NODEID = "tests/test_roc.py::test_arm"


class Arm:
    def __init__(self) -> None:
        self.moves = 0

    def move(self, x: float, y: float = 0.0) -> dict[str, Any]:
        self.moves += 1
        return {"pos": [x, y], "moves": self.moves, "session_token": TOKEN}

    def fail(self) -> None:
        raise ValueError("joint 3 over limit")


@pytest.fixture
def broker() -> Iterator[RocBroker]:
    b = start_broker(heartbeat_interval=0.2, heartbeat_liveness=3, unknown_timeout=0.3)
    yield b
    b.stop()


def work(client: RocClient) -> dict[str, Any]:
    arm = client["arm"]
    out: dict[str, Any] = {"m1": arm.move(1.0), "m2": arm.move(1.0), "m3": arm.move(2.5, y=1)}
    try:
        arm.fail()
    except RemoteError as exc:
        out["error"] = (type(exc).__name__, str(exc))
    return out


@pytest.fixture
def recorded(tmp_path: Path, broker: RocBroker) -> dict[str, Any]:
    ep = broker.endpoints
    server = RocServer(ep, "arm", Arm(), heartbeat_interval=0.2).start()
    probe = RocClient(ep, timeout=2.0)
    probe.wait_for_object("arm", timeout=5)
    probe.close()
    rec = Recorder.open(recording_path(tmp_path, NODEID), "record", RERECORD,
                        Scrubber(secrets=[TOKEN]))
    client = RocClient(ep, timeout=2.0,
                       transport=rec.roc_transport(lambda: ZmqRocTransport(ep.rocBroker)))
    feed = rec.roc_feed(lambda: status_feed(ep, "arm"), name="status")
    updater = RocStatusUpdater(ep)
    assert updater.wait_for_subscriber("arm", timeout=5)
    try:
        result = work(client)
        for i in range(3):
            updater.emit("arm.joint", {"angle": i, "auth_token": TOKEN})
        seen = []
        while len(seen) < 3:
            item = feed.receive(5.0)
            assert item is not None
            seen.append(item)
        result["feed"] = seen
    finally:
        updater.close()
        client.close()
        feed.close()
        server.stop()
    rec.close()
    return result


def test_roc_calls_and_feed_replay_without_broker(tmp_path: Path, recorded: dict[str, Any],
                                                  broker: RocBroker) -> None:
    broker.stop()
    rec = Recorder.open(recording_path(tmp_path, NODEID), "replay", RERECORD,
                        Scrubber(secrets=[TOKEN]))
    client = RocClient("tcp://127.0.0.1:1", transport=rec.roc_transport(
        lambda: pytest.fail("replay must not open the real transport")))
    result = work(client)
    # The placeholder is numbered per secret value (the same token reads the same everywhere).
    assert result["m1"] == {"pos": [1.0, 0.0], "moves": 1, "session_token": "<scrubbed:1>"}
    assert result["m2"]["moves"] == 2 and result["m3"]["moves"] == 3  # order kept
    assert result["error"] == recorded["error"]
    assert "joint 3 over limit" in result["error"][1]
    feed = rec.roc_feed(lambda: pytest.fail("no real feed in replay"), name="status")
    items = [feed.receive(1.0) for _ in range(3)]
    assert [t for t, _ in items] == [t for t, _ in recorded["feed"]]  # type: ignore[misc]
    assert [p["angle"] for _, p in items] == [0, 1, 2]  # type: ignore[misc]
    assert feed.receive(1.0) is None
    assert rec.close().unused == []


def test_roc_recording_section_is_ordered_and_scrubbed(tmp_path: Path,
                                                       recorded: dict[str, Any]) -> None:
    bundle = recording_path(tmp_path, NODEID)
    doc = read_document(bundle)
    all_calls = doc["roc"]["calls"]
    calls = [c for c in all_calls if not c["method"].startswith("__")]  # proxy metadata calls
    assert [(c["object"], c["method"]) for c in calls] == [("arm", "move")] * 3 + [("arm", "fail")]
    assert calls[0]["params"] == [1.0] and calls[0]["result"]["pos"] == [1.0, 0.0]
    assert "joint 3 over limit" in str(calls[3]["error"])
    feed = doc["roc"]["feeds"][0]
    assert feed["name"] == "status" and len(feed["items"]) == 3
    seqs = [c["seq"] for c in all_calls] + [i["seq"] for i in feed["items"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(i["payload"]["auth_token"] == "<scrubbed:1>" for i in feed["items"])
    assert scan_for_secrets([bundle], [TOKEN]) == []


def test_roc_call_not_recorded_is_a_clear_mismatch(tmp_path: Path,
                                                   recorded: dict[str, Any]) -> None:
    rec = Recorder.open(recording_path(tmp_path, NODEID), "replay", RERECORD, Scrubber())
    client = RocClient("tcp://127.0.0.1:1", transport=rec.roc_transport())
    with pytest.raises(RecordingMismatch) as info:
        client["arm"].move(9.0)
    message = str(info.value)
    assert "ROC request not found" in message and "arm.move(" in message
    assert "params: $" in message and "got 9.0" in message
    assert str(rec.path) in message and RERECORD in message
    with pytest.raises(RecordingMismatch, match="object: recorded 'arm', got 'leg'"):
        client["leg"].move(1.0)


def test_unknown_feed_name_is_a_mismatch(tmp_path: Path, recorded: dict[str, Any]) -> None:
    rec = Recorder.open(recording_path(tmp_path, NODEID), "replay", RERECORD, Scrubber())
    with pytest.raises(RecordingMismatch, match=r"recorded feeds: \['status'\]"):
        rec.roc_feed(name="logs")


def test_feed_items_recorded_after_a_call_wait_for_that_call_in_replay(
    tmp_path: Path, recorded: dict[str, Any]
) -> None:
    rec = Recorder.open(recording_path(tmp_path, NODEID), "replay", RERECORD,
                        Scrubber(secrets=[TOKEN]))
    feed = rec.roc_feed(lambda: pytest.fail("no real feed in replay"), name="status")
    # The updates were published after the calls: reading early must not run ahead of them.
    assert feed.receive(0.0) is None
    client = RocClient("tcp://127.0.0.1:1", transport=rec.roc_transport(
        lambda: pytest.fail("replay must not open the real transport")))
    work(client)
    assert [p["angle"] for _, p in (feed.receive(0.0), feed.receive(0.0))] == [0, 1]  # type: ignore[misc]
