"""Drift: how a live run's interactions differ from the recorded ones, ignoring what may vary.

Both sides are compared in the low-churn stored form (:mod:`.stable`), where service base
URLs, the run token of generated names, timestamps, log-record numbers, ssh ports and host keys
are already tokens; ids (uuids, random resource ids) are masked when pairing. Interactions are
paired in order per request (method + URI + body; repeated polls count once), then::

    status      the HTTP status code (or SSH exit status, ROC result/error) changed
                (ROC feeds: topics and the payload of each topic's first item are compared)
    removed     a response field that was recorded is gone
    added       a response field appeared
    type        a field's JSON type changed
    value       an enum-like value changed (``READY``, ``Succeeded``, ``In progress``,
                ``status: pending``, booleans)
    missing     a recorded interaction was not made live
    extra       a live interaction has no recorded counterpart

Usage (the plugin's ``--robo-drift``)::

    live = Recorder.open(path, "record", ...)   # run the test live, do not close/save it
    ...
    findings = compare_bundle(live.bundle, path, live.scrubber)
    for f in findings: print(f)                 # one line each
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from . import stable
from .bundle import Bundle
from .config import RecordingConfig
from .match import UUID_RE, compile_json_path
from .paths import RECORDING_FILE
from .scrub import PLACEHOLDER_RE, Scrubber

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Keys whose short lower-case identifier values are enum-like (``status: pending``).
ENUM_KEYS = frozenset({"status", "state", "phase", "kind", "type", "runtime", "result",
                       "outcome", "mode", "health", "condition", "level", "levelname",
                       "format", "success", "online"})
_UPPER = re.compile(r"[A-Z][A-Z0-9_]{1,31}")
_CAPITALIZED = re.compile(r"[A-Z][a-z]{1,15}(?: [A-Za-z][a-z]{1,15}){0,3}")
_IDENT = re.compile(r"[a-z][a-z_-]{0,23}")
# Ids services make up: numbers, long hex, "<kind>-<16+ random letters>", or 8+ characters
# with a digit in them. Plain words ("serviceinstance") are not ids.
_ID_LIKE = re.compile(r"[0-9]+|[0-9a-fA-F]{16,}|[A-Za-z]+-[A-Za-z0-9]{16,}")
_WITH_DIGIT = re.compile(r"(?=.*[0-9])[A-Za-z0-9_.-]{8,}")


def is_id_like(text: str) -> bool:
    """True for strings that look like a generated id (uuid, numbers, random tokens)."""
    return bool(UUID_RE.fullmatch(text) or _ID_LIKE.fullmatch(text)
                or _WITH_DIGIT.fullmatch(text))


@dataclass(frozen=True)
class DriftFinding:
    """One difference between the live and the recorded run."""

    transport: str  # "HTTP" | "SSH" | "ROC"
    kind: str  # status | removed | added | type | value | missing | extra
    request: str  # "GET {rapyuta_core}/routednetwork/<id>", "exec 'ls'", "arm.move"
    path: str = ""  # JSON path in the response ("$.status"), "" for the whole interaction
    recorded: Any = None
    live: Any = None

    def __str__(self) -> str:
        where = f"{self.transport} {self.request}"
        if self.kind == "missing":
            return f"{where}: recorded, not made live"
        if self.kind == "extra":
            return f"{where}: made live, not in the recording"
        if self.kind == "removed":
            return f"{where}: {self.path} removed (recorded {_short(self.recorded)})"
        if self.kind == "added":
            return f"{where}: {self.path} added (live {_short(self.live)})"
        label = {"status": "status", "type": "type of", "value": "value of"}.get(self.kind, "")
        target = self.path if self.path else ""
        return (f"{where}: {label} {target}".rstrip() +
                f" changed: recorded {_short(self.recorded)}, live {_short(self.live)}")


def _short(v: Any) -> str:
    text = json.dumps(v, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def is_enum_like(key: str, value: Any) -> bool:
    """True for values whose change means the service behaves differently."""
    if isinstance(value, bool):
        return True
    if not isinstance(value, str) or not value or len(value) > 32:
        return False
    if PLACEHOLDER_RE.fullmatch(value) or value.startswith("<~") or "{" in value:
        return False
    if UUID_RE.search(value) or is_id_like(value):
        return False
    if _UPPER.fullmatch(value) or _CAPITALIZED.fullmatch(value):
        return True
    norm = key.lower().replace("_", "").replace("-", "")
    return norm in ENUM_KEYS and _IDENT.fullmatch(value) is not None


def _mask_ids(text: str) -> str:
    text = UUID_RE.sub("<id>", text)
    return "/".join("<id>" if is_id_like(seg) else seg for seg in text.split("/"))


def _mask_value(obj: Any) -> Any:
    """Request data with ids and tokens masked (for pairing)."""
    if isinstance(obj, str):
        if obj.startswith("<~") or PLACEHOLDER_RE.fullmatch(obj):
            return "<v>"
        return _mask_ids(obj) if not is_enum_like("", obj) else obj
    if isinstance(obj, dict):
        return {k: _mask_value(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mask_value(v) for v in obj]
    return obj


def _http_key(entry: dict[str, Any], ignore_query: frozenset[str]) -> str:
    req = entry["request"]
    parts = urlsplit(str(req["uri"]))
    query = sorted((k, _mask_value(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if k not in ignore_query)
    body = req.get("body")
    body_form = _mask_value(body.get("json")) if isinstance(body, dict) and "json" in body else (
        None if body is None else "<body>")
    base = f"{parts.scheme}://{parts.netloc}" if parts.scheme else ""
    return json.dumps([str(req["method"]).upper(), base + _mask_ids(parts.path), query, body_form],
                      sort_keys=True, default=str)


def _http_name(entry: dict[str, Any]) -> str:
    req = entry["request"]
    return f"{req['method']} {_mask_ids(str(req['uri']))}"


def _ssh_op(entry: dict[str, Any]) -> tuple[str, str]:
    for op in ("exec", "put", "get"):
        if op in entry:
            return op, str(entry[op])
    return "?", ""


def _json_diff(transport: str, name: str, recorded: Any, live: Any, path: str,
               out: list[DriftFinding], key: str = "") -> None:
    if isinstance(recorded, dict) and isinstance(live, dict):
        for k in recorded:
            if k not in live:
                out.append(DriftFinding(transport, "removed", name, f"{path}.{k}", recorded[k]))
        for k in live:
            if k not in recorded:
                out.append(DriftFinding(transport, "added", name, f"{path}.{k}", None, live[k]))
            else:
                _json_diff(transport, name, recorded[k], live[k], f"{path}.{k}", out, str(k))
        return
    if isinstance(recorded, list) and isinstance(live, list):
        # Lengths vary legitimately (how many items exist now); compare the common prefix.
        for i, (a, b) in enumerate(zip(recorded, live)):
            _json_diff(transport, name, a, b, f"{path}[{i}]", out, key)
        return
    if recorded is None or live is None:
        return  # null vs a value: optional data, not a shape change
    kinds = (_kind(recorded), _kind(live))
    if kinds[0] != kinds[1] and not any(isinstance(v, str) and v.startswith("<~")
                                        for v in (recorded, live)):
        out.append(DriftFinding(transport, "type", name, path, kinds[0], kinds[1]))
    elif recorded != live and is_enum_like(key, recorded) and is_enum_like(key, live):
        out.append(DriftFinding(transport, "value", name, path, recorded, live))


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def _pairs(recorded_keys: list[str], live_keys: list[str]
           ) -> Iterable[tuple[int | None, int | None]]:
    matcher = difflib.SequenceMatcher(None, recorded_keys, live_keys, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            yield from zip(range(i1, i2), range(j1, j2))
            continue
        for i in range(i1, i2):
            yield i, None
        for j in range(j1, j2):
            yield None, j


def _groups(keys: list[str]) -> list[tuple[str, int, int]]:
    """Runs of consecutive equal keys as (key, first index, last index): polls count once."""
    out: list[tuple[str, int, int]] = []
    for i, k in enumerate(keys):
        if out and out[-1][0] == k:
            out[-1] = (k, out[-1][1], i)
        else:
            out.append((k, i, i))
    return out


def _paired_runs(recorded_keys: list[str], live_keys: list[str]
                 ) -> Iterable[tuple[list[int], list[int]]]:
    """Pairs of index lists: ([], [j..]) extra, ([i..], []) missing, else first and last."""
    rg, lg = _groups(recorded_keys), _groups(live_keys)
    for a, b in _pairs([g[0] for g in rg], [g[0] for g in lg]):
        ra = [] if a is None else sorted({rg[a][1], rg[a][2]})
        lb = [] if b is None else sorted({lg[b][1], lg[b][2]})
        if ra and lb and len(ra) != len(lb):  # one side polled once: compare with both ends
            ra, lb = (ra * 2)[:2], (lb * 2)[:2]
        yield ra, lb


def _body_json(part: dict[str, Any]) -> Any:
    body = part.get("body")
    return body.get("json") if isinstance(body, dict) and "json" in body else None


def compare_documents(
    live: dict[str, Any], recorded: dict[str, Any], ignore_query: Iterable[str] = (),
    ignore_paths: Iterable[str] = (),
) -> list[DriftFinding]:
    """Findings between two stored documents in the format-2 (tokenized) form.

    ``ignore_query``: query parameters left out when pairing; ``ignore_paths``: JSON paths
    left out of responses (the config's ``ignore_query_params`` / ``ignore_json_paths``).
    """
    out: list[DriftFinding] = []
    ig = frozenset(ignore_query)
    paths = [compile_json_path(p) for p in ignore_paths]

    def without(obj: Any) -> Any:
        if paths and isinstance(obj, (dict, list)):
            obj = copy.deepcopy(obj)
            for path in paths:
                obj = path.filter(lambda _v: True, obj)
        return obj

    # HTTP
    rec_http, live_http = list(recorded.get("http") or []), list(live.get("http") or [])
    for ra, lb in _paired_runs([_http_key(e, ig) for e in rec_http],
                               [_http_key(e, ig) for e in live_http]):
        if not lb:
            out.append(DriftFinding("HTTP", "missing", _http_name(rec_http[ra[0]])))
        elif not ra:
            out.append(DriftFinding("HTTP", "extra", _http_name(live_http[lb[0]])))
        else:
            for i, j in zip(ra, lb):
                a, b = rec_http[i]["response"], live_http[j]["response"]
                name = _http_name(rec_http[i])
                ca, cb = int(a["status"]["code"]), int(b["status"]["code"])
                if ca != cb:
                    found = [DriftFinding("HTTP", "status", name, "", ca, cb)]
                elif ca < 400:
                    found = []
                    _json_diff("HTTP", name, without(_body_json(a)), without(_body_json(b)),
                               "$", found)
                else:
                    found = []
                out += [f for f in found if f not in out]
    # SSH
    rec_ssh, live_ssh = list(recorded.get("ssh") or []), list(live.get("ssh") or [])

    def ssh_key(e: dict[str, Any]) -> str:
        op, arg = _ssh_op(e)
        return json.dumps([e.get("user"), op, _mask_ids(arg)])

    for si, sj in _pairs([ssh_key(e) for e in rec_ssh], [ssh_key(e) for e in live_ssh]):
        if sj is None:
            assert si is not None
            out.append(DriftFinding("SSH", "missing", " ".join(_ssh_op(rec_ssh[si]))))
        elif si is None:
            out.append(DriftFinding("SSH", "extra", " ".join(_ssh_op(live_ssh[sj]))))
        else:
            a, b = rec_ssh[si], live_ssh[sj]
            name = " ".join(_ssh_op(a))
            ea = a.get("exit_status", "raised" if "raised" in a else 0)
            eb = b.get("exit_status", "raised" if "raised" in b else 0)
            if ea != eb:
                out.append(DriftFinding("SSH", "status", name, "exit status", ea, eb))
    # ROC calls
    rec_roc = list((recorded.get("roc") or {}).get("calls") or [])
    live_roc = list((live.get("roc") or {}).get("calls") or [])

    def roc_key(c: dict[str, Any]) -> str:
        return json.dumps([c.get("object"), c.get("method"), _mask_value(c.get("params"))],
                          sort_keys=True, default=str)

    def roc_outcome(c: dict[str, Any]) -> str:
        return next((k for k in ("result", "error", "raised", "reply") if k in c), "none")

    for ci, cj in _pairs([roc_key(c) for c in rec_roc], [roc_key(c) for c in live_roc]):
        if cj is None:
            assert ci is not None
            c = rec_roc[ci]
            out.append(DriftFinding("ROC", "missing", f"{c.get('object')}.{c.get('method')}"))
        elif ci is None:
            c = live_roc[cj]
            out.append(DriftFinding("ROC", "extra", f"{c.get('object')}.{c.get('method')}"))
        else:
            a, b = rec_roc[ci], live_roc[cj]
            name = f"{a.get('object')}.{a.get('method')}"
            if roc_outcome(a) != roc_outcome(b):
                out.append(DriftFinding("ROC", "status", name, "", roc_outcome(a),
                                        roc_outcome(b)))
            elif "result" in a:
                _json_diff("ROC", name, without(a["result"]), without(b["result"]), "$", out)
    # ROC feeds: per feed, the topics seen, and the payload shape of each topic's first item.
    rec_feeds = _feed_topics(recorded)
    live_feeds = _feed_topics(live)
    for feed in sorted(set(rec_feeds) | set(live_feeds)):
        a_topics, b_topics = rec_feeds.get(feed, {}), live_feeds.get(feed, {})
        for topic in a_topics:
            if topic not in b_topics:
                out.append(DriftFinding("ROC", "missing", f"feed {feed}: {topic}"))
        for topic in b_topics:
            if topic not in a_topics:
                out.append(DriftFinding("ROC", "extra", f"feed {feed}: {topic}"))
            else:
                _json_diff("ROC", f"feed {feed}: {topic}", without(a_topics[topic]),
                           without(b_topics[topic]), "$", out)
    return out


def _feed_topics(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per feed name: topic -> the payload of its first item, in recorded order."""
    out: dict[str, dict[str, Any]] = {}
    for feed in (doc.get("roc") or {}).get("feeds") or []:
        topics = out.setdefault(str(feed.get("name")), {})
        for item in feed.get("items") or []:
            topics.setdefault(str(item.get("topic")), item.get("payload"))
    return out


def _run_token_from_names(names: list[dict[str, Any]]) -> list[str]:
    found = []
    for i, n in enumerate(names):
        name, hint = str(n.get("name", "")), str(n.get("hint", ""))
        suffix = f"-{i + 1}-{hint}"
        head, sep, rest = name.partition("-")
        if sep and rest.endswith(suffix):
            found.append(rest[: -len(suffix)])
    return [found[0]] if found and all(f == found[0] for f in found) else []


def stored_document(path: str | Path) -> dict[str, Any]:
    """The format-2 (tokenized) document of a recording file or directory, any format."""
    p = Path(path)
    if p.is_dir():
        p = p / RECORDING_FILE
    doc = yaml.load(p.read_bytes(), Loader=_Loader)
    if not isinstance(doc, dict) or "format_version" not in doc:
        raise ValueError(f"{p} is not a pytest-robofixtures recording")
    if doc["format_version"] == stable.FORMAT:
        return doc
    metadata = dict(doc.get("metadata") or {})
    return stable.stabilize(doc, recorded_at=str(metadata.get("recorded_at", "")), times={},
                            run_tokens=_run_token_from_names(list(doc.get("names") or [])))


def compare_bundle(
    live: Bundle, recorded: str | Path, scrubber: Scrubber | None = None,
    config: RecordingConfig | None = None,
) -> list[DriftFinding]:
    """Findings between a just-recorded (unsaved) bundle and the recording at ``recorded``.

    ``scrubber``: the live run's (so secrets compare as placeholders on both sides). Nothing is
    written. ``config``: its ignored query parameters and JSON paths are ignored here too.
    """
    live_doc = live.document(scrubber if scrubber is not None else Scrubber())
    cfg = config or RecordingConfig()
    return compare_documents(live_doc, stored_document(recorded), cfg.ignore_query_params,
                             cfg.ignore_json_paths)


def report_lines(findings: Iterable[DriftFinding]) -> list[str]:
    """One line per finding (for the report section and the terminal summary)."""
    return [str(f) for f in findings]


def summarize(findings: Iterable[DriftFinding]) -> str:
    """A short count by kind (a JUnit property value): ``"3: 1 status, 2 removed"``, ``"none"``."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    if not counts:
        return "none"
    return f"{sum(counts.values())}: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
