"""Resources shared by the tests of one worker (``scope="worker"``), for any shareable kind.

Each shared resource is provisioned once per worker and configuration, in a scope of its own
with its own recording (``cassettes/@session/@<kind>-<digest>-<worker>/``). Each test's
recording notes which one it used, so a replay (with any number of workers) brings back the
very resource the test talked to. While a test uses it, the owner's ``delegate`` is that test's
Robo, so ssh traffic and camera frames land in the test's own recording and report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .context import RunContext
from .factory import Robo
from .kinds.base import Kind
from .modes import Mode, ModeScope, Outcome, RecordingOptions
from .recording import RecordingMismatch
from .report import TestRecord


@dataclass
class _Entry:
    owner: Robo
    scope: ModeScope
    resource: Any


class SharedResources:
    """The worker-shared resources of one pytest process."""

    def __init__(self, ctx: RunContext, mode: Mode,
                 make_robo: Callable[[ModeScope, str, TestRecord], Robo]) -> None:
        self.ctx = ctx
        self.mode = mode
        self.make_robo = make_robo
        self._entries: dict[str, _Entry] = {}

    def get(self, kind: Kind[Any], kwargs: dict[str, Any], robo: Robo) -> Any:
        """The shared resource of ``kind`` configured by ``kwargs``, handed to ``robo``'s test."""
        key = json.dumps(kind.share_key(kwargs), sort_keys=True, default=str)
        digest = hashlib.sha1(key.encode()).hexdigest()[:10]
        used = robo.recorder.metadata.setdefault("shared", {})
        if not robo.scope.provisions:
            scope_name = used.get(digest)
            if scope_name is None:
                raise RecordingMismatch(
                    robo.recorder.path, "shared resource", f"shared {kind.name} {key}", None,
                    [f"the recording used no shared {kind.name} with this configuration"],
                    f"pytest '{robo.nodeid}' --robo-sim (or --robo-live)",
                )
        else:
            scope_name = used[digest] = f"{kind.name}-{digest}-{self.ctx.worker}"
        entry = self._entries.get(scope_name)
        if entry is None:
            scope = self.mode.open_shared(scope_name, RecordingOptions())
            owner = self.make_robo(scope, f"@session/{scope_name}", TestRecord(scope_name))
            with scope.active():
                resource = kind.provision(owner, **kwargs)
            entry = self._entries[scope_name] = _Entry(owner, scope, resource)
        entry.owner.delegate = robo
        robo.teardown.push(f"release shared {kind.name}",
                           lambda: setattr(entry.owner, "delegate", None))
        kind.on_shared_use(entry.resource, robo)
        return entry.resource

    def close(self) -> None:
        """Tear the shared resources down and write their recordings."""
        while self._entries:
            _key, entry = self._entries.popitem()
            outcome = Outcome.OK
            try:
                with entry.scope.active():
                    failures = entry.owner.close()
                if failures:
                    outcome = Outcome.FAILED_ATTEMPT
            except BaseException:
                outcome = Outcome.FAILED_ATTEMPT
                raise
            finally:
                entry.scope.close(outcome)


__all__ = ["SharedResources"]
