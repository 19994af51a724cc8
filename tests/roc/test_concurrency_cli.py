"""Many concurrent clients and objects; the console entry points as real processes."""

from __future__ import annotations

import json
import signal
import threading

from pytest_robofixtures.roc import Endpoints, RocClient, initRocLogging
from pytest_robofixtures.roc.cli import logdump_main

from .conftest import Camera, spawn, stop_process, until


class Counter:
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    def incr(self, by: int = 1) -> list:
        self.count += by
        return [self.name, self.count]


def test_many_clients_and_objects_in_threads(endpoints, serve):
    names = [f"obj{i}" for i in range(4)]
    objects = {n: Counter(n) for n in names}
    for n in names:
        serve(n, objects[n])
    serve("obj0", objects["obj0"])  # a second worker for the same object id
    shared = RocClient(endpoints, timeout=5.0)
    errors: list[BaseException] = []
    calls = 40

    def worker(k: int) -> None:
        own = RocClient(endpoints, timeout=5.0)
        try:
            for i in range(calls):
                name = names[(k + i) % len(names)]
                client = own if i % 2 else shared  # a client shared across threads too
                got = client[name].incr(by=1)
                assert got[0] == name
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    shared.close()
    assert not errors, errors[:3]
    assert sum(o.count for o in objects.values()) == 8 * calls


def test_rocbroker_console_script_and_logdump(tmp_path):
    proc = spawn("from pytest_robofixtures.roc.cli import broker_main; import sys; "
                 "sys.exit(broker_main(sys.argv[1:]))", "--port", "0", "--json",
                 "--heartbeat-interval", "0.1")
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        ep = Endpoints("127.0.0.1", info["base_port"])
        assert info["rocBroker"] == ep.rocBroker and info["generalXPUB"] == ep.generalXPUB
        from pytest_robofixtures.roc import RocServer

        server = RocServer(ep, "cam", Camera(), heartbeat_interval=0.1).start()
        c = RocClient(ep)
        try:
            c.wait_for_object("cam", 5)
            assert c["cam"].add(1, 1) == 2
        finally:
            c.close()
            server.stop()

        out = tmp_path / "dump.jsonl"
        import logging

        logger = logging.getLogger("roc_test.cli")
        handler = initRocLogging("cli", ep, logger=logger)
        result: dict = {}
        t = threading.Thread(target=lambda: result.setdefault(
            "rc", logdump_main(["--port", str(ep.brokerBasePort), "-o", str(out),
                                "--duration", "3"])))
        t.start()
        try:
            # bounded handshake: repeat until the dump has the record
            until(lambda: out.exists() and "hello dump" in out.read_text(),
                  step=lambda: logger.warning("hello dump"), timeout=5, what="record dumped")
        finally:
            t.join(10)
            logger.removeHandler(handler)
            handler.close()
        assert result["rc"] == 0
        assert json.loads(out.read_text().splitlines()[0])["nodeId"] == "cli"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        stop_process(proc)
