"""Deterministic resource names: unique per run and worker when recording, recorded in replay."""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from .errors import RecordingMismatch

_NOT_NAME = re.compile(r"[^a-z0-9-]+")
MAX_NAME = 63
# "<run id>-<worker>" of every recording NameFactory of this process: saving a bundle stores
# it as one token, so names made by a shared fixture's factory are covered too.
_run_tokens: list[str] = []
_run_tokens_lock = threading.Lock()


def run_tokens() -> list[str]:
    """The ``<run id>-<worker>`` parts of the names made in this process (newest first)."""
    with _run_tokens_lock:
        return list(reversed(_run_tokens))


def new_run_id() -> str:
    """A short id for one run: seconds since 2024 in base 36 plus two random characters."""
    n = int(time.time()) - 1_704_067_200
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return (out or "0") + "".join(secrets.choice(digits) for _ in range(2))


def worker_id() -> str:
    """The pytest-xdist worker id (``gw0``...) or ``main``."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


class NameFactory:
    """Resource names: unique per run and worker when recording, the recorded ones in replay.

    Record: ``robo-<runid>-<worker>-<n>-<hint>``. Replay: the recorded names in order, so request
    bodies that contain names match.
    """

    def __init__(
        self,
        mode: str,
        recorded: list[dict[str, Any]] | None = None,
        run_id: str | None = None,
        worker: str | None = None,
        prefix: str = "robo",
        on_mismatch: Callable[[str, str | None, list[str]], RecordingMismatch] | None = None,
    ) -> None:
        self.mode = mode
        self.run_id = run_id or new_run_id()
        self.worker = worker or worker_id()
        self.prefix = prefix
        self.made: list[dict[str, Any]] = [] if mode == "record" else list(recorded or [])
        self._next = 0
        self._lock = threading.Lock()
        self._on_mismatch = on_mismatch
        if mode == "record":
            token = _NOT_NAME.sub("-", f"{self.run_id}-{self.worker}".lower())
            with _run_tokens_lock:
                if token not in _run_tokens:
                    _run_tokens.append(token)

    def new(self, hint: str = "res") -> str:
        """The next name; ``hint`` says what it names (``net``, ``deploy``...)."""
        hint_s = _NOT_NAME.sub("-", hint.lower()).strip("-") or "res"
        with self._lock:
            if self.mode == "record":
                n = len(self.made) + 1
                base = f"{self.prefix}-{self.run_id}-{self.worker}-{n}"
                name = _NOT_NAME.sub("-", f"{base}-{hint_s}".lower())[:MAX_NAME].rstrip("-")
                self.made.append({"hint": hint_s, "name": name})
                return name
            index = self._next
            if index >= len(self.made) or self.made[index]["hint"] != hint_s:
                recorded = self.made[index] if index < len(self.made) else None
                nearest = (
                    f"name #{index + 1} for {recorded['hint']!r}: {recorded['name']}"
                    if recorded else None
                )
                diffs = (
                    [f"hint: recorded {recorded['hint']!r}, got {hint_s!r}"] if recorded else
                    [f"only {len(self.made)} name(s) were made when recording"]
                )
                if self._on_mismatch is None:
                    raise ValueError(f"name #{index + 1} for {hint_s!r} is not in the recording")
                raise self._on_mismatch(f"name #{index + 1} for {hint_s!r}", nearest, diffs)
            self._next += 1
            return str(self.made[index]["name"])

    __call__ = new

    @property
    def unused(self) -> list[str]:
        """Recorded names replay did not ask for."""
        return [str(m["name"]) for m in self.made[self._next:]] if self.mode != "record" else []
