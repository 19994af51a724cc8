"""Strict replay of ROC: feed items and calls the replay never used are listed exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_robofixtures.recording import Recorder, Scrubber, recording_path
from pytest_robofixtures.recording.roc import roc_feed_unused
from pytest_robofixtures.roc import RocClient

from .conftest import RERECORD, TOKEN
from .test_roc import NODEID, broker, recorded, work  # noqa: F401  (fixtures: a real broker)


def test_undelivered_feed_items_and_unmade_calls_are_listed(
    tmp_path: Path, recorded: dict[str, Any]  # noqa: F811
) -> None:
    rec = Recorder.open(recording_path(tmp_path, NODEID), "replay", RERECORD,
                        Scrubber(secrets=[TOKEN]))
    assert roc_feed_unused(rec.bundle) == ["ROC feed status: status.arm.joint"] * 3  # never opened
    client = RocClient("tcp://127.0.0.1:1", transport=rec.roc_transport(
        lambda: pytest.fail("replay must not open the real transport")))
    work(client)  # every call (the feed items were recorded after them)
    feed = rec.roc_feed(lambda: pytest.fail("no real feed in replay"), name="status")
    assert feed.receive(1.0) is not None
    assert roc_feed_unused(rec.bundle) == ["ROC feed status: status.arm.joint"] * 2
    # Every call was made; feed lines appear here once Recorder.unused includes them.
    assert [u for u in rec.close().unused if not u.startswith("ROC feed")] == []
    # Calls: each recorded repeat that was not asked for is one line.
    rec = Recorder.open(recording_path(tmp_path, NODEID), "replay", RERECORD,
                        Scrubber(secrets=[TOKEN]))
    client = RocClient("tcp://127.0.0.1:1", transport=rec.roc_transport(
        lambda: pytest.fail("replay must not open the real transport")))
    client["arm"].move(1.0)  # the first of three recorded moves; fail() never called
    unused = rec.close().unused
    assert unused.count("ROC arm.move") == 2 and unused.count("ROC arm.fail") == 1


def test_feed_drift_topics_and_payload_fields(
    tmp_path: Path, recorded: dict[str, Any]  # noqa: F811
) -> None:
    import copy

    from pytest_robofixtures.recording.drift import compare_documents, stored_document

    doc = stored_document(recording_path(tmp_path, NODEID))
    assert compare_documents(doc, doc) == []
    live = copy.deepcopy(doc)
    items = live["roc"]["feeds"][0]["items"]
    for item in items:
        del item["payload"]["angle"]
    items.append({"seq": 99, "topic": "status.arm.fault", "payload": {"code": "E_STOP"}})
    found = {(f.kind, f.request, f.path) for f in compare_documents(live, doc)}
    assert found == {("removed", "feed status: status.arm.joint", "$.angle"),
                     ("extra", "feed status: status.arm.fault", "")}
