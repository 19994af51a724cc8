"""One test's life: open its scope, hand out its Robo, tear down, close the recording.

How the recording is closed depends on how the test ended.

The plugin's ``robo`` fixture is a thin wrapper over :func:`test_scope`.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from .errors import TeardownError
from .factory import Robo
from .kinds.base import Registry
from .modes import ModeScope, Outcome, RecordingOptions, ScopeResult
from .report import TestRecord, artifact_dir
from .session import RoboSession
from .shared import SharedResources
from .teardown import TeardownFailure


@dataclass
class PhaseOutcomes:
    """How the setup and call phases of a test ended (filled in by the report hook)."""

    phases: dict[str, str] = field(default_factory=dict)  # "setup"/"call" -> passed/failed
    infra: bool = False  # a phase failed with an InfraError
    interrupted: bool = False

    def outcome(self, config_error: bool) -> str:
        """What to do with the new recording."""
        if config_error:
            return Outcome.CONFIG_ERROR
        if self.interrupted or self.infra or self.phases.get("setup") != "passed" or (
                "call" not in self.phases):
            return Outcome.FAILED_ATTEMPT
        return Outcome.OK


OUTCOMES_KEY = pytest.StashKey[PhaseOutcomes]()


def make_robo(session: RoboSession, registry: Registry, scope: ModeScope, nodeid: str,
              record: TestRecord) -> Robo:
    """A Robo for ``scope``, with run-wide unique names when it records."""
    robo = Robo(session, scope, nodeid, record, registry)
    if scope.provisions:
        # Names unique across the tests of a run, yet the same every time this test is
        # recorded (whatever else ran): a tag of the test's id in each generated name.
        tag = hashlib.sha1(nodeid.encode()).hexdigest()[:6]
        scope.recorder.names.prefix = f"robo-{tag}"
    return robo


def shared_resources(session: RoboSession, registry: Registry) -> SharedResources:
    """The worker-shared resources of ``session``."""
    return SharedResources(session, session.mode,
                           lambda scope, nodeid, record: make_robo(session, registry, scope,
                                                                   nodeid, record))


@contextlib.contextmanager
def test_scope(session: RoboSession, registry: Registry, item: pytest.Item,
               options: RecordingOptions) -> Iterator[Robo]:
    """Open the test's recording, clock and guard; yield its Robo; tear down; close."""
    record = TestRecord(item.nodeid)
    session.records[item.nodeid] = record
    # The artifacts folder holds only this run's files of the test.
    shutil.rmtree(artifact_dir(session.settings.artifacts_dir, item.nodeid), ignore_errors=True)
    scope = session.mode.open_test(item.nodeid, options)
    record.recording = scope.recorder.path
    record.scrub = scope.recorder.scrubber.text
    robo = make_robo(session, registry, scope, item.nodeid, record)
    failures: list[TeardownFailure] = []
    try:
        with scope.active():
            try:
                yield robo
            finally:
                failures = robo.close()
    finally:
        outcomes = item.stash.get(OUTCOMES_KEY, PhaseOutcomes())
        if failures:
            outcomes.infra = True
        result = scope.close(outcomes.outcome(robo.config_error))
        _note(robo, record, result)
        if result.unused:
            session.stats.unused[item.nodeid] = list(result.unused)
        if result.note:
            session.stats.notes.append(f"{item.nodeid}: {result.note}")
        if result.drift:
            session.stats.drifted[item.nodeid] = list(result.drift)
    if failures:
        first = failures[0]
        raise TeardownError(
            f"teardown failed for {len(failures)} resource(s); first: {first}. Run "
            f"`robofixtures reap --journal-dir {session.settings.journal_dir}` to delete what "
            "is left."
        ) from first.error
    if result.drift and session.settings.drift == "strict":
        listed = "\n  ".join(result.drift)
        pytest.fail(f"--robo-drift=strict: the service's answers drifted from {result.path}:"
                    f"\n  {listed}", pytrace=False)
    if result.unused and session.settings.strict_replay:
        listed = "\n  ".join(result.unused)
        pytest.fail(
            f"--robo-strict-replay: {len(result.unused)} recorded interaction(s) of "
            f"{result.path} were never requested:\n  {listed}", pytrace=False)


def _note(robo: Robo, record: TestRecord, result: ScopeResult) -> None:
    if result.skipped_waiting:
        record.event(robo.elapsed(), "replay clock",
                     f"skipped {result.skipped_waiting:.1f}s of waiting")
    record.unused = list(result.unused)
    record.drift = list(result.drift)
    record.drift_checked = result.drift_checked
    if result.note:
        record.event(robo.elapsed(), "recording", result.note)
        record.notes.append(result.note)


__all__ = ["OUTCOMES_KEY", "PhaseOutcomes", "make_robo", "shared_resources", "test_scope"]
