"""pytest entry point: options, markers, fixtures and report hooks, composed from the core.

The fixtures and markers of the resource kinds come from the registry (:mod:`.kinds`); the run
mode is an object (:mod:`.modes`); one test's life is :mod:`.lifecycle`; reports are
:mod:`.reporting_hooks`. This module only wires them into pytest.
"""

from __future__ import annotations

import contextlib
import signal
import types
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from . import hookspecs, reporting_hooks
from .common.polling import use_poll_policy
from .factory import Robo
from .kinds import builtin_registry
from .kinds.base import Kind, Registry
from .lifecycle import shared_resources, test_scope
from .modes import RecordingOptions
from .recording.config import RecordingConfig
from .recording.loadcache import set_default_cache_dir
from .session import RoboSession
from .settings import add_options, load_settings
from .shared import SharedResources

SESSION_KEY = pytest.StashKey[RoboSession]()
SHARED_KEY = pytest.StashKey[SharedResources]()
REGISTRY_KEY = pytest.StashKey[Registry]()
_SIGTERM_KEY = pytest.StashKey[Any]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    session = RoboSession(config, load_settings(config))
    config.stash[SESSION_KEY] = session
    # Parsed recordings are cached (by content hash) beside the journal, not in $HOME.
    set_default_cache_dir(session.settings.journal_dir / "parsed-recordings")
    registry = config.stash[REGISTRY_KEY] = builtin_registry()
    shared = config.stash[SHARED_KEY] = shared_resources(session, registry)
    config.pluginmanager.register(reporting_hooks.ReportHooks(session, shared),
                                  "robofixtures-reports")

    def offer(kind: Kind[Any]) -> None:
        config.addinivalue_line("markers", kind.marker_line)
        name = f"robofixtures-kind-{kind.name}"
        if config.pluginmanager.get_plugin(name) is None:
            config.pluginmanager.register(_fixture_module(kind, registry), name)

    for kind in registry.kinds.values():
        offer(kind)
    registry.on_register(offer)  # kinds a conftest or plugin registers later
    config.hook.pytest_robofixtures_configure.call_historic(
        kwargs={"config": config, "settings": session.settings, "registry": registry})
    if session.mode.live:
        config.stash[_SIGTERM_KEY] = _sigterm_as_interrupt()
    # How clients poll for the whole run: SDK-like against real services, dense otherwise.
    policy = contextlib.ExitStack()
    policy.enter_context(use_poll_policy(session.mode.poll_policy()))
    config.add_cleanup(policy.close)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        config.stash[SHARED_KEY].close()
        session.close()
    previous = config.stash.get(_SIGTERM_KEY, None)
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Validate every robo marker up front, so a typo stops the run before provisioning."""
    registry = config.stash[REGISTRY_KEY]
    for item in items:
        registry.check_item(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """``--robo-block-network``: one network guard around every test of a replay run."""
    robo_session = session.config.stash[SESSION_KEY]
    with robo_session.mode.run_guard():
        return (yield)


def _sigterm_as_interrupt() -> Any:
    """CI cancels with SIGTERM; make it a KeyboardInterrupt so finalizers still run."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        return None


# -- fixtures --------------------------------------------------------------------------------
@pytest.fixture
def robo_config() -> dict[str, Any]:
    """Recording settings (scrub, match, allowed hosts) of the tests in scope; override per scope.

    Like pytest-recording's ``vcr_config``: return a dict with any of scrub_fields,
    scrub_headers, scrub_query_params, scrub_patterns, scrub_hooks, ignore_json_paths,
    ignore_query_params, match_hooks, volatile_fields, allowed_hosts. Secret scrubbing always
    stays on.
    """
    return {}


@pytest.fixture
def robo_cassette_dir(request: pytest.FixtureRequest) -> Path:
    """The directory this test's recording lives under; override it to move recordings."""
    return request.config.stash[SESSION_KEY].settings.cassette_dir


@pytest.fixture
def robo(request: pytest.FixtureRequest, robo_config: dict[str, Any],
         robo_cassette_dir: Path) -> Iterator[Robo]:
    """Factory provisioning any number of rapyuta.io, rerobots and ROC resources in this test."""
    options = _recording_options(robo_config, request.node.nodeid)
    options.cassette_dir = Path(robo_cassette_dir)
    config = request.config
    with test_scope(config.stash[SESSION_KEY], config.stash[REGISTRY_KEY], request.node,
                    options) as factory:
        yield factory


def _recording_options(config: Any, where: str) -> RecordingOptions:
    try:
        return RecordingOptions(config=RecordingConfig.coerce(config))
    except (ValueError, TypeError) as exc:
        pytest.fail(f"{where}: {exc}", pytrace=False)


def _fixture_module(kind: Kind[Any], registry: Registry) -> types.ModuleType:
    """A plugin holding the fixture of ``kind`` (its docstring is ``pytest --fixtures``' line)."""
    def fixture(robo: Robo, request: pytest.FixtureRequest) -> Any:
        __tracebackhide__ = True
        kwargs = registry.marker_kwargs(request.node, kind.name)
        wants_sharing = getattr(kind, "wants_sharing", None)
        shared = (wants_sharing(kwargs) if wants_sharing is not None
                  else kwargs.pop("scope", "test") == "worker")
        if kind.shareable and shared:
            return request.config.stash[SHARED_KEY].get(kind, kwargs, robo)
        return reporting_hooks.classified(lambda: kind.fixture(robo, request, kwargs))  # noqa: B023

    fixture.__name__ = kind.name
    fixture.__doc__ = (type(kind).__doc__ or kind.help).strip().splitlines()[0]
    module = types.ModuleType(f"pytest_robofixtures.kinds.fixture_{kind.name}")
    setattr(module, kind.name, pytest.fixture(name=kind.name)(fixture))
    return module


# -- xdist -----------------------------------------------------------------------------------
@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Give every worker the run id and the controller's sandbox (one for the whole run)."""
    session = node.config.stash[SESSION_KEY]
    node.workerinput["robo_run_id"] = session.run_id
    shared = session.mode.describe_shared()
    if shared is not None:
        node.workerinput["robo_sandbox"] = shared


__all__ = ["REGISTRY_KEY", "SESSION_KEY", "SHARED_KEY"]
