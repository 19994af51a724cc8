"""Prove a secret never reaches the disk: an audit hook on file writes, and a scan of temp dirs."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_watch = threading.local()
_installed = False
_writes: list[str] = []


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event != "open" or not getattr(_watch, "on", False):
        return
    path, mode, flags = (list(args) + [None, None, None])[:3]
    writing = False
    if isinstance(mode, str):
        writing = any(c in mode for c in "wax+")
    elif isinstance(flags, int):
        writing = bool(flags & _WRITE_FLAGS)
    if writing:
        _writes.append(str(path))


@contextmanager
def no_file_writes() -> Iterator[list[str]]:
    """Record every file this thread opens for writing inside the block."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
    _writes.clear()
    _watch.on = True
    try:
        yield _writes
    finally:
        _watch.on = False


def key_fragments(private_key: str) -> list[str]:
    """Distinctive lines of a PEM/OpenSSH key body."""
    lines = [ln for ln in private_key.splitlines() if ln and not ln.startswith("-----")]
    return [ln for ln in lines if len(ln) >= 40][1:4]


def files_containing(fragments: list[str], roots: list[Path], since: float) -> list[Path]:
    """Files under ``roots`` modified at or after ``since`` that contain any fragment."""
    hits: list[Path] = []
    needles = [f.encode() for f in fragments]
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: None):
            dirnames[:] = [d for d in dirnames if d not in (".git", ".venv", "__pycache__")]
            for name in filenames:
                path = Path(dirpath, name)
                try:
                    st = path.lstat()
                    if not path.is_file() or st.st_mtime < since or st.st_size > 4_000_000:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(n in data for n in needles):
                    hits.append(path)
    return hits


def scan_roots() -> list[Path]:
    """Where a careless client would write a key: $TMPDIR and the working directory."""
    return [Path(tempfile.gettempdir()), Path.cwd()]
