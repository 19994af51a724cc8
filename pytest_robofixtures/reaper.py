"""Delete what a crashed, killed or ``--robo-keep`` run left behind, from the run journal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .journal import JournalEntry, mark_reaped, pending
from .settings import MissingCredential, credential


@dataclass
class ReapResult:
    """What a reap did: one line per resource."""

    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)


def _describe(entry: JournalEntry) -> str:
    where = f"run {entry.run_id}/{entry.worker}"
    return f"{entry.kind} {entry.id} ({entry.name}) on {entry.endpoint} [{where}]"


def _rapyuta_client(entry: JournalEntry) -> object:
    from .rapyuta import Client

    if entry.sandbox:
        from .sim.sandbox import RAPYUTA_PROJECT, RAPYUTA_TOKEN

        token, project = RAPYUTA_TOKEN, RAPYUTA_PROJECT
    else:
        token, project = credential("RIO_AUTH_TOKEN"), credential("RIO_PROJECT")
    return Client(token, project, catalog_host=entry.endpoint, core_api_host=entry.endpoint)


def _rerobots_client(entry: JournalEntry) -> object:
    from .rerobots import APIClient

    if entry.sandbox:
        from .sim.sandbox import REROBOTS_TOKEN

        token = REROBOTS_TOKEN
    else:
        token = credential("REROBOTS_API_TOKEN")
    return APIClient(api_token=token, base_uri=entry.endpoint, ignore_env=True)


def _delete(entry: JournalEntry) -> None:
    from .rapyuta import errors as rio_errors
    from .rerobots import errors as rr_errors

    gone = (
        rio_errors.ResourceNotFoundError, rio_errors.PackageNotFound, rr_errors.InstanceNotFound
    )
    try:
        if entry.kind == "rapyuta.routed_network":
            _rapyuta_client(entry).delete_routed_network(entry.id)  # type: ignore[attr-defined]
        elif entry.kind == "rapyuta.deployment":
            client = _rapyuta_client(entry)
            client.get_deployment(entry.id).deprovision()  # type: ignore[attr-defined]
        elif entry.kind == "rapyuta.package":
            _rapyuta_client(entry).delete_package(entry.id)  # type: ignore[attr-defined]
        elif entry.kind == "rerobots.instance":
            apic = _rerobots_client(entry)
            status = apic.get_instance_info(entry.id).get("status")  # type: ignore[attr-defined]
            if status not in ("TERMINATED", "INIT_FAIL", "TERMINATING"):
                apic.terminate_instance(entry.id)  # type: ignore[attr-defined]
        else:
            raise ValueError(f"unknown resource kind {entry.kind!r} in the journal")
    except gone:
        pass  # already deleted: nothing left to reap
    except Exception as exc:
        # A sandbox that stopped took its resources with it; a real service that cannot be
        # reached must be retried later.
        if not (entry.sandbox and _unreachable(exc)):
            raise


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


# Order matters: deployments before the packages and networks they use.
_ORDER = {"rapyuta.deployment": 0, "rerobots.instance": 1, "rapyuta.routed_network": 2,
          "rapyuta.package": 3}


def reap(
    journal_dir: Path, *, run_id: str | None = None, worker: str | None = None,
    dry_run: bool = False, say: Callable[[str], None] | None = None,
) -> ReapResult:
    """Delete every journaled resource that was created and never deleted."""
    result = ReapResult()
    entries = [e for e in pending(journal_dir, run_id) if worker is None or e.worker == worker]
    entries.sort(key=lambda e: (_ORDER.get(e.kind, 9), -e.created_at))
    for entry in entries:
        line = _describe(entry)
        if dry_run:
            result.planned.append(line)
            continue
        try:
            _delete(entry)
        except MissingCredential:
            raise  # the same for every entry: stop and say which variable
        except Exception as exc:
            result.failed.append(f"{line}: {exc}")
            if say:
                say(f"FAILED {line}: {exc}")
            continue
        mark_reaped(journal_dir, entry)
        result.deleted.append(line)
        if say:
            say(f"deleted {line}")
    return result
