"""Request matching for replay: normalization of volatile values, keys, ordered queues, diffs."""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext.parser import parse as parse_jsonpath

T = TypeVar("T")

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
VOLATILE = "<volatile>"
DEFAULT_VOLATILE_FIELDS: frozenset[str] = frozenset({
    "created_at", "createdat", "updated_at", "deleted_at", "starttime", "start_time", "endtime",
    "end_time", "timestamp", "ts", "time", "date", "expires", "expires_at", "expiry", "last_seen",
    "lastseen", "request_id", "requestid", "nonce",
})


def _norm_field(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def compile_json_path(path: str) -> JSONPath:
    """A JSONPath (``$.a.b``, ``items[*].ts``, ``$..stamp``); ValueError when it does not parse."""
    try:
        return parse_jsonpath(path if path.startswith("$") else "$." + path)
    except (JsonPathParserError, Exception) as exc:  # the parser raises plain Exceptions too
        raise ValueError(f"invalid JSON path {path!r}: {exc}") from None


_DEFAULT_NORMALIZED = frozenset(_norm_field(f) for f in DEFAULT_VOLATILE_FIELDS)


@dataclass
class Normalizer:
    """Makes request data comparable: volatile fields and client-made uuids become placeholders.

    Uuids seen in recorded *responses* (``known_ids``) stay as they are: they are resource ids,
    which replay identically; any other uuid in a request was made up by the client.
    """

    volatile_fields: frozenset[str] = DEFAULT_VOLATILE_FIELDS
    known_ids: set[str] = field(default_factory=set)
    #: JSON paths left out of bodies (HTTP) and params (ROC) when matching.
    ignore_paths: list[str] = field(default_factory=list)
    #: Query parameters left out when matching (names compared case-sensitively, as sent).
    ignore_query: set[str] = field(default_factory=set)
    #: Custom matchers: ``fn(data) -> data`` on each JSON body (HTTP) and params (ROC), both
    #: the recorded and the live side, after ignored paths are dropped.
    body_hooks: list[Callable[[Any], Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._fields = (set(_DEFAULT_NORMALIZED) if self.volatile_fields is DEFAULT_VOLATILE_FIELDS
                        else {_norm_field(f) for f in self.volatile_fields})
        self._paths = [compile_json_path(p) for p in self.ignore_paths]

    def extend(self, fields: Iterable[str]) -> None:
        """Add volatile field names."""
        self._fields |= {_norm_field(f) for f in fields}

    def configure(
        self, ignore_paths: Iterable[str] = (), ignore_query: Iterable[str] = (),
        volatile_fields: Iterable[str] = (), body_hooks: Iterable[Callable[[Any], Any]] = (),
    ) -> Normalizer:
        """Add match rules (before replay starts: recorded keys are computed once)."""
        for p in ignore_paths:
            self._paths.append(compile_json_path(p))
            self.ignore_paths.append(p)
        self.ignore_query |= set(ignore_query)
        self.extend(volatile_fields)
        self.body_hooks.extend(body_hooks)
        return self

    def query(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Query pairs without the ignored parameters."""
        return [(k, v) for k, v in pairs if k not in self.ignore_query]

    client_ids: set[str] = field(default_factory=set)

    @staticmethod
    def uuids(obj: Any, into: set[str] | None = None) -> set[str]:
        """The uuids (lower-case) found anywhere in ``obj``."""
        found = set() if into is None else into
        if isinstance(obj, str):
            if len(obj) >= 36:
                found.update(m.lower() for m in UUID_RE.findall(obj))
        elif isinstance(obj, dict):
            for v in obj.values():
                Normalizer.uuids(v, found)
        elif isinstance(obj, list):
            for v in obj:
                Normalizer.uuids(v, found)
        return found

    def collect_ids(self, request: Any, response: Any) -> None:
        """Learn from one recorded exchange (call them in recorded order).

        A uuid first seen in a request was made up by the client; one first seen in a response
        is a resource id, which replays identically and so is kept when matching.
        """
        self.client_ids |= self.uuids(request) - self.known_ids
        self.known_ids |= self.uuids(response) - self.client_ids

    def _uuid(self, m: re.Match[str]) -> str:
        return m.group(0) if m.group(0).lower() in self.known_ids else "<uuid>"

    def value(self, obj: Any) -> Any:
        """Normalize JSON-like data (a whole body or params: ignored paths are dropped)."""
        if (self._paths or self.body_hooks) and isinstance(obj, (dict, list)):
            obj = copy.deepcopy(obj)
            for path in self._paths:
                obj = path.filter(lambda _v: True, obj)
            for hook in self.body_hooks:
                obj = hook(obj)
        return self._value(obj)

    def _value(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return UUID_RE.sub(self._uuid, obj) if len(obj) >= 36 else obj
        if isinstance(obj, dict):
            return {
                k: (VOLATILE if isinstance(k, str) and _norm_field(k) in self._fields
                    else self._value(v))
                for k, v in obj.items()
            }
        if isinstance(obj, list):
            return [self._value(v) for v in obj]
        return obj


def canonical(obj: Any) -> str:
    """A stable text form of JSON-like data, for keys."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def json_differences(recorded: Any, live: Any, path: str = "$", limit: int = 5) -> list[str]:
    """Where two JSON values differ, as ``$.a.b: recorded X, got Y`` lines (at most ``limit``)."""
    out: list[str] = []

    def short(v: Any) -> str:
        text = json.dumps(v, default=str)
        return text if len(text) <= 80 else text[:77] + "..."

    def walk(a: Any, b: Any, p: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b), key=str):
                if k not in a:
                    out.append(f"{p}.{k}: not recorded, got {short(b[k])}")
                elif k not in b:
                    out.append(f"{p}.{k}: recorded {short(a[k])}, missing now")
                else:
                    walk(a[k], b[k], f"{p}.{k}")
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{p}[{i}]")
        elif a != b:
            out.append(f"{p}: recorded {short(a)}, got {short(b)}")

    walk(recorded, live, path)
    return out


class OrderedReplay(Generic[T]):
    """Recorded entries grouped by key, served per key in recorded order, the last repeating.

    Once a key's entries are used up its last one keeps being served, so a replay that polls
    once more than the recording still works.
    """

    def __init__(
        self,
        entries: list[T],
        key: Callable[[T], Hashable] | None = None,
        keys: list[Hashable] | None = None,
    ) -> None:
        self.entries = entries
        if keys is None:
            if key is None:
                raise TypeError("OrderedReplay needs key or keys")
            keys = [key(e) for e in entries]
        self.keys = keys
        self._queues: dict[Hashable, list[int]] = {}
        for i, k in enumerate(self.keys):
            self._queues.setdefault(k, []).append(i)
        self._pos: dict[Hashable, int] = {}
        self.play_counts = [0] * len(entries)
        self._lock = threading.Lock()

    def next(self, key: Hashable) -> tuple[int, T] | None:
        """The entry to serve for ``key``, or None when no recorded entry has that key."""
        queue = self._queues.get(key)
        if not queue:
            return None
        with self._lock:
            pos = self._pos.get(key, 0)
            index = queue[min(pos, len(queue) - 1)]
            self._pos[key] = pos + 1
            self.play_counts[index] += 1
        return index, self.entries[index]

    def unused(self) -> list[int]:
        """Indexes of entries never served."""
        return [i for i, n in enumerate(self.play_counts) if n == 0]

    def nearest(
        self, score: Callable[[T], Any], prefer_unplayed: bool = True
    ) -> tuple[int, T] | None:
        """The best-scoring entry (ties: the first not yet played, then the first)."""
        best: tuple[Any, int] | None = None
        for i, e in enumerate(self.entries):
            s = score(e)
            rank = (s, 1 if (prefer_unplayed and self.play_counts[i] == 0) else 0, -i)
            if best is None or rank > best[0]:
                best = (rank, i)
        if best is None:
            return None
        return best[1], self.entries[best[1]]
