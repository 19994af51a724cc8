"""pytest entry point: options, markers and fixtures, composed from the other modules."""

from __future__ import annotations

import base64
import json
import signal
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from .factory import Robo
from .markers import MARKERS, marker_kwargs
from .session import RoboSession
from .settings import REPLAY, add_options, load_settings

SESSION_KEY = pytest.StashKey[RoboSession]()
_SIGTERM_KEY = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for spec in MARKERS.values():
        config.addinivalue_line("markers", spec.line)
    session = RoboSession(config, load_settings(config))
    config.stash[SESSION_KEY] = session
    if session.settings.mode != REPLAY:
        config.stash[_SIGTERM_KEY] = _sigterm_as_interrupt()


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.close()
    previous = config.stash.get(_SIGTERM_KEY, None)
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Validate every robo marker up front, so a typo stops the run before provisioning."""
    for item in items:
        for name in MARKERS:
            marker_kwargs(item, name)


def _sigterm_as_interrupt() -> Any:
    """CI cancels with SIGTERM; make it a KeyboardInterrupt so finalizers still run."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        return None


def _session(request: pytest.FixtureRequest) -> RoboSession:
    return request.config.stash[SESSION_KEY]


# -- fixtures --------------------------------------------------------------------------------
@pytest.fixture
def robo(request: pytest.FixtureRequest) -> Iterator[Robo]:
    """Factory provisioning any number of rapyuta.io, rerobots and ROC resources in this test."""
    with _session(request).test(request.node) as factory:
        yield factory


@pytest.fixture
def online_device(robo: Robo, request: pytest.FixtureRequest) -> Any:
    """An ONLINE rapyuta.io Device matching @pytest.mark.online_device(name, labels, arch)."""
    kwargs = marker_kwargs(request.node, "online_device")
    device = robo.online_device(**kwargs)
    if device is None:
        wanted = ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) or "any"
        message = f"no ONLINE rapyuta.io device matches ({wanted})"
        if robo.settings.require_devices:
            pytest.fail(message + " and --robo-require-devices is set", pytrace=False)
        pytest.skip(message)
    return device


@pytest.fixture
def routed_network(robo: Robo, request: pytest.FixtureRequest) -> Any:
    """A ready rapyuta.io RoutedNetwork, configured by @pytest.mark.routed_network(...)."""
    kwargs = marker_kwargs(request.node, "routed_network")
    if kwargs.get("runtime") == "device" and kwargs.get("device") is None:
        kwargs["device"] = request.getfixturevalue("online_device")
    return robo.routed_network(**kwargs)


@pytest.fixture
def deployed_package(robo: Robo, request: pytest.FixtureRequest) -> Any:
    """A running rapyuta.io Deployment, bound to the test's routed network and device if used."""
    kwargs = marker_kwargs(request.node, "deployed_package")
    for name in ("online_device", "routed_network"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
    if not any(kwargs.get(k) for k in ("manifest", "package_id", "package_name")):
        pytest.fail(
            "deployed_package needs @pytest.mark.deployed_package(manifest=...) "
            "(or package_id=/package_name=)", pytrace=False,
        )
    return robo.deploy(**kwargs)


@pytest.fixture
def rerobots_instance(robo: Robo, request: pytest.FixtureRequest) -> Any:
    """A READY rerobots Instance with .ssh and .camera helpers, terminated at teardown."""
    kwargs = marker_kwargs(request.node, "rerobots_instance")
    if not kwargs.get("workspace_types") and not kwargs.get("wdeployment_id"):
        pytest.fail(
            "rerobots_instance needs @pytest.mark.rerobots_instance(workspace_types=[...]) "
            "or wdeployment_id=...", pytrace=False,
        )
    if kwargs.pop("shared", False):
        instance = robo.session.shared_instance(robo, kwargs)
        # A fresh ssh connection per test, so each test's recording holds its own traffic.
        robo.teardown.push("shared instance ssh", instance.stop_sshclient)
        robo.record.event(0.0, f"rerobots {instance.id[:8]}", "shared (rented once per worker)")
        return instance
    return robo.rerobots_instance(**kwargs)


@pytest.fixture
def roc_broker(robo: Robo, request: pytest.FixtureRequest) -> Any:
    """Endpoints of a running ROC broker (a local one, the sandbox's, or --roc-broker)."""
    return robo.roc_broker(**marker_kwargs(request.node, "roc_broker"))


@pytest.fixture
def roc_object(robo: Robo, roc_broker: Any, request: pytest.FixtureRequest) -> Any:
    """A proxy to a shared ROC object (@pytest.mark.roc_object('vnir')) with status and logs."""
    kwargs = marker_kwargs(request.node, "roc_object")
    if not kwargs.get("object_id"):
        pytest.fail("roc_object needs @pytest.mark.roc_object('<object id>')", pytrace=False)
    return robo.roc_object(kwargs["object_id"], timeout=kwargs.get("timeout", 2.0),
                           endpoints=roc_broker)


# -- reports ---------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    session = item.config.stash.get(SESSION_KEY, None)
    record = session.records.get(item.nodeid) if session is not None else None
    if record is not None:
        record.flush()
    if record is not None and call.when == "teardown":
        item.user_properties.extend(record.properties())
    report = yield
    if record is None:
        return report
    # On the call report (shown under failures, by -rP and by pytest-html) and, complete with
    # the teardown steps, on the teardown report; on a setup report only when setup failed.
    if call.when in ("call", "teardown") or report.failed:
        for title, text in record.sections():
            report.sections.append((title, text))
    if call.when == "teardown" and record.frames:
        _html_frames(item, report, record.frames)
    if call.when == "teardown":
        session.records.pop(item.nodeid, None)  # type: ignore[union-attr]
    return report


def _html_frames(item: pytest.Item, report: pytest.TestReport, frames: list[Any]) -> None:
    if not item.config.pluginmanager.hasplugin("html"):
        return
    try:
        from pytest_html import extras
    except ImportError:
        return
    found = getattr(report, "extras", [])
    for path in frames:
        data = base64.b64encode(path.read_bytes()).decode()
        found.append(extras.image(data, name=path.name, mime_type="image/jpeg", extension="jpg"))
    report.extras = found  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is None:
        return
    stats = session.stats
    if not (stats.provisioned or stats.leaked or stats.kept or stats.waited):
        return
    tr = terminalreporter
    tr.write_sep("-", "robofixtures")
    tr.write_line(
        f"mode {session.settings.mode}: provisioned {stats.provisioned}, torn down "
        f"{stats.torn_down}, leaked {len(stats.leaked)}, waited {stats.waited:.1f}s"
    )
    for line in stats.leaked:
        tr.write_line(f"LEAKED {line}", red=True)
    for line in stats.kept:
        tr.write_line(f"kept {line}", yellow=True)
    if stats.leaked or stats.kept:
        tr.write_line(
            f"delete them with: robofixtures reap --journal-dir {session.settings.journal_dir}"
        )


# -- xdist -----------------------------------------------------------------------------------
@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Give every worker the run id, so journal files and resource names share it."""
    session = node.config.stash[SESSION_KEY]
    node.workerinput["robo_run_id"] = session.run_id


@pytest.hookimpl(trylast=True)  # after pytest's own teardown of fixtures (e.g. on Ctrl-C)
def pytest_sessionfinish(session: pytest.Session) -> None:
    robo_session = session.config.stash.get(SESSION_KEY, None)
    if robo_session is None:
        return
    robo_session.close()  # the sandbox's leak check needs to run before the counts are sent
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["robo_stats"] = json.dumps(robo_session.stats.as_dict())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Collect a worker's counters; after a crash, reap what the worker left behind."""
    session = node.config.stash[SESSION_KEY]
    output = getattr(node, "workeroutput", None) or {}
    if "robo_stats" in output:
        session.stats.add(json.loads(output["robo_stats"]))
    if error and session.settings.mode != REPLAY:
        from .reaper import reap

        worker = node.gateway.id
        results = reap(session.settings.journal_dir, run_id=session.run_id, worker=worker)
        for line in results.failed:
            session.stats.leaked.append(f"{line} (worker {worker} crashed)")
        session.stats.torn_down += len(results.deleted)
