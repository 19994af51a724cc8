"""Unit tests of the plugin core against a fake run context (no pytest run, no service)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_robofixtures.errors import ProvisioningTimeout, ServiceError, classify
from pytest_robofixtures.factory import Robo, outcome_unknown
from pytest_robofixtures.journal import Journal, counts, pending
from pytest_robofixtures.kinds import REGISTRY  # the built-in kinds
from pytest_robofixtures.kinds.base import Param, Registry, ResourceType
from pytest_robofixtures.reaper import reap
from pytest_robofixtures.report import TestRecord
from pytest_robofixtures.teardown import Teardown, TeardownInterrupted, describe_error

from .fakes import FakeContext, FakeScope


class Service:
    """An in-memory service: names to ids, and what was deleted."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}
        self.deleted: list[str] = []

    def find(self, clients: Any, name: str, extra: Any) -> str | None:
        return self.items.get(name)

    def delete(self, clients: Any, ident: str, wait: bool, timeout: float) -> None:
        self.deleted.append(ident)
        self.items = {k: v for k, v in self.items.items() if v != ident}


class HTTPError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status_code = status


def make_robo(tmp: Path, **overrides: Any) -> tuple[Robo, FakeContext]:
    ctx = FakeContext(tmp, **overrides)
    return Robo(ctx, FakeScope(), "t.py::test", TestRecord("t.py::test"), REGISTRY), ctx


def journal_lines(ctx: FakeContext) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ctx.journal.path.read_text().splitlines()]


def test_intent_is_journaled_before_the_create_is_sent(tmp_path: Path) -> None:
    robo, ctx = make_robo(tmp_path)
    service = Service()
    rtype = ResourceType("toy.lamp", "rapyuta", 0, delete=service.delete, find=service.find)
    seen_before_send: list[list[str]] = []

    def create(on_created: Any) -> str:
        seen_before_send.append([r["event"] for r in journal_lines(ctx)])
        service.items["lamp-1"] = "id-1"
        on_created("id-1")
        return "lamp"

    assert robo.create(rtype, "lamp-1", "lamp", create, adopt=lambda i: "adopted") == "lamp"
    assert seen_before_send == [["intent"]]
    assert [r["event"] for r in journal_lines(ctx)] == ["intent", "created"]
    assert robo.close() == []
    assert service.deleted == ["id-1"]
    assert pending(ctx.settings.journal_dir) == []


def test_lost_reply_is_reconciled_by_name_never_sent_twice(tmp_path: Path) -> None:
    robo, ctx = make_robo(tmp_path)
    service = Service()
    rtype = ResourceType("toy.lamp", "rapyuta", 0, delete=service.delete, find=service.find)
    sent: list[str] = []

    def create(on_created: Any) -> str:
        sent.append("POST")
        service.items["lamp-1"] = "id-7"  # committed on the server...
        raise ConnectionResetError("reply lost")  # ...but the reply never came

    assert robo.create(rtype, "lamp-1", "lamp", create, adopt=lambda i: f"adopted {i}") == (
        "adopted id-7")
    assert sent == ["POST"]
    robo.close()
    assert service.deleted == ["id-7"]


def test_unknown_outcome_with_nothing_found_is_tried_again(tmp_path: Path) -> None:
    robo, _ = make_robo(tmp_path)
    service = Service()
    rtype = ResourceType("toy.lamp", "rapyuta", 0, delete=service.delete, find=service.find)
    attempts: list[int] = []

    def create(on_created: Any) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise HTTPError(500)  # not processed (nothing found by name)
        service.items["lamp-1"] = "id-2"
        on_created("id-2")
        return "lamp"

    assert robo.create(rtype, "lamp-1", "lamp", create, adopt=lambda i: "x") == "lamp"
    assert len(attempts) == 2


@pytest.mark.parametrize("status", [400, 404, 409, 429, 503])
def test_a_refused_create_is_not_reconciled(tmp_path: Path, status: int) -> None:
    robo, _ = make_robo(tmp_path)
    looked_up: list[str] = []
    rtype = ResourceType("toy.lamp", "rapyuta", 0, delete=lambda *a: None,
                         find=lambda c, n, e: looked_up.append(n) or None)

    def create(on_created: Any) -> str:
        raise HTTPError(status)

    with pytest.raises(HTTPError):
        robo.create(rtype, "lamp-1", "lamp", create, adopt=lambda i: "x")
    assert looked_up == []


def test_outcome_unknown_classification() -> None:
    assert outcome_unknown(HTTPError(500)) and outcome_unknown(HTTPError(504))
    assert not outcome_unknown(HTTPError(503)) and not outcome_unknown(HTTPError(429))
    assert outcome_unknown(ConnectionResetError()) and not outcome_unknown(ValueError("bad"))


def test_teardown_runs_everything_in_reverse_and_names_the_reason() -> None:
    done: list[str] = []
    teardown = Teardown()
    teardown.push("a", lambda: done.append("a"))
    teardown.push("b", lambda: (_ for _ in ()).throw(RuntimeError("409 in use")))
    teardown.push("c", lambda: done.append("c"))
    failures = teardown.run()
    assert done == ["c", "a"]
    assert [str(f) for f in failures] == ["b: RuntimeError: 409 in use"]
    assert describe_error(KeyboardInterrupt()) == "KeyboardInterrupt"


def test_ctrl_c_in_teardown_finishes_the_rest_then_reraises() -> None:
    done: list[str] = []
    calls = {"b": 0}
    teardown = Teardown(grace=5)

    def interrupted_once() -> None:
        calls["b"] += 1
        if calls["b"] == 1:
            raise KeyboardInterrupt
        done.append("b")

    teardown.push("a", lambda: done.append("a"))
    teardown.push("b", interrupted_once)
    teardown.push("c", lambda: done.append("c"))
    with pytest.raises(TeardownInterrupted, match="everything was torn down"):
        teardown.run()
    assert sorted(done) == ["a", "b", "c"]


def test_second_ctrl_c_skips_the_rest() -> None:
    teardown = Teardown(grace=5)
    done: list[str] = []
    teardown.push("a", lambda: done.append("a"))

    def always() -> None:
        raise KeyboardInterrupt

    teardown.push("b", always)
    with pytest.raises(TeardownInterrupted, match="not torn down: b: KeyboardInterrupt"):
        teardown.run()
    assert done == []


def test_journal_runs_never_cancel_each_other(tmp_path: Path) -> None:
    first = Journal(tmp_path, "run-a", "main")
    second = Journal(tmp_path, "run-b", "main")
    for journal in (first, second):
        journal.intent("rapyuta.routed_network", f"net-{journal.run_id}")
        journal.created("rapyuta.routed_network", f"net-{journal.run_id}", "guid-1")  # same id
    second.deleted("rapyuta.routed_network", "net-run-b", "guid-1")
    left = pending(tmp_path)
    assert [(e.run_id, e.id) for e in left] == [("run-a", "guid-1")]
    totals = counts(tmp_path, "run-b")
    assert (totals.created, totals.deleted, totals.pending) == (1, 1, [])


def test_intent_without_id_stays_pending_for_the_reaper(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "run-a", "gw0")
    journal.intent("rerobots.instance", "robo-run-a-gw0-j1-ws", endpoint="http://x")
    (entry,) = pending(tmp_path)
    assert entry.id == "" and entry.name == "robo-run-a-gw0-j1-ws"


def test_reap_resolves_intents_by_name_in_dependency_order(tmp_path: Path) -> None:
    order: list[str] = []
    network_in_use = {"flag": True}

    def delete_network(clients: Any, ident: str, wait: bool, timeout: float) -> None:
        if network_in_use["flag"]:
            raise HTTPError(409)
        order.append(f"net {ident}")

    def delete_deployment(clients: Any, ident: str, wait: bool, timeout: float) -> None:
        network_in_use["flag"] = False
        order.append(f"dep {ident}")

    registry = Registry()
    from pytest_robofixtures.kinds.base import Kind

    class Toy(Kind[Any]):
        name = "toy"
        resource_types = (
            ResourceType("toy.network", "rapyuta", 2, delete=delete_network),
            ResourceType("toy.deployment", "rapyuta", 0, delete=delete_deployment,
                         find=lambda c, name, extra: "dep-found" if name == "d1" else None),
        )

    registry.register(Toy())
    journal = Journal(tmp_path, "r", "main", sandbox=True)
    journal.intent("toy.network", "n1")
    journal.created("toy.network", "n1", "net-1")
    journal.intent("toy.deployment", "d1")  # the reply was lost: no id
    journal.intent("toy.deployment", "d2")  # never created at all
    result = reap(tmp_path, registry=registry, backoff=0)
    assert order == ["dep dep-found", "net net-1"]
    assert len(result.deleted) == 2 and len(result.absent) == 1 and not result.failed
    assert pending(tmp_path) == []


def test_param_refuses_nan_and_infinite_timeouts() -> None:
    timeout = Param("timeout", (int, float), positive=True)
    assert timeout.check(float("nan")) and timeout.check(float("inf"))
    assert timeout.check(True) and timeout.check(0) and timeout.check(-2)
    assert timeout.check(1.5) is None and timeout.check(None) is None


def test_infra_classification() -> None:
    class RetriesExhausted(Exception):
        pass

    assert classify(RetriesExhausted()) is ProvisioningTimeout
    assert classify(HTTPError(503)) is ServiceError
    assert classify(AssertionError("robot fell")) is None
    assert "InfraError" in str(ProvisioningTimeout("x"))
