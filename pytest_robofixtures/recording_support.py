"""Glue between the plugin and the recording engine: one Recorder per test, checks of a tree."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .recording import (
    RECORDING_FILE,
    Bundle,
    Recorder,
    RecordingError,
    Scrubber,
    recording_path,
    scan_for_secrets,
)
from .settings import LIVE, REPLAY

if TYPE_CHECKING:
    from .session import RoboSession

#: Credentials scrubbed wherever they appear (live values are read from the environment).
CREDENTIAL_VARS = ("RIO_AUTH_TOKEN", "RIO_PROJECT", "REROBOTS_API_TOKEN")


def make_scrubber(session: RoboSession) -> Scrubber:
    """The default scrubber plus the user's ini additions and the run's known secrets."""
    from .session import REPLAY_TOKEN
    from .sim.sandbox import RAPYUTA_PROJECT, RAPYUTA_TOKEN, REROBOTS_TOKEN

    secrets = [os.environ.get(name, "") for name in CREDENTIAL_VARS]
    # The sandbox's and replay's tokens are not secret, but scrubbing them the same way keeps
    # recordings identical whichever mode made them, and replay matching symmetric.
    secrets += [RAPYUTA_TOKEN, RAPYUTA_PROJECT, REROBOTS_TOKEN, REPLAY_TOKEN]
    return Scrubber(
        secrets=[s for s in secrets if s],
        fields=session.settings.scrub_fields,
        patterns=session.settings.scrub_patterns,
    )


def rerecord_command(session: RoboSession, nodeid: str) -> str:
    flag = "--robo-live" if session.settings.mode == LIVE else "--robo-sim"
    return f"pytest '{nodeid}' {flag}"


def open_recorder(session: RoboSession, item: pytest.Item) -> Recorder:
    """Open the test's recording: load it (replay) or start a new one (live/sim)."""
    settings = session.settings
    path = recording_path(settings.cassette_dir, item.nodeid)
    command = rerecord_command(session, item.nodeid)
    if settings.mode == REPLAY:
        command = f"pytest '{item.nodeid}' --robo-sim (or --robo-live)"
        return Recorder.open(path, "replay", command, make_scrubber(session),
                             run_id=session.run_id, worker=session.worker)
    from . import __version__

    recorder = Recorder.open(
        path, "record", command, make_scrubber(session),
        metadata={"nodeid": item.nodeid, "mode": settings.mode, "plugin": __version__},
        run_id=session.run_id, worker=session.worker,
    )
    for name, url in session.public_endpoints().items():
        recorder.set_endpoint(name, url)
    return recorder


def open_scope_recorder(session: RoboSession, scope: str) -> Recorder:
    """The recording of a resource shared across tests (``cassettes/@session/@<scope>/``)."""
    settings = session.settings
    path = recording_path(settings.cassette_dir, "", scope_name=scope)
    if settings.mode == REPLAY:
        command = f"pytest --robo-sim (or --robo-live) the tests sharing {scope}"
        return Recorder.open(path, "replay", command, make_scrubber(session),
                             run_id=session.run_id, worker=session.worker)
    from . import __version__

    flag = "--robo-live" if settings.mode == LIVE else "--robo-sim"
    recorder = Recorder.open(
        path, "record", f"pytest {flag} the tests sharing {scope}", make_scrubber(session),
        metadata={"scope": scope, "mode": settings.mode, "plugin": __version__},
        run_id=session.run_id, worker=session.worker,
    )
    for name, url in session.public_endpoints().items():
        recorder.set_endpoint(name, url)
    return recorder


def check_recordings(root: Path, tokens: list[str]) -> list[str]:
    """Load every recording under ``root`` and scan all files for secrets: problem lines."""
    problems: list[str] = []
    for path in sorted(Path(root).rglob(RECORDING_FILE)):
        try:
            Bundle.load(path.parent, f"re-record the test that wrote {path}")
        except RecordingError as exc:
            problems.append(f"{path}: {exc}")
    for finding in scan_for_secrets([root], tokens):
        problems.append(f"{finding.path}:{finding.line}: {finding.kind} {finding.detail}")
    return problems
