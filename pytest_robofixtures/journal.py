"""The run journal: intent before action.

One append-only JSON-lines file per run and worker, fsynced line by line. For every resource:

* ``intent``: written before the create request is sent, with the resource's unique name, the
  service endpoint and its parent resources. A run killed while the request is in flight, or a
  reply that is lost, still leaves this line, so ``robofixtures reap`` can look the name up.
* ``created``: the id, as soon as the service's reply gives it.
* ``deleted``: after teardown (or after the reaper deleted it, or found nothing to delete).
* ``kept``: ``--robo-keep`` left it on purpose (it stays pending for the reaper).

Entries are keyed by run, worker, kind and name, so two runs never cancel each other even when a
service hands out the same ids again.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class JournalEntry:
    """One resource as the journal knows it."""

    run_id: str
    worker: str
    kind: str  # e.g. "rapyuta.routed_network", "rerobots.instance"
    id: str = ""  # empty while only the intent is known
    name: str = ""
    endpoint: str = ""  # the API base URL it was created on
    sandbox: bool = False  # created on the embedded sandbox (its tokens are not secret)
    created_at: float = 0.0
    parents: list[str] = field(default_factory=list)
    kept: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.run_id, self.worker, self.kind, self.name or self.id)


class Journal:
    """Append-only journal of one worker of one run."""

    def __init__(self, directory: Path, run_id: str, worker: str, sandbox: bool = False) -> None:
        self.directory = Path(directory) / "journal"
        self.run_id = run_id
        self.worker = worker
        self.sandbox = sandbox
        self.path = self.directory / f"{run_id}-{worker}.jsonl"
        self._lock = threading.Lock()

    def _append(self, record: dict[str, Any]) -> None:
        record = {"run_id": self.run_id, "worker": self.worker, "at": time.time(), **record}
        line = json.dumps(record, sort_keys=True) + "\n"
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())  # must survive a SIGKILL right after

    def intent(
        self, kind: str, name: str, *, endpoint: str = "", parents: Iterable[str] = (),
        **extra: Any,
    ) -> JournalEntry:
        """Record that ``name`` is about to be created; call it before the create request."""
        entry = JournalEntry(self.run_id, self.worker, kind, "", name, endpoint, self.sandbox,
                             time.time(), list(parents), False, dict(extra))
        self._append({"event": "intent", **_fields(entry)})
        return entry

    def created(self, kind: str, name: str, id: str) -> None:
        """Record the id the service gave ``name``."""
        self._append({"event": "created", "kind": kind, "name": name, "id": id})

    def update(self, kind: str, name: str, **extra: Any) -> None:
        """Add facts to an entry (e.g. where a create was sent), durably, before they matter."""
        self._append({"event": "update", "kind": kind, "name": name, "extra": extra})

    def deleted(self, kind: str, name: str, id: str = "") -> None:
        """Record that a resource is gone (or never came to exist)."""
        self._append({"event": "deleted", "kind": kind, "name": name, "id": id})

    def kept(self, kind: str, name: str, id: str = "") -> None:
        """Record that ``--robo-keep`` left the resource on purpose."""
        self._append({"event": "kept", "kind": kind, "name": name, "id": id})


def _fields(entry: JournalEntry) -> dict[str, Any]:
    data = asdict(entry)
    data.pop("kept")
    return data


@dataclass
class JournalCounts:
    """Per-worker totals computed from journal files (what the summary shows)."""

    created: int = 0
    deleted: int = 0
    kept: int = 0
    pending: list[JournalEntry] = field(default_factory=list)


def read(directory: Path, run_id: str | None = None) -> dict[str, JournalEntry]:
    """Every resource of the journal files (of one run, or all), by key, with its last state.

    Resources whose last line is ``deleted`` are left out.
    """
    folder = Path(directory) / "journal"
    live: dict[tuple[str, str, str, str], JournalEntry] = {}
    if not folder.is_dir():
        return {}
    for path in sorted(folder.glob("*.jsonl")):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill; the rest of the file is still good
            if not isinstance(record, dict):
                continue
            if run_id is not None and record.get("run_id") != run_id:
                continue
            _apply(live, record)
    return {"/".join(k): v for k, v in live.items()}


def _apply(live: dict[tuple[str, str, str, str], JournalEntry], record: dict[str, Any]) -> None:
    event = record.get("event")
    run, worker = str(record.get("run_id", "")), str(record.get("worker", ""))
    kind, name, ident = (str(record.get(k) or "") for k in ("kind", "name", "id"))
    key = (run, worker, kind, name or ident)
    if key not in live and ident:
        # Older journals wrote deletes by id only; find the entry by id within the run.
        for other_key, entry in live.items():
            if other_key[:3] == key[:3] and entry.id == ident:
                key = other_key
                break
    if event in ("intent", "created") and key not in live:
        fields = {k: record[k] for k in JournalEntry.__dataclass_fields__ if k in record}
        fields.update(run_id=run, worker=worker, kind=kind)
        fields.setdefault("created_at", float(record.get("at") or 0.0))
        live[key] = JournalEntry(**fields)
    if event == "created" and key in live and ident:
        live[key].id = ident
    elif event == "kept" and key in live:
        live[key].kept = True
    elif event == "update" and key in live:
        for field_name, value in dict(record.get("extra") or {}).items():
            known = live[key].extra.get(field_name)
            if isinstance(known, list) and isinstance(value, list):
                live[key].extra[field_name] = [*known, *value]
            else:
                live[key].extra[field_name] = value
    elif event == "deleted":
        live.pop(key, None)


def pending(directory: Path, run_id: str | None = None) -> list[JournalEntry]:
    """Resources intended or created and never deleted, over every journal file (or one run's)."""
    return sorted(read(directory, run_id).values(), key=lambda e: e.created_at)


def counts(directory: Path, run_id: str, worker: str | None = None) -> JournalCounts:
    """Created/deleted/kept totals of one run (optionally one worker), from the journal files."""
    folder = Path(directory) / "journal"
    result = JournalCounts()
    if not folder.is_dir():
        return result
    live: dict[tuple[str, str, str, str], JournalEntry] = {}
    for path in sorted(folder.glob(f"{run_id}-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict) or record.get("run_id") != run_id:
                continue
            if worker is not None and record.get("worker") != worker:
                continue
            event = record.get("event")
            if event == "created":
                result.created += 1
            elif event == "deleted" and record.get("id"):
                result.deleted += 1
            elif event == "kept":
                result.kept += 1
            _apply(live, record)
    result.pending = sorted(live.values(), key=lambda e: e.created_at)
    return result


def mark_reaped(directory: Path, entry: JournalEntry) -> None:
    """Record, in the entry's own journal file, that the reaper resolved it."""
    Journal(directory, entry.run_id, entry.worker).deleted(entry.kind, entry.name, entry.id)
