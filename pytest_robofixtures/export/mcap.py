"""Export one test's recording as MCAP, to scrub through it in Foxglove.

Channels (all JSON-encoded, each with a JSON schema):

- ``/roc/status/<key with / for .>``: every ROC status update (schema ``roc.status.<key>``,
  inferred from the recorded payloads), so Foxglove can plot e.g.
  ``/roc/status/instruments/vnir.temperature`` (a dot in a topic would need quoting there);
- ``/roc/log``: ROC log records as ``foxglove.Log``;
- ``/roc/calls``: every ROC call with its params and result or error;
- ``/rerobots/<instance>/camera/<n>``: camera frames (JPEG blobs of the rerobots camera
  responses) as ``foxglove.CompressedImage``;
- ``/resources/<request path>``: each resource's status (and phase) as the polls saw it;
- ``/ssh`` and ``/http``: ssh commands and HTTP interactions as ``foxglove.Log``.

Times: an interaction is placed at its recorded time when the recording has one (see
:func:`interaction_offsets`), else in recorded order, evenly spaced between the nearest known
times (the recording's epoch and end at the outside). The ``mcap`` library is an optional extra
(``pytest-robofixtures[mcap]``), imported only when exporting.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..recording.bundle import Bundle, atomic_write, tagged
from ..roc.protocol import LOG_PREFIX, STATUS_PREFIX, TOPIC_END
from .timing import CAMERA_URI, fill_times, interaction_offsets, number, roc_items

_NS = 1_000_000_000
_BODY_EXCERPT = 2000
# foxglove.Log levels
_UNKNOWN, _DEBUG, _INFO, _WARNING, _ERROR, _FATAL = range(6)

_TIME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "time",
    "properties": {"sec": {"type": "integer", "minimum": 0},
                   "nsec": {"type": "integer", "minimum": 0, "maximum": 999_999_999}},
}
#: ``foxglove.Log`` for JSON encoding (field names and level values as Foxglove defines them).
LOG_SCHEMA: dict[str, Any] = {
    "title": "foxglove.Log",
    "description": "A log message",
    "type": "object",
    "properties": {
        "timestamp": _TIME_SCHEMA,
        "level": {"type": "integer", "description": "0 unknown, 1 debug, 2 info, 3 warning, "
                  "4 error, 5 fatal", "minimum": 0, "maximum": 5},
        "message": {"type": "string"},
        "name": {"type": "string", "description": "Process or node name"},
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 0},
    },
}
#: ``foxglove.CompressedImage`` for JSON encoding (``data`` is base64).
IMAGE_SCHEMA: dict[str, Any] = {
    "title": "foxglove.CompressedImage",
    "description": "A compressed image",
    "type": "object",
    "properties": {
        "timestamp": _TIME_SCHEMA,
        "frame_id": {"type": "string"},
        "data": {"type": "string", "contentEncoding": "base64"},
        "format": {"type": "string", "description": "jpeg, png, webp or avif"},
    },
}
RESOURCE_STATUS_SCHEMA: dict[str, Any] = {
    "title": "robofixtures.ResourceStatus",
    "description": "A resource's state as a poll of the service saw it",
    "type": "object",
    "properties": {"timestamp": _TIME_SCHEMA, "status": {"type": "string"},
                   "phase": {"type": "string"}},
}
ROC_CALL_SCHEMA: dict[str, Any] = {
    "title": "robofixtures.RocCall",
    "description": "One ROC remote object call and its outcome",
    "type": "object",
    "properties": {
        "object": {"type": "string"},
        "method": {"type": "string"},
        "params": {},
        "result": {},
        "error": {"type": ["object", "null"]},
        "raised": {"type": ["object", "null"], "description": "exception seen by the caller"},
    },
}


class McapUnavailable(ImportError):
    """The ``mcap`` library is not installed."""


@dataclass
class ExportSummary:
    """What :func:`export_recording` wrote."""

    out: Path
    nodeid: str
    start_ns: int
    end_ns: int
    #: topic -> number of messages written on it
    messages: dict[str, int] = field(default_factory=dict)
    #: "recorded" (every time known), "partly recorded" or "estimated" (none known)
    timing: str = "estimated"

    @property
    def total(self) -> int:
        """Messages written on all channels."""
        return sum(self.messages.values())


# -- messages ----------------------------------------------------------------------------------

def _stamp(ns: int) -> dict[str, int]:
    return {"sec": ns // _NS, "nsec": ns % _NS}


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "array"
    return "object"


def infer_schema(title: str, payloads: Iterable[Any]) -> dict[str, Any]:
    """A JSON schema for the recorded payloads of one status key (top-level field types)."""
    types: dict[str, set[str]] = {}
    for p in payloads:
        if isinstance(p, Mapping):
            for k, v in p.items():
                types.setdefault(str(k), set()).add(_json_type(v))
    props: dict[str, Any] = {}
    for k, ts in types.items():
        if {"integer", "number"} <= ts:
            ts = ts - {"integer"}  # 20 and 20.5 in one field: it is a number
        kinds = sorted(ts)
        props[k] = {"type": kinds[0] if len(kinds) == 1 else kinds}
    return {"title": title, "type": "object", "properties": props}


def _log_level(levelno: Any) -> int:
    n = number(levelno)
    if n is None:
        return _UNKNOWN
    for limit, level in ((10, _DEBUG), (20, _INFO), (30, _WARNING), (40, _ERROR)):
        if n <= limit:
            return level
    return _FATAL


def _log_text(record: Mapping[str, Any]) -> str:
    if record.get("message"):
        return str(record["message"])
    msg, args = str(record.get("msg", "")), record.get("args")
    if args:
        try:
            return msg % (tuple(args) if isinstance(args, list) else args)
        except (TypeError, ValueError, KeyError):
            pass
    return msg


def _excerpt(obj: Any) -> str:
    text = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"), default=str)
    return text if len(text) <= _BODY_EXCERPT else text[:_BODY_EXCERPT] + "…"


def _body_text(bundle: Bundle, body: Any) -> str:
    """A short readable form of a stored HTTP body (binary parts named, not dumped)."""
    if body is None:
        return ""
    if isinstance(body, str):
        return _excerpt(body)
    if isinstance(body, dict):
        if "json" in body:
            return _excerpt(_without_images(body["json"]))
        if "string" in body:
            return _excerpt(str(body["string"]))
        if "blob" in body:
            return f"<binary body, blob {body['blob']}>"
        if "base64" in body:
            return f"<binary body, {len(base64.b64decode(body['base64']))} bytes>"
    return _excerpt(body)


def _without_images(obj: Any) -> Any:
    if isinstance(obj, dict):
        if "$blob" in obj and len(obj) == 1:
            return f"<blob {obj['$blob']}>"
        if obj.get("coding") == "base64" and isinstance(obj.get("data"), str):
            return {**obj, "data": f"<{len(obj['data'])} base64 chars>"}
        return {k: _without_images(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_without_images(v) for v in obj]
    return obj


def _camera_frame(bundle: Bundle, entry: Mapping[str, Any]) -> tuple[str, str, bytes] | None:
    """``(topic, format, bytes)`` when the interaction is a rerobots camera image."""
    req, resp = entry["request"], entry["response"]
    match = CAMERA_URI.search(str(req.get("uri", "")))
    body = resp.get("body")
    if match is None or not isinstance(body, dict) or "json" not in body:
        return None
    doc = bundle.json_body(body)
    if not isinstance(doc, dict) or str(doc.get("coding", "")).lower() != "base64":
        return None
    try:
        data = base64.b64decode(str(doc.get("data", "")), validate=True)
    except (binascii.Error, ValueError):
        return None
    fmt = str(doc.get("format", "jpeg")).lower().replace("jpg", "jpeg")
    topic = f"/rerobots/{match['instance'][:8]}/camera/{match['camera']}"
    return topic, fmt, data


def _resource_state(bundle: Bundle, entry: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``(topic, {"status", "phase"?})`` when a GET answered a resource's state (a poll).

    rerobots instances and add-ons have a top-level ``status``; rapyuta.io deployments a
    ``phase`` and ``status``, routed networks an ``internalDeploymentStatus``. The topic is the
    request path under ``/resources`` (``/resources/instance/<id>``), so Foxglove's state
    transitions panel can show each resource's life.
    """
    req, resp = entry["request"], entry["response"]
    body = resp.get("body")
    if (req.get("method") != "GET" or int(resp["status"]["code"]) >= 400
            or not isinstance(body, dict) or not isinstance(body.get("json"), dict)):
        return None
    doc = body["json"]
    nested = doc.get("internalDeploymentStatus")
    source = nested if isinstance(nested, dict) else doc
    if not isinstance(source.get("status"), str):
        return None
    state = {"status": source["status"]}
    if isinstance(source.get("phase"), str):
        state["phase"] = source["phase"]
    path = urlsplit(str(req.get("uri", ""))).path.strip("/")
    return f"/resources/{path}", state


@dataclass
class _Message:
    topic: str
    schema: str
    offset: float
    payload: dict[str, Any]


def _messages(bundle: Bundle, offsets: dict[str, list[float]]) -> tuple[
        list[_Message], dict[str, dict[str, Any]]]:
    """Every message to write, and the JSON schema of each schema name used."""
    schemas: dict[str, dict[str, Any]] = {
        "foxglove.Log": LOG_SCHEMA, "foxglove.CompressedImage": IMAGE_SCHEMA,
        "robofixtures.RocCall": ROC_CALL_SCHEMA,
        "robofixtures.ResourceStatus": RESOURCE_STATUS_SCHEMA,
    }
    out: list[_Message] = []
    for entry, at in zip(bundle.http, offsets["http"]):
        req, resp = entry["request"], entry["response"]
        code = int(resp["status"]["code"])
        frame = _camera_frame(bundle, entry)
        text = f"{req['method']} {req['uri']} -> {code} {resp['status'].get('message', '')}"
        if frame is not None:
            topic, fmt, data = frame
            out.append(_Message(topic, "foxglove.CompressedImage", at, {
                "frame_id": topic.rsplit("/", 2)[-2] + "_" + topic.rsplit("/", 1)[-1],
                "data": base64.b64encode(data).decode(), "format": fmt}))
            text += f"\n{fmt} frame, {len(data)} bytes, on {topic}"
        else:
            sent = _body_text(bundle, req.get("body"))
            got = _body_text(bundle, resp.get("body"))
            text += (f"\nsent: {sent}" if sent else "") + (f"\ngot: {got}" if got else "")
        state = _resource_state(bundle, entry)
        if state is not None:
            out.append(_Message(state[0], "robofixtures.ResourceStatus", at, state[1]))
        level = _ERROR if code >= 500 else _WARNING if code >= 400 else _INFO
        out.append(_Message("/http", "foxglove.Log", at, {
            "level": level, "message": text, "name": "http", "file": "", "line": 0}))
    for entry, at in zip(bundle.ssh, offsets["ssh"]):
        where = f"{entry.get('user', 'root')}@{entry.get('host', '')}:{entry.get('port', '')}"
        level = _INFO
        if "exec" in entry:
            status = entry.get("exit_status")
            text = f"$ {entry['exec']}    [exit {status}]"
            for stream in ("stdout", "stderr"):
                raw = entry.get(stream) or b""
                chunk = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
                if chunk.strip():
                    text += f"\n{stream}: {_excerpt(chunk.rstrip())}"
            if status not in (0, None):
                level = _WARNING
        elif "put" in entry:
            text = f"put {entry['put']} ({entry.get('size')} bytes)"
        else:
            text = f"get {entry.get('get')} ({entry.get('size')} bytes)"
        if "raised" in entry:
            text += f"\nraised: {_excerpt(entry['raised'])}"
            level = _ERROR
        out.append(_Message("/ssh", "foxglove.Log", at, {
            "level": level, "message": text, "name": f"ssh {where}", "file": "", "line": 0}))
    status_payloads: dict[str, list[Any]] = {}
    for (feed, item), at in zip(roc_items(bundle), offsets["roc"]):
        if feed is None:
            keys = ("object", "method", "params", "result", "error", "raised")
            call: dict[str, Any] = {k: tagged(item.get(k)) for k in keys if k in item}
            out.append(_Message("/roc/calls", "robofixtures.RocCall", at, call))
            continue
        topic, payload = str(item.get("topic", "")), item.get("payload")
        if topic.startswith(LOG_PREFIX) and isinstance(payload, Mapping):
            out.append(_Message("/roc/log", "foxglove.Log", at, {
                "level": _log_level(payload.get("levelno")), "message": _log_text(payload),
                "name": str(payload.get("name", topic[len(LOG_PREFIX):])),
                "file": str(payload.get("pathname") or payload.get("filename") or ""),
                "line": int(number(payload.get("lineno")) or 0)}))
        elif topic.startswith(STATUS_PREFIX):
            key = topic[len(STATUS_PREFIX):].rstrip(TOPIC_END)
            name = f"roc.status.{key}"
            status_payloads.setdefault(name, []).append(payload)
            body = tagged(payload) if isinstance(payload, Mapping) else {"value": tagged(payload)}
            out.append(_Message(f"/roc/status/{key.replace('.', '/')}", name, at, body))
        else:
            name = f"roc.feed.{topic}"
            status_payloads.setdefault(name, []).append(payload)
            out.append(_Message(f"/roc/feed/{topic.replace('.', '/')}", name, at,
                                {"value": tagged(payload)}))
    for name, payloads in status_payloads.items():
        schemas[name] = infer_schema(name, payloads)
    return out, schemas


# -- the file ----------------------------------------------------------------------------------

def export_recording(bundle_dir: str | Path, out: str | Path) -> ExportSummary:
    """Write the recording in ``bundle_dir`` as an MCAP file at ``out`` (atomically).

    Raises :class:`McapUnavailable` when the ``mcap`` library is missing, and the recording's
    own errors (``RecordingMissing``, ``RecordingCorrupt``) when it cannot be read.
    """
    try:
        from mcap.writer import Writer
    except ImportError as exc:
        raise McapUnavailable(
            "MCAP export needs the mcap library: pip install 'pytest-robofixtures[mcap]'"
        ) from exc
    import io

    bundle = Bundle.load(bundle_dir, "")
    known, duration = interaction_offsets(bundle)
    all_known = [t for ts in known.values() for t in ts]
    found = sum(t is not None for t in all_known)
    timing = ("recorded" if all_known and found == len(all_known)
              else "partly recorded" if found else "estimated")
    offsets = {name: fill_times(ts, 0.0, duration) for name, ts in known.items()}
    messages, schemas = _messages(bundle, offsets)
    messages.sort(key=lambda m: m.offset)  # stable: same-time messages keep recorded order
    # Through Decimal: a float epoch times 1e9 would be off by hundreds of nanoseconds.
    epoch_ns = int(Decimal(str(number(bundle.clock.get("epoch")) or 0.0)) * _NS)

    buf = io.BytesIO()
    writer = Writer(buf)
    writer.start(profile="", library="pytest-robofixtures")
    schema_ids: dict[str, int] = {}
    channel_ids: dict[str, int] = {}
    counts: dict[str, int] = {}
    end_ns = epoch_ns + round(duration * _NS)
    for m in messages:
        if m.schema not in schema_ids:
            schema_ids[m.schema] = writer.register_schema(
                m.schema, "jsonschema", json.dumps(schemas[m.schema]).encode())
        if m.topic not in channel_ids:
            channel_ids[m.topic] = writer.register_channel(m.topic, "json", schema_ids[m.schema])
        ns = epoch_ns + round(m.offset * _NS)
        end_ns = max(end_ns, ns)
        data = json.dumps({"timestamp": _stamp(ns), **m.payload}, default=str).encode()
        writer.add_message(channel_ids[m.topic], log_time=ns, data=data, publish_time=ns,
                           sequence=counts.get(m.topic, 0))
        counts[m.topic] = counts.get(m.topic, 0) + 1
    meta = {str(k): str(v) for k, v in bundle.metadata.items() if not isinstance(v, dict)}
    writer.add_metadata("robofixtures", {**meta, "timing": timing,
                                         "epoch": str(bundle.clock.get("epoch", ""))})
    writer.finish()  # type: ignore[no-untyped-call]  # mcap leaves finish() unannotated
    out = Path(out)
    atomic_write(out, buf.getvalue())
    return ExportSummary(out, str(bundle.metadata.get("nodeid", "")), epoch_ns, end_ns, counts,
                         timing)
