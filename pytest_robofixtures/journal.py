"""The run journal: every resource is written down before it is used.

One append-only JSON-lines file per run and worker. A ``created`` line is written (and flushed to
disk) as soon as the service has given the resource an id, a ``deleted`` line after teardown.
Whatever has a ``created`` line and no ``deleted`` line was left behind, by a crash, a SIGKILL or
``--robo-keep``, and is what ``robofixtures reap`` deletes.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class JournalEntry:
    """One resource as the journal knows it."""

    run_id: str
    worker: str
    kind: str  # e.g. "rapyuta.routed_network", "rerobots.instance"
    id: str
    name: str = ""
    endpoint: str = ""  # the API base URL it was created on
    sandbox: bool = False  # created on the embedded sandbox (its tokens are not secret)
    created_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.id)


class Journal:
    """Append-only journal of one worker of one run."""

    def __init__(self, directory: Path, run_id: str, worker: str) -> None:
        self.directory = Path(directory) / "journal"
        self.run_id = run_id
        self.worker = worker
        self.path = self.directory / f"{run_id}-{worker}.jsonl"
        self._lock = threading.Lock()

    def _append(self, record: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, sort_keys=True) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())  # must survive a SIGKILL right after

    def created(
        self, kind: str, id: str, *, name: str = "", endpoint: str = "", sandbox: bool = False,
        **extra: Any,
    ) -> JournalEntry:
        """Record a new resource; call it before the resource is used."""
        entry = JournalEntry(
            self.run_id, self.worker, kind, id, name, endpoint, sandbox, time.time(), extra
        )
        self._append({"event": "created", **asdict(entry)})
        return entry

    def deleted(self, kind: str, id: str) -> None:
        """Record that a resource is gone."""
        self._append({"event": "deleted", "kind": kind, "id": id, "run_id": self.run_id,
                      "worker": self.worker, "at": time.time()})


def pending(directory: Path, run_id: str | None = None) -> list[JournalEntry]:
    """Resources created and never deleted, over every journal file (or one run's)."""
    folder = Path(directory) / "journal"
    if not folder.is_dir():
        return []
    live: dict[tuple[str, str], JournalEntry] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill; the rest of the file is still good
            if run_id is not None and record.get("run_id") != run_id:
                continue
            key = (record.get("kind", ""), record.get("id", ""))
            if record.get("event") == "created":
                fields = {k: v for k, v in record.items() if k != "event"}
                live[key] = JournalEntry(**fields)
            elif record.get("event") == "deleted":
                live.pop(key, None)
    return sorted(live.values(), key=lambda e: e.created_at)


def mark_reaped(directory: Path, entry: JournalEntry) -> None:
    """Record, in the entry's own journal file, that the reaper deleted it."""
    Journal(directory, entry.run_id, entry.worker).deleted(entry.kind, entry.id)
