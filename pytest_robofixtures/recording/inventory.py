"""Recording maintenance: list the recordings under a root, find orphans and stale ones, delete.

For ``robofixtures cassettes``::

    infos = list_recordings(root)                       # sorted by directory
    for info in infos: print(info.line(root))
    gone = orphans(infos, collected_nodeids)            # test no longer exists
    old = older_than(infos, days=90)                    # by recorded-at date
    for info in gone: delete_recording(info.directory, root)
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .paths import BLOBS_DIR, FAILED_FILE, RECORDING_FILE
from .stable import read_document

_OWN_FILES = frozenset({RECORDING_FILE, FAILED_FILE})


@dataclass(frozen=True)
class RecordingInfo:
    """What one recording directory holds."""

    directory: Path
    nodeid: str | None  # the test it belongs to (None: a shared fixture's recording)
    scope: str | None  # the shared fixture scope (``metadata.scope``), if any
    recorded_at: dt.datetime | None
    size: int  # bytes on disk: the recording files and blobs
    counts: dict[str, int] = field(default_factory=dict)  # per transport, repeats counted
    failed_attempt: bool = False  # a recording.failed.yaml lies beside it
    problem: str | None = None  # why it could not be read (then counts are empty)

    @property
    def has_recording(self) -> bool:
        """True when ``recording.yaml`` exists (not only a failed attempt)."""
        return (self.directory / RECORDING_FILE).is_file()

    def age_days(self, now: dt.datetime | None = None) -> float | None:
        """Days since it was recorded (None when the date is unknown)."""
        if self.recorded_at is None:
            return None
        now = now or dt.datetime.now(dt.timezone.utc)
        return (now - self.recorded_at).total_seconds() / 86400

    def line(self, root: str | Path | None = None) -> str:
        """One listing line: where, size, counts, date, owner."""
        where = str(self.directory.relative_to(root) if root is not None else self.directory)
        counts = " ".join(f"{k} {v}" for k, v in self.counts.items() if v) or "empty"
        date = self.recorded_at.date().isoformat() if self.recorded_at else "?"
        owner = self.nodeid or (f"@{self.scope}" if self.scope else "?")
        extra = "  [+failed attempt]" if self.failed_attempt else ""
        if self.problem:
            extra += f"  [unreadable: {self.problem}]"
        return f"{where}  {human_size(self.size)}  {counts}  {date}  {owner}{extra}"


def human_size(n: int) -> str:
    """``532 B``, ``12.3 KiB``, ``4.0 MiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def _size(directory: Path) -> int:
    total = 0
    for name in _OWN_FILES:
        p = directory / name
        if p.is_file():
            total += p.stat().st_size
    blobs = directory / BLOBS_DIR
    if blobs.is_dir():
        total += sum(p.stat().st_size for p in blobs.iterdir() if p.is_file())
    return total


def _parse_date(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _counts(doc: dict[str, Any]) -> dict[str, int]:
    roc = doc.get("roc") or {}
    return {
        "http": len(doc.get("http") or []),
        "ssh": len(doc.get("ssh") or []),
        "roc": len(roc.get("calls") or []),
        "feed": sum(len(f.get("items") or []) for f in roc.get("feeds") or []),
        "names": len(doc.get("names") or []),
    }


def recording_info(directory: str | Path) -> RecordingInfo:
    """The inventory entry of one recording directory."""
    d = Path(directory)
    failed = (d / FAILED_FILE).is_file()
    source = d / RECORDING_FILE if (d / RECORDING_FILE).is_file() else d / FAILED_FILE
    try:
        doc = read_document(source)
    except Exception as exc:  # any unreadable file is listed, not fatal to the listing
        return RecordingInfo(d, None, None, None, _size(d), {}, failed,
                             f"{type(exc).__name__}: {exc}"[:200])
    metadata = dict(doc.get("metadata") or {})
    nodeid = metadata.get("nodeid")
    scope = metadata.get("scope")
    return RecordingInfo(
        d, str(nodeid) if nodeid else None, str(scope) if scope else None,
        _parse_date(metadata.get("recorded_at")), _size(d), _counts(doc), failed,
    )


def list_recordings(root: str | Path) -> list[RecordingInfo]:
    """Every recording directory under ``root`` (sorted), failed-only attempts included."""
    base = Path(root)
    dirs: set[Path] = set()
    if base.is_dir():
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(n for n in dirnames if n != BLOBS_DIR)
            if _OWN_FILES & set(filenames):
                dirs.add(Path(dirpath))
    return [recording_info(d) for d in sorted(dirs)]


def orphans(infos: Iterable[RecordingInfo], nodeids: Iterable[str]) -> list[RecordingInfo]:
    """Test recordings whose nodeid is not among ``nodeids`` (the tests collected now).

    Parametrized tests: pass every collected id (``test_x[a]``...). Shared-fixture recordings
    (no nodeid) are never orphans here: they belong to fixtures, not tests.
    """
    known = set(nodeids)
    return [i for i in infos if i.nodeid is not None and i.nodeid not in known]


def older_than(
    infos: Iterable[RecordingInfo], days: float, now: dt.datetime | None = None
) -> list[RecordingInfo]:
    """Recordings recorded more than ``days`` ago (unknown dates are not listed)."""
    out = []
    for info in infos:
        age = info.age_days(now)
        if age is not None and age > days:
            out.append(info)
    return out


def delete_recording(directory: str | Path, root: str | Path) -> list[Path]:
    """Delete one recording directory under ``root``; returns the paths removed.

    Safe: the directory must be strictly inside ``root`` (after resolving), not a symlink,
    and hold a recording; only the recording's own files (``recording.yaml``,
    ``recording.failed.yaml``, ``blobs/``) are removed. The directory, and parents up to
    ``root`` that became empty, are removed when nothing else is left. ValueError otherwise.
    """
    base = Path(root).resolve()
    d = Path(directory)
    if d.is_symlink():
        raise ValueError(f"{d} is a symlink; not deleting")
    target = d.resolve()
    if target == base or base not in target.parents:
        raise ValueError(f"{d} is not inside the recordings root {base}")
    if not any((target / name).is_file() for name in _OWN_FILES):
        raise ValueError(f"{d} holds no recording")
    removed: list[Path] = []
    for name in sorted(_OWN_FILES):
        p = target / name
        if p.is_file() and not p.is_symlink():
            p.unlink()
            removed.append(p)
    blobs = target / BLOBS_DIR
    if blobs.is_dir() and not blobs.is_symlink():
        shutil.rmtree(blobs)
        removed.append(blobs)
    current = target
    while current != base and base in current.parents:
        try:
            current.rmdir()  # only when empty: someone else's files stay
        except OSError:
            break
        current = current.parent
    return removed
