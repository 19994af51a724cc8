"""Delete what a crashed, killed or ``--robo-keep`` run left behind, from the run journals.

Every pending journal entry is resolved: an intent without an id is looked up by its unique
name on the service (a lost reply or a kill mid-request leaves exactly that); what exists is
deleted in dependency order (deployments, then instances, networks and packages), transient
errors are retried with backoff, and passes repeat until nothing changes (a network refused
because a deployment still uses it goes in a later pass).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .journal import JournalEntry, mark_reaped, pending
from .kinds import Registry, builtin_registry
from .settings import MissingCredential, credential
from .teardown import describe_error


@dataclass
class ReapResult:
    """What a reap did: one line per resource."""

    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # intents whose create never happened


def _describe(entry: JournalEntry) -> str:
    where = f"run {entry.run_id}/{entry.worker}"
    ident = entry.id or "(no id yet)"
    return f"{entry.kind} {ident} ({entry.name}) on {entry.endpoint} [{where}]"


class EntryClients:
    """The rapyuta.io and rerobots clients for one journal entry's service and credentials."""

    handles: dict[str, Any] = {}

    def __init__(self, entry: JournalEntry) -> None:
        self.entry = entry

    @property
    def rapyuta(self) -> Any:
        from .rapyuta import Client

        if self.entry.sandbox:
            from .sim.tokens import RAPYUTA_PROJECT, RAPYUTA_TOKEN

            token, project = RAPYUTA_TOKEN, RAPYUTA_PROJECT
        else:
            token, project = credential("RIO_AUTH_TOKEN"), credential("RIO_PROJECT")
        return Client(token, project, catalog_host=self.entry.endpoint,
                      core_api_host=self.entry.endpoint)

    @property
    def rerobots(self) -> Any:
        from .rerobots import APIClient

        if self.entry.sandbox:
            from .sim.tokens import REROBOTS_TOKEN

            token = REROBOTS_TOKEN
        else:
            token = credential("REROBOTS_API_TOKEN")
        return APIClient(api_token=token, base_uri=self.entry.endpoint, ignore_env=True)


def _unreachable(exc: BaseException | None) -> bool:
    """Whether an error (or one it was raised from) is a refused or failed connection."""
    import requests

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, requests.exceptions.ConnectionError) or type(exc).__name__ == (
            "APIConnectionError"
        ):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _resolve(entry: JournalEntry, registry: Registry) -> str:
    """Delete one entry's resource; "deleted", "absent"; raises when it must be tried again."""
    rtype = registry.types.get(entry.kind)
    if rtype is None:
        raise ValueError(f"unknown resource kind {entry.kind!r} in the journal")
    clients = EntryClients(entry)
    try:
        ident = entry.id or rtype.find(clients, entry.name, entry.extra)
        if not ident:
            return "absent"
        entry.id = ident
        # wait: "deleted" means gone (a rerobots instance TERMINATED, not TERMINATING)
        rtype.delete(clients, ident, True, 60.0)
    except rtype.gone:
        return "deleted"  # already gone: nothing left to reap
    except MissingCredential:
        raise
    except Exception as exc:
        # A sandbox that stopped took its resources with it.
        if entry.sandbox and _unreachable(exc):
            return "deleted"
        raise
    return "deleted"


def reap(
    journal_dir: Path, *, run_id: str | None = None, worker: str | None = None,
    dry_run: bool = False, say: Callable[[str], None] | None = None,
    registry: Registry | None = None, passes: int = 4, backoff: float = 0.5,
) -> ReapResult:
    """Delete every journaled resource that was intended or created and never deleted."""
    registry = registry if registry is not None else builtin_registry()
    result = ReapResult()
    entries = [e for e in pending(journal_dir, run_id) if worker is None or e.worker == worker]
    entries.sort(key=lambda e: (registry.reap_order(e.kind), -e.created_at))
    if dry_run:
        result.planned = [_describe(e) for e in entries]
        return result
    errors: dict[str, str] = {}
    for attempt in range(passes):
        if not entries:
            break
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        left: list[JournalEntry] = []
        for entry in entries:
            try:
                state = _resolve(entry, registry)
            except MissingCredential:
                raise  # the same for every entry: stop and say which variable
            except Exception as exc:
                errors[entry.name or entry.id] = describe_error(exc)
                left.append(entry)
                continue
            mark_reaped(journal_dir, entry)
            line = _describe(entry)
            if state == "absent":
                result.absent.append(line)
                if say:
                    say(f"never created {line}")
            else:
                result.deleted.append(line)
                if say:
                    say(f"deleted {line}")
        if len(left) == len(entries):
            entries = left
            if attempt == passes - 1:
                break
            continue
        entries = left
    for entry in entries:
        line = f"{_describe(entry)}: {errors.get(entry.name or entry.id, 'not deleted')}"
        result.failed.append(line)
        if say:
            say(f"FAILED {line}")
    return result
