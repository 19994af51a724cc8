"""The low-churn stored form (format 2): everything that varies per run in one ``clock`` line.

Re-recording an unchanged test must leave ``recording.yaml`` byte-identical but for one line::

    format_version: 2
    clock: {recorded_at: '...', epoch: 1796136962.136, duration: 1.477,
            endpoints: {rapyuta_core: 'http://127.0.0.1:35017', ...}, run: 9f3bdae9-main,
            at: {http: [0.01, [0.3, 0.6, 0.9], ...], ssh: [...], roc: [...]},
            values: ['2026-12-01T14:56:02.239819Z', 41234, ...]}     (on one line)
    metadata: ...

:func:`stabilize` (save) moves the per-run values out of the entries:

- service base URLs become ``{name}`` (``{rapyuta_core}/routednetwork``), the URLs themselves
  live in ``clock.endpoints`` (``metadata.endpoints`` is restored from it on load);
- the run token of generated names (``<run id>-<worker>`` in ``robo-<run>-<worker>-<n>-<hint>``)
  becomes ``{run}``;
- volatile scalars become ``<~N>``, an index into ``clock.values``: ISO timestamps anywhere,
  numbers under time-like and log-record keys (``created``, ``msecs``, ``relativeCreated``,
  ``thread``, ``process``...), ssh ports and host keys;
- consecutive identical HTTP/SSH interactions are stored once; ``clock.at`` has a list of
  their times in that slot (the repeat count is its length);
- all per-interaction times (seconds since ``epoch``) are in ``clock.at``.

:func:`expand` (load) reverses all of it, so the in-memory bundle has the format-1 shape: every
repeat is its own entry again (replay serves each as often as recorded, exactly as before), and
``bundle.clock["at"]`` has one time per entry (None where unknown). Format-1 files load as they
are. When a token's text already occurs in the data, that kind of token is not used.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

FORMAT = 2
RUN_TOKEN = "{run}"
_VALUE_TOKEN = re.compile(r"<~([a-z0-9]+)\.([0-9]+)>")
_ENDPOINT_TOKEN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
ISO_TS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_TS_HEADER = re.compile(r"[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT")
#: Numbers under these keys (normalized: lower case, no ``_``/``-``) vary per run.
VOLATILE_NUMBER_KEYS = frozenset({
    "created", "msecs", "relativecreated", "thread", "process", "timestamp", "time", "ts",
    "stamp", "epoch", "createdat", "updatedat", "starttime", "endtime", "lastseen", "uptime",
    "pid", "tid",
})
#: Strings under these keys vary per run (host keys of machines the sandbox starts).
VOLATILE_STRING_KEYS = frozenset({"hostkey", "hostkeys", "hostpublickey", "fingerprint"})
_SECTIONS = ("metadata", "names", "http", "ssh", "roc")


def _norm(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def _strings(obj: Any) -> Iterable[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(k, str):
                yield k
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def _map_strings(obj: Any, fn: Callable[[str], Any]) -> Any:
    """``obj`` with every string value (not key) replaced by ``fn(value)``."""
    if isinstance(obj, str):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: _map_strings(v, fn) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_map_strings(v, fn) for v in obj]
    return obj


class _Values:
    """The ``clock.values`` table: per key, one slot per distinct value.

    Namespaced by key so that two unrelated values that happen to coincide in one run do not
    shift the numbering of the others; within a key, the same value (a resource's creation
    time seen in every poll) gets the same token, which keeps identical polls identical.
    """

    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = {}
        self._index: dict[tuple[str, str, Any], int] = {}

    def token(self, key: str, value: Any, dedupe: bool = True) -> str:
        space = re.sub(r"[^a-z0-9]", "", key)[:40] or "value"
        index_key = (space, type(value).__name__, value)
        n = self._index.get(index_key) if dedupe else None
        if n is None:
            slots = self.values.setdefault(space, [])
            n = self._index[index_key] = len(slots)
            slots.append(value)
        return f"<~{space}.{n}>"


def _tokenize_values(
    obj: Any, table: _Values, ports: set[int], key: str = "", dedupe_numbers: bool = True
) -> Any:
    """Volatile scalars replaced by value tokens (recursively; ``key`` is the parent key).

    ``dedupe_numbers=False`` (log records): one slot per occurrence, since millisecond values
    coincide by chance and a shared slot would renumber the rest in the next run.
    """
    if isinstance(obj, dict):
        return {k: _tokenize_values(v, table, ports, _norm(k) if isinstance(k, str) else "",
                                    dedupe_numbers)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_tokenize_values(v, table, ports, key, dedupe_numbers) for v in obj]
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, (int, float)):
        if key in VOLATILE_NUMBER_KEYS or (key.endswith("port") and obj in ports):
            return table.token(key, obj, dedupe_numbers)
        return obj
    if isinstance(obj, str):
        if key in VOLATILE_STRING_KEYS or ISO_TS.fullmatch(obj) or _TS_HEADER.fullmatch(obj):
            return table.token(key, obj)
    return obj


def _entry_key(entry: Any) -> str:
    return json.dumps(entry, sort_keys=True, default=str)


def _collapse(entries: list[Any], times: list[Any]) -> tuple[list[Any], list[Any]]:
    """Consecutive identical entries stored once, their times as one list in ``times``."""
    out: list[Any] = []
    out_times: list[Any] = []
    last_key: Any = None
    for entry, at in zip(entries, times):
        key = _entry_key(entry)
        if out and key == last_key:
            prev = out_times[-1]
            out_times[-1] = [*(prev if isinstance(prev, list) else [prev]), at]
            continue
        out.append(entry)
        out_times.append(at)
        last_key = key
    return out, out_times


def stabilize(
    doc: dict[str, Any],
    *,
    recorded_at: str,
    times: dict[str, list[Any]],
    run_tokens: Iterable[str] = (),
) -> dict[str, Any]:
    """The format-2 document of a format-1-shaped stored ``doc`` (not modified).

    ``times``: per transport (``http``, ``ssh``, ``roc``), one time per entry (or None).
    ``run_tokens``: ``<run id>-<worker>`` strings of the names made in this process.
    """
    doc = copy.deepcopy(doc)
    clock = dict(doc.get("clock") or {})
    metadata = dict(doc.get("metadata") or {})
    metadata.pop("recorded_at", None)
    endpoints = dict(metadata.pop("endpoints", None) or {})
    doc["metadata"] = metadata
    body = {k: doc.get(k) for k in _SECTIONS}
    existing = list(_strings(body))

    def text_has(needle: str) -> bool:
        return any(needle in s for s in existing)

    # Substring tokens: service base URLs, then the run token of generated names.
    replacements: list[tuple[re.Pattern[str], str]] = []
    by_url: dict[str, str] = {}
    literal: list[str] = []  # names whose {name} text occurs in the data: never tokens
    for name in sorted(endpoints):
        url = str(endpoints[name]).rstrip("/")
        if text_has("{" + name + "}"):
            literal.append(name)
        elif re.match(r"[a-z][a-z0-9+.-]*://[^/]+$", url):
            by_url.setdefault(url, name)
    for url in sorted(by_url, key=len, reverse=True):
        replacements.append((re.compile(re.escape(url) + r"(?![0-9A-Za-z.-])"),
                             "{" + by_url[url] + "}"))
    run = next((t for t in run_tokens if t and text_has(t)), None)
    if run is not None and not text_has(RUN_TOKEN):
        replacements.append((re.compile(re.escape(run)), RUN_TOKEN))
    else:
        run = None

    def substitute(s: str) -> str:
        for pattern, token in replacements:
            s = pattern.sub(token, s)
        return s

    if replacements:
        body = _map_strings(body, substitute)

    # Value tokens: timestamps, log-record numbers, ssh ports and host keys.
    table = _Values()
    if not text_has("<~"):
        ports = {int(e["port"]) for e in body.get("ssh") or []
                 if isinstance(e, dict) and isinstance(e.get("port"), int) and e["port"]}
        for k in ("http", "ssh", "roc"):
            body[k] = _tokenize_values(body.get(k), table, ports, dedupe_numbers=k != "roc")

    at: dict[str, list[Any]] = {}
    for k in ("http", "ssh"):
        entries = list(body.get(k) or [])
        entry_times = list(times.get(k) or [None] * len(entries))
        entry_times += [None] * (len(entries) - len(entry_times))
        body[k], at[k] = _collapse(entries, entry_times)
    if times.get("roc"):
        at["roc"] = list(times["roc"])

    line: dict[str, Any] = {"recorded_at": recorded_at}
    line.update(clock)
    if endpoints:
        line["endpoints"] = endpoints
    if literal:
        line["literal"] = literal
    if run is not None:
        line["run"] = run
    line["at"] = {k: v for k, v in at.items() if v}
    if table.values:
        line["values"] = table.values
    out: dict[str, Any] = {"format_version": FORMAT, "clock": line}
    for k, v in doc.items():
        if k in ("format_version", "clock"):
            continue
        out[k] = body[k] if k in body else v
    return out


class _LineDumper(yaml.SafeDumper):
    """Safe dumper for the clock line: strings with line breaks double-quoted (escaped)."""


def _line_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = '"' if any(c in data for c in "\n\r\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_LineDumper.add_representer(str, _line_str)


def render_clock_line(line: dict[str, Any]) -> str:
    """``clock: {...}`` on a single line (flow style, never wrapped)."""
    text = yaml.dump(line, Dumper=_LineDumper, default_flow_style=True, sort_keys=False,
                     width=float("inf"), allow_unicode=True).strip()
    if "\n" in text:  # a value YAML cannot keep on one line: block style, never corrupted
        return yaml.dump({"clock": line}, Dumper=_LineDumper, sort_keys=False,
                         allow_unicode=True)
    return "clock: " + text + "\n"


def expand(doc: dict[str, Any]) -> dict[str, Any]:
    """A format-1-shaped document from a loaded one (format 1 comes back unchanged).

    Raises ValueError/TypeError/KeyError on a malformed clock line (the loader reports those as
    a corrupt recording).
    """
    if doc.get("format_version") != FORMAT:
        return doc
    line = dict(doc.get("clock") or {})
    endpoints = {str(k): str(v) for k, v in dict(line.pop("endpoints", None) or {}).items()}
    run = line.pop("run", None)
    has_values = "values" in line  # absent: value tokens were not used ("<~" was in the data)
    values = {str(k): list(v) for k, v in dict(line.pop("values", None) or {}).items()}
    at = dict(line.pop("at", None) or {})
    recorded_at = line.pop("recorded_at", None)
    literal = {str(n) for n in line.pop("literal", None) or []}

    tokens = {name: url.rstrip("/") for name, url in endpoints.items() if name not in literal}
    if run is not None:
        tokens["run"] = str(run)

    def value_of(m: re.Match[str]) -> Any:
        space, n = m.group(1), int(m.group(2))
        slots = values.get(space) or []
        if n >= len(slots):
            raise ValueError(f"value token {m.group(0)} has no entry in clock.values")
        return slots[n]

    def restore(s: str) -> Any:
        if has_values and "<~" in s:
            m = _VALUE_TOKEN.fullmatch(s)
            if m is not None:
                return value_of(m)
        if "{" in s and tokens:
            s = _ENDPOINT_TOKEN.sub(lambda m: tokens.get(m.group(1), m.group(0)), s)
        return s

    out = dict(doc)
    for k in _SECTIONS:
        if k in out:
            out[k] = _map_strings(out[k], restore)
    metadata = dict(out.get("metadata") or {})
    if recorded_at is not None:
        metadata.setdefault("recorded_at", recorded_at)
    if endpoints:
        metadata["endpoints"] = endpoints
    out["metadata"] = metadata
    flat_at: dict[str, list[Any]] = {}
    for k in ("http", "ssh"):
        entries = list(out.get(k) or [])
        slots = list(at.get(k) or [])
        expanded: list[Any] = []
        times: list[Any] = []
        for i, entry in enumerate(entries):
            slot = slots[i] if i < len(slots) else None
            if isinstance(slot, list):
                if not slot:
                    raise ValueError(f"clock.at.{k}[{i}] is an empty repeat list")
                expanded.append(entry)
                expanded += [copy.deepcopy(entry) for _ in slot[1:]]
                times += slot
            else:
                expanded.append(entry)
                times.append(slot)
        out[k] = expanded
        flat_at[k] = times
    if at.get("roc"):
        flat_at["roc"] = list(at["roc"])
    line["at"] = flat_at
    out["clock"] = line
    return out


def read_document(path: str | Path) -> dict[str, Any]:
    """The stored document of a ``recording.yaml`` (or its directory) in the format-1 shape.

    For tools (drift, inventory, tests) that read the file itself; no blob is read. ValueError
    when it is not a recording.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "recording.yaml"
    doc = yaml.load(p.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(doc, dict) or "format_version" not in doc:
        raise ValueError(f"{p} is not a pytest-robofixtures recording")
    return expand(doc)


def rebase(bundle: Any, endpoints: dict[str, str]) -> None:
    """Serve a loaded bundle's HTTP interactions at other base URLs (before replay starts).

    ``endpoints``: service name -> the base URL the replaying client uses. Every recorded URL
    under that service's recorded base (request URIs, and URLs inside headers and bodies,
    such as links) is moved to the new base, and ``metadata["endpoints"]`` is updated, so
    replay matches requests made to whatever base URL the client is given.
    """
    recorded = dict(bundle.metadata.get("endpoints") or {})
    moves: list[tuple[re.Pattern[str], str]] = []
    for name, new in endpoints.items():
        old = str(recorded.get(name, "")).rstrip("/")
        if old and old != new.rstrip("/"):
            moves.append((re.compile(re.escape(old) + r"(?![0-9A-Za-z.-])"), new.rstrip("/")))
    if not moves:
        return

    def move(s: str) -> str:
        if "://" in s:
            for pattern, new in moves:
                s = pattern.sub(new.replace("\\", "\\\\"), s)  # literal replacement
        return s

    bundle.http[:] = [_map_strings(e, move) for e in bundle.http]
    bundle.metadata["endpoints"] = {**recorded, **endpoints}
