"""A content-addressed cache of parsed recordings, so replay does not re-parse YAML every run.

``recording.yaml`` stays the only source of truth (readable, diffable, committed). Parsing it with
libyaml costs 10-50x a ``json.load`` of the same data, so the parsed document is also kept in
``marshal`` form under a cache directory, named by the sha256 of the YAML bytes: an entry can only
ever be used for byte-identical YAML, and editing, re-recording or checking out another version of
a recording simply misses the cache. ``marshal`` is the format of ``__pycache__`` (the same trust
model: files written by this user, in this user's cache), round-trips exactly the types a safe
YAML load produces except dates (a document holding those is not cached), and loads faster than
``json``. The Python, marshal and plugin versions are part of the entry name; callers store a
document only after it passed their checks.

Where: ``$ROBOFIXTURES_CACHE_DIR`` when set (``off`` disables the cache), else the directory given
to :func:`set_default_cache_dir`, else
``$XDG_CACHE_HOME/pytest-robofixtures/parsed`` (``~/.cache/...``). A cache that cannot be read or
written is ignored: loading never fails because of it.
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from .. import __version__

CACHE_VERSION = 2  # 2: entries hold the expanded (format-1-shaped) document
ENV_VAR = "ROBOFIXTURES_CACHE_DIR"
#: Past this many entries a write prunes the least recently written half.
MAX_ENTRIES = 2000
# The plugin version is in the name too: a stored document passed that version's load checks.
_SUFFIX = (f".py{sys.version_info[0]}{sys.version_info[1]}-m{marshal.version}-c{CACHE_VERSION}"
           f"-{__version__}")
_MAGIC = b"robofixtures-parsed"
_default_dir: Path | None = None


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large acyclic structure.

    Parsing allocates only fresh dicts, lists and strings with no cycles; collections triggered
    by those allocations find nothing and make loading grow faster than linearly with size.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def set_default_cache_dir(directory: str | Path | None) -> None:
    """The cache directory used when ``$ROBOFIXTURES_CACHE_DIR`` is unset (None: the default)."""
    global _default_dir
    _default_dir = Path(directory) if directory is not None else None


class ParseCache:
    """Parsed documents keyed by the sha256 of their source bytes (``directory`` None: off)."""

    def __init__(self, directory: str | Path | None) -> None:
        self.directory = Path(directory) if directory is not None else None

    @classmethod
    def default(cls) -> ParseCache:
        """The cache configured by the environment / :func:`set_default_cache_dir`."""
        env = os.environ.get(ENV_VAR)
        if env is not None:
            if env.strip().lower() in ("", "0", "off", "false", "no"):
                return cls(None)
            return cls(env)
        if _default_dir is not None:
            return cls(_default_dir)
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return cls(Path(base) / "pytest-robofixtures" / "parsed")

    def entry_path(self, digest: str) -> Path | None:
        """Where the entry for source bytes with sha256 ``digest`` lives (None: cache off)."""
        if self.directory is None:
            return None
        return self.directory / f"{digest}{_SUFFIX}"

    def lookup(self, data: bytes) -> tuple[str, Any]:
        """``(sha256 of data, the cached document or None)``."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.entry_path(digest)
        found = self._read(path, digest) if path is not None else None
        return digest, (found[0] if found is not None else None)

    def store(self, digest: str, doc: Any) -> None:
        """Keep ``doc`` as the parsed form of the bytes with sha256 ``digest``.

        Callers store a document only once it passed their checks, so a hit needs no
        re-validation of what depends on the bytes alone.
        """
        path = self.entry_path(digest)
        if path is not None:
            self._write(path, digest, doc)

    @staticmethod
    def _read(path: Path, digest: str) -> tuple[Any] | None:
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        try:
            with no_gc():
                magic, version, stored_digest, doc = marshal.loads(raw)
        except (ValueError, EOFError, TypeError):
            return None  # truncated or foreign: treated as a miss and rewritten
        if magic != _MAGIC or version != CACHE_VERSION or stored_digest != digest:
            return None
        return (doc,)

    def _write(self, path: Path, digest: str, doc: Any) -> None:
        try:
            payload = marshal.dumps((_MAGIC, CACHE_VERSION, digest, doc))
        except ValueError:
            return  # holds a type marshal cannot store (e.g. a YAML date): not cached
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(payload)
                os.replace(tmp, path)  # atomic: concurrent workers never see a partial entry
            except BaseException:
                with suppress(OSError):
                    os.unlink(tmp)
                raise
            self._prune(path.parent)
        except OSError:
            return  # read-only or full cache: loading still works, just slower

    @staticmethod
    def _prune(directory: Path) -> None:
        entries = [p for p in directory.iterdir() if not p.name.startswith(".")]
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda p: p.stat().st_mtime)
        for stale in entries[: len(entries) - MAX_ENTRIES // 2]:
            with suppress(OSError):
                stale.unlink()

