"""The ROC split: the server side (and the sandbox) never imports the client side."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest_robofixtures

PACKAGE = Path(pytest_robofixtures.__file__).parent
CLIENT = "pytest_robofixtures.roc.client"
SERVER = "pytest_robofixtures.roc.server"


def loaded_after(code: str) -> list[str]:
    """The pytest_robofixtures modules loaded in a fresh interpreter after running ``code``."""
    probe = (code + "\nimport json, sys\n"
             "print(json.dumps(sorted(m for m in sys.modules "
             "if m.startswith('pytest_robofixtures'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60, check=True)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_server_side_imports_no_client_module() -> None:
    mods = loaded_after("import pytest_robofixtures.roc.server as s; s.RocBroker; s.RocServer")
    assert SERVER in mods
    assert not [m for m in mods if m.startswith(CLIENT)], mods


def test_sandbox_roc_serves_objects_without_client_code() -> None:
    mods = loaded_after(
        "from pytest_robofixtures.roc.endpoints import Endpoints\n"
        "from pytest_robofixtures.roc.server import RocBroker\n"
        "from pytest_robofixtures.sim.roc_objects import start_sample_objects\n"
        "ep = Endpoints.free('127.0.0.1')\n"
        "b = RocBroker(ep).start()\n"
        "h = start_sample_objects(ep, status_period=0.05)\n"
        "h.stop(); b.stop()\n")
    assert "pytest_robofixtures.sim.roc_objects" in mods
    assert not [m for m in mods if m.startswith(CLIENT)], mods


def test_client_side_imports_no_server_module() -> None:
    mods = loaded_after("import pytest_robofixtures.roc.client as c; c.RocClient; c.StatusTree")
    assert CLIENT in mods
    assert not [m for m in mods if m.startswith(SERVER)], mods


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules a source file imports (relative imports resolved)."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join([*base, node.module] if node.module else base)
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
    return found


def test_no_source_under_sim_or_server_names_the_client_side() -> None:
    offenders = {}
    for folder in (PACKAGE / "sim", PACKAGE / "roc" / "server"):
        for path in folder.rglob("*.py"):
            bad = sorted(m for m in _imports(path)
                         if m == CLIENT or m.startswith(CLIENT + ".")
                         or m in ("pytest_robofixtures.roc",))
            if bad:
                offenders[str(path.relative_to(PACKAGE))] = bad
    assert not offenders, offenders


def test_public_names_and_paths_the_plugin_uses_still_resolve() -> None:
    from pytest_robofixtures.roc import (  # noqa: F401
        Endpoints,
        RocBroker,
        RocClient,
        RocLogger,
        RocProxy,
        RocServer,
        RocStatusUpdater,
        RocTimeout,
        StatusTree,
        ZmqRocTransport,
    )
    from pytest_robofixtures.roc.logs import log_subscriptions
    from pytest_robofixtures.roc.protocol import LOG_PREFIX
    from pytest_robofixtures.roc.pubsub import SubscriberFeed
    from pytest_robofixtures.roc.servers import run_simple_server  # the seed's path
    from pytest_robofixtures.roc.status import subscriptions_for

    assert log_subscriptions("") == [LOG_PREFIX.encode()]
    assert SubscriberFeed.__module__ == f"{CLIENT}.feed"
    assert RocServer.__module__ == f"{SERVER}.objects"
    assert RocStatusUpdater.__module__ == f"{SERVER}.status"
    assert callable(run_simple_server) and subscriptions_for("a")
