"""Status updates (masks, ancestors, inactivity), the status tree, logs and the log dump."""

from __future__ import annotations

import json
import logging
import threading

import pytest

from pytest_robofixtures.roc import (
    LogDump,
    RocClient,
    RocLogger,
    RocStatusUpdater,
    RocTimeout,
    StatusTree,
    initRocLogging,
    log_feed,
    status_feed,
    statusUpdateIterator,
    subscriptions_for,
    wait_for_status,
)
from pytest_robofixtures.roc.status import filter_update

from .conftest import until


def test_masks_match_whole_components_only():
    assert filter_update("system.foobar", {"cpu": 1}, "system.foo") is None
    assert filter_update("system.foo", {"cpu": 1}, "system.foo") == {"system": {"foo": {"cpu": 1}}}
    assert filter_update("system.foo.cpu", 0.5, "system.foo") == {"system": {"foo": {"cpu": 0.5}}}
    # ancestor updates are delivered, pruned to the mask
    assert filter_update("system", {"foo": {"cpu": 1}, "bar": 2}, "system.foo") == {
        "system": {"foo": {"cpu": 1}}}
    assert filter_update("system", {"bar": 2}, "system.foo") is None
    assert filter_update("", {"system": {"foo": 1}}, "system.foo") == {"system": {"foo": 1}}
    assert filter_update("x.y", 1, ["a", "x"]) == {"x": {"y": 1}}
    subs = subscriptions_for("system.foo")
    assert b"status.system.foo." in subs and b"status.system.foo\x00" in subs
    assert b"status.system\x00" in subs and b"status.\x00" in subs
    assert not any(b"status.system.foo".startswith(s) for s in subs
                   if s not in (b"status.system.foo.", b"status.system.foo\x00"))
    with pytest.raises(ValueError):
        subscriptions_for("bad..mask")


def test_status_iterator_filters_at_the_publisher_and_yields_partial_trees(endpoints):
    upd = RocStatusUpdater(endpoints)
    it = statusUpdateIterator(endpoints, mask="system.foo", timeout=3.0)
    try:
        first = next_in_thread(it)
        assert upd.wait_for_subscriber("system.foo", timeout=5)
        upd.emit("system.foobar", {"cpu": 9})  # must not match
        upd.emit("system.bar", {"cpu": 8})  # must not match
        upd.emit("system", {"foo": {"memory": 0.7}, "bar": {"cpu": 1}})  # ancestor
        upd.emit("system.foo", {"cpu": 0.3, "memory": 0.7})
        assert first.result() == {"system": {"foo": {"memory": 0.7}}}
        assert next(it) == {"system": {"foo": {"cpu": 0.3, "memory": 0.7}}}
    finally:
        it.close()
        upd.close()


def next_in_thread(it):
    """Start fetching the first item before publishing, so the subscription exists."""
    result: dict = {}
    done = threading.Event()

    def run() -> None:
        result["v"] = next(it)
        done.set()

    class F:
        def result(self):
            assert done.wait(10), "no item"
            return result["v"]

    # creating the generator's feed happens on first next(); do it synchronously for status
    threading.Thread(target=run, daemon=True).start()
    return F()


def test_status_iterator_yields_empty_status_after_inactivity(endpoints):
    it = statusUpdateIterator(endpoints, mask="quiet", timeout=0.2)
    try:
        assert next(it) == {}
        assert next(it) == {}
    finally:
        it.close()


def test_status_iterator_with_list_of_masks_and_injected_feed(endpoints):
    class ListFeed:
        def __init__(self, items):
            self.items = list(items)
            self.closed = False

        def receive(self, timeout):
            return self.items.pop(0) if self.items else None

        def close(self):
            self.closed = True

    feed = ListFeed([("status.a.b", 1), ("status.c", {"d": 2}), ("status.ab", 3),
                     ("log.INFO.x", {"msg": "hi"})])
    it = statusUpdateIterator(None, mask=["a", "c.d"], timeout=1.0, feed=feed)
    assert [next(it), next(it), next(it)] == [{"a": {"b": 1}}, {"c": {"d": 2}}, {}]
    it.close()
    assert not feed.closed  # an injected feed belongs to the caller


def test_status_tree_merges_and_waits_for_a_predicate(endpoints):
    upd = RocStatusUpdater(endpoints)
    tree = StatusTree(status_feed(endpoints, "robot"), mask="robot")
    try:
        # Each subscription prefix reaches the publisher on its own: wait for both we use.
        assert upd.wait_for_subscriber("robot", 5)
        assert upd.wait_for_subscriber("robot.battery", 5)
        upd.emit("robot", {"battery": 90, "pose": {"x": 0}})
        upd.emit("robot.pose.y", 2)
        for level in (80, 70, 60):
            upd.emit("robot.battery", level)
        assert tree.wait_for("robot.battery", lambda v: v <= 60, timeout=5) == 60
        assert tree.get("robot.pose") == {"x": 0, "y": 2}
        assert tree.get("robot.missing", None) is None
        with pytest.raises(KeyError):
            tree.get("robot.missing")
        with pytest.raises(RocTimeout, match="last value: 60"):
            tree.wait_for("robot.battery", lambda v: v > 100, timeout=0.2)
    finally:
        tree.feed.close()
        upd.close()


def test_wait_for_status_with_sample_objects(endpoints):
    from pytest_robofixtures.sim.roc_objects import start_sample_objects

    objs = start_sample_objects(endpoints, heartbeat_interval=0.1, status_period=0.02)
    try:
        c = RocClient(endpoints)
        c.wait_for_object("vnir", 5)
        c["vnir"].openShutter()
        assert wait_for_status(endpoints, "instruments.vnir.shutter", lambda v: v == "open",
                               timeout=5) == "open"
        assert wait_for_status(endpoints, "system.sim.uptime", lambda v: v > 0, timeout=5) > 0
        c.close()
    finally:
        objs.stop()


def test_log_records_reach_a_subscriber_and_the_log_dump(endpoints, serve, tmp_path):
    logger = logging.getLogger("roc_test.camera")
    handler = initRocLogging("camnode", endpoints, logger=logger)
    jsonl = tmp_path / "roc.jsonl"
    text = tmp_path / "roc.log"
    dump_json = LogDump(endpoints, str(jsonl), "json")
    dump_text = LogDump(endpoints, str(text), "text")
    feed = log_feed(endpoints)
    try:
        assert handler.wait_for_subscriber(5)
        from .conftest import Camera

        serve("cam", Camera())
        c = RocClient(endpoints)
        c["cam"].openShutter()  # the server logs "shutter opened on camera"
        topic, rec = feed.receive(5)
        assert topic == "log.INFO.roc_test.camera"
        assert rec["msg"] == "shutter opened on camera" and rec["nodeId"] == "camnode"
        assert rec["levelname"] == "INFO" and rec["funcName"] == "openShutter"
        try:
            raise KeyError("boom")
        except KeyError:
            logger.exception("failure %d", 42)
        topic, rec = feed.receive(5)
        assert rec["msg"] == "failure 42" and "KeyError" in rec["exc_text"]
        until(lambda: len(jsonl.read_text().splitlines()) >= 2 and
              len(text.read_text().splitlines()) >= 2, what="log dump written")
        c.close()
    finally:
        n = dump_json.stop()
        dump_text.stop()
        feed.close()
        logger.removeHandler(handler)
        handler.close()
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert n == len(lines) == 2
    assert lines[0]["msg"] == "shutter opened on camera"
    assert "camnode" in text.read_text() and "failure 42" in text.read_text()


def test_roc_logger_is_thread_safe_and_never_recurses(endpoints):
    logger = logging.getLogger("roc_test.threads")
    logger.propagate = False
    handler = RocLogger("n", endpoints)

    class Loud(logging.Handler):
        def emit(self, record):  # a handler that logs while handling: must not loop
            logger.info("echo of %s", record.getMessage())

    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    feed = log_feed(endpoints)
    try:
        assert handler.wait_for_subscriber(5)

        def burst(k: int) -> None:
            for i in range(50):
                logger.info("t%d-%d", k, i)

        threads = [threading.Thread(target=burst, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        got = set()
        while len(got) < 200:
            item = feed.receive(5)
            assert item is not None, f"only {len(got)} of 200 records arrived"
            got.add(item[1]["msg"])
        assert got == {f"t{k}-{i}" for k in range(4) for i in range(50)}
        # recursion guard: RocLogger ignores records emitted from inside its own emit
        handler._local.busy = True
        handler.emit(logging.makeLogRecord({"msg": "inner"}))
        handler._local.busy = False
        logger.addHandler(Loud())
        with pytest.raises(RecursionError):
            logger.info("x")  # Loud recurses by itself; RocLogger never adds to it
    finally:
        for h in list(logger.handlers):
            logger.removeHandler(h)
        handler.close()
        feed.close()
        logger.propagate = True
