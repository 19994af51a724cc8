"""The recording bundle: ``recording.yaml`` plus content-addressed ``blobs/``, read and written.

In memory a bundle holds *raw* entries (bytes bodies, live values); :meth:`Bundle.save` converts
them to the stored form (JSON bodies as structured YAML, binary payloads moved into blobs),
scrubs secrets and writes everything atomically. :meth:`Bundle.load` does the reverse.
The file is format 2 (:mod:`.stable`: per-run values in one ``clock`` line); format 1 loads too.
A failed attempt is saved as ``recording.failed.yaml`` beside a good recording, never over it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import os
import tempfile
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .. import __version__
from . import stable
from ._util import canonical_name, unknown_type
from .errors import RecordingCorrupt, RecordingMismatch, RecordingMissing
from .loadcache import ParseCache, no_gc
from .names import run_tokens
from .paths import BLOBS_DIR, FAILED_FILE, RECORDING_FILE
from .scrub import Scrubber

FORMAT_VERSION = stable.FORMAT  # 1 (every value inline) still loads
END_KEY = "end_of_recording"
INLINE_BINARY_MAX = 256
# Per-connection headers: not matched, recomputed or meaningless on replay; left out of the file.
_DROP_REQUEST_HEADERS = frozenset({"connection", "content-length", "accept-encoding", "host",
                                   "keep-alive", "transfer-encoding"})
_DROP_RESPONSE_HEADERS = frozenset({"connection", "content-length", "date", "keep-alive",
                                    "transfer-encoding"})
BLOB_MIN_BASE64 = 64

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
if TYPE_CHECKING:  # the C dumper when libyaml is there: the same interface
    _BaseDumper = yaml.SafeDumper
else:
    _BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):
    """Safe dumper writing multi-line strings as literal blocks (readable diffs)."""


def _str_representer(dumper: Any, data: str) -> Any:
    style = "|" if "\n" in data and len(data) < 100_000 else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(doc: Any) -> str:
    """YAML text of a document (safe dumper, key order kept)."""
    return str(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100))


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same directory and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def blob_extension(data: bytes) -> str:
    """``jpg``/``png`` by magic bytes, else ``bin``."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    return "bin"


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def tagged(obj: Any) -> Any:
    """JSON-like data with bytes as ``{"$base64": ...}`` and tuples as lists (for YAML)."""
    if isinstance(obj, (bytes, bytearray)):
        return {"$base64": base64.b64encode(bytes(obj)).decode()}
    if isinstance(obj, dict):
        return {str(k): tagged(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [tagged(v) for v in obj]
    return obj


def untagged(obj: Any) -> Any:
    """Reverse of :func:`tagged`."""
    if isinstance(obj, dict):
        if len(obj) == 1 and "$base64" in obj:
            return base64.b64decode(obj["$base64"])
        return {k: untagged(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [untagged(v) for v in obj]
    return obj


class Bundle:
    """One recording: sections of raw entries, metadata and blobs, bound to a directory."""

    def __init__(self, directory: str | Path, rerecord_command: str) -> None:
        self.directory = Path(directory)
        self.path = self.directory / RECORDING_FILE
        self.failed_path = self.directory / FAILED_FILE
        self.blobs_dir = self.directory / BLOBS_DIR
        self.rerecord_command = rerecord_command
        self.metadata: dict[str, Any] = {}
        self.clock: dict[str, Any] = {}
        self.names: list[dict[str, Any]] = []
        self.http: list[dict[str, Any]] = []
        self.ssh: list[dict[str, Any]] = []
        self.roc_calls: list[dict[str, Any]] = []
        self.roc_feeds: list[dict[str, Any]] = []
        self.roc_seq = 0
        self._blobs: dict[str, bytes] = {}
        self._blob_cache: dict[str, bytes] = {}
        self.replayers: dict[str, Any] = {}  # per-transport replay state

    # -- errors ------------------------------------------------------------------------------
    def corrupt(self, problem: str) -> RecordingCorrupt:
        """A :class:`RecordingCorrupt` for this bundle."""
        return RecordingCorrupt(self.path, problem, self.rerecord_command)

    def mismatch(
        self, transport: str, wanted: str, nearest: str | None, differences: list[str], count: int
    ) -> RecordingMismatch:
        """A :class:`RecordingMismatch` for this bundle."""
        return RecordingMismatch(
            self.path, transport, wanted, nearest, differences, self.rerecord_command, count
        )

    def elapsed(self) -> float | None:
        """Seconds since the recording started (``clock.epoch``), for per-interaction times."""
        epoch = self.clock.get("epoch")
        return round(time.time() - float(epoch), 3) if epoch is not None else None

    def next_roc_seq(self) -> int:
        """Order number shared by ROC calls and feed items (their interleaving is kept)."""
        self.roc_seq += 1
        return self.roc_seq

    # -- blobs -------------------------------------------------------------------------------
    def _put_blob(self, data: bytes, scrubber: Scrubber | None) -> str:
        if scrubber is not None:
            data = scrubber.binary(data)
        name = f"{hashlib.sha256(data).hexdigest()}.{blob_extension(data)}"
        self._blobs[name] = data
        return name

    def blob(self, name: str) -> bytes:
        """The bytes of a stored blob; a missing or altered one is :class:`RecordingCorrupt`."""
        cached = self._blob_cache.get(name)
        if cached is not None:
            return cached
        if "/" in name or "\\" in name or name.startswith("."):
            raise self.corrupt(f"invalid blob name {name!r}")
        path = self.blobs_dir / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise self.corrupt(f"blob {path} is missing") from None
        if hashlib.sha256(data).hexdigest() != name.split(".")[0]:
            raise self.corrupt(f"blob {path} does not match its sha256 (altered or truncated)")
        self._blob_cache[name] = data
        return data

    # -- bodies ------------------------------------------------------------------------------
    def _encode_bytes(self, data: bytes | None, scrubber: Scrubber | None) -> Any:
        if data is None:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            if len(data) > INLINE_BINARY_MAX:
                return {"blob": self._put_blob(data, scrubber)}
            return {"base64": base64.b64encode(data).decode()}
        return text

    def _encode_body(self, data: bytes | None, scrubber: Scrubber | None) -> Any:
        if not data:
            return None
        text = self._encode_bytes(data, scrubber)
        if not isinstance(text, str):
            return text
        if text.lstrip()[:1] in ("{", "["):
            try:
                obj = json.loads(text)
            except ValueError:
                pass
            else:
                pointers: list[list[Any]] = []
                obj = self._extract_blobs(obj, [], pointers, scrubber)
                body: dict[str, Any] = {"json": obj}
                if pointers:
                    body["blobs"] = pointers
                return body
        return {"string": text}

    def _extract_blobs(
        self, obj: Any, path: list[Any], pointers: list[list[Any]], scrubber: Scrubber | None
    ) -> Any:
        """Move base64 payloads (``{"coding": "base64", "data": ...}``) into blobs."""
        if isinstance(obj, dict):
            coding = obj.get("coding")
            data = obj.get("data")
            out: dict[str, Any] = {}
            for k, v in obj.items():
                if (k == "data" and isinstance(coding, str) and coding.lower() == "base64"
                        and isinstance(data, str) and len(data) >= BLOB_MIN_BASE64):
                    try:
                        raw = base64.b64decode(data, validate=True)
                    except (binascii.Error, ValueError):
                        out[k] = v
                        continue
                    if base64.b64encode(raw).decode() == data:  # restorable byte-identically
                        out[k] = {"$blob": self._put_blob(raw, scrubber)}
                        pointers.append([*path, k])
                        continue
                out[k] = self._extract_blobs(v, [*path, k], pointers, scrubber)
            return out
        if isinstance(obj, list):
            return [self._extract_blobs(v, [*path, i], pointers, scrubber)
                    for i, v in enumerate(obj)]
        return obj

    def decode_body(self, body: Any) -> bytes:
        """Bytes of a stored body (blobs restored)."""
        if body is None:
            return b""
        if isinstance(body, str):
            return body.encode("utf-8")
        if not isinstance(body, dict):
            raise self.corrupt(f"unexpected body {body!r:.80}")
        if "json" in body:
            return json.dumps(self.json_body(body)).encode("utf-8")
        if "string" in body:
            return str(body["string"]).encode("utf-8")
        if "base64" in body:
            return base64.b64decode(body["base64"])
        if "blob" in body:
            return self.blob(body["blob"])
        raise self.corrupt(f"unexpected body keys {sorted(body)}")

    def json_body(self, body: dict[str, Any]) -> Any:
        """The JSON value of a stored ``{"json": ...}`` body, with blobs put back as base64."""
        obj = body["json"]
        for pointer in body.get("blobs") or ():
            parent = obj
            for key in pointer[:-1]:
                parent = parent[key]
            ref = parent[pointer[-1]]
            if not isinstance(ref, dict) or "$blob" not in ref:
                raise self.corrupt(f"blob reference at {pointer} is missing")
            parent[pointer[-1]] = base64.b64encode(self.blob(ref["$blob"])).decode()
        if body.get("blobs"):
            body.pop("blobs")  # restored in place; keep it restored for later replays
        return obj

    # -- HTTP stored form --------------------------------------------------------------------
    def _store_http(self, entry: dict[str, Any], scrubber: Scrubber | None) -> dict[str, Any]:
        req, resp = entry["request"], entry["response"]
        resp_headers = {k: v for k, v in resp["headers"].items()
                        if k.lower() not in _DROP_RESPONSE_HEADERS}
        resp_body = resp["body"]
        encoding = next((v for k, v in resp_headers.items() if k.lower() == "content-encoding"),
                        None)
        if encoding and resp_body:
            # urllib3 usually hands vcrpy the decoded body already; store it decoded either way.
            enc = (encoding[0] if isinstance(encoding, list) else encoding).lower()
            decoded = False
            try:
                if enc in ("gzip", "x-gzip") and resp_body[:2] == b"\x1f\x8b":
                    resp_body, decoded = zlib.decompress(resp_body, 16 + zlib.MAX_WBITS), True
                elif enc == "deflate":
                    resp_body, decoded = zlib.decompress(resp_body), True
            except zlib.error:
                pass
            if not decoded:
                try:
                    resp_body.decode("utf-8")
                    decoded = True  # plain text: it was decoded before it reached us
                except UnicodeDecodeError:
                    decoded = False
            if decoded:
                resp_headers = {k: v for k, v in resp_headers.items()
                                if k.lower() != "content-encoding"}
        # Sorted: servers and clients do not keep header order stable between runs.
        req_headers = {k: _one(v) for k, v in sorted(req["headers"].items(),
                                                     key=lambda kv: kv[0].lower())
                       if k.lower() not in _DROP_REQUEST_HEADERS}
        stored = {
            "request": {
                "method": req["method"],
                "uri": req["uri"],
                "headers": req_headers,
                "body": self._encode_body(req["body"], scrubber),
            },
            "response": {
                "status": {"code": resp["status"]["code"], "message": resp["status"]["message"]},
                "headers": {k: _one(v) for k, v in sorted(resp_headers.items(),
                                                          key=lambda kv: kv[0].lower())},
                "body": self._encode_body(resp_body, scrubber),
            },
        }
        if scrubber is not None:
            sreq, sresp = stored["request"], stored["response"]
            sreq["uri"] = scrubber.uri(sreq["uri"])
            sreq["headers"] = scrubber.header_values(sreq["headers"])
            sreq["body"] = scrubber.data(sreq["body"])
            sresp["headers"] = scrubber.header_values(sresp["headers"])
            sresp["body"] = scrubber.data(sresp["body"])
        return stored

    # -- SSH stored form ---------------------------------------------------------------------
    def _store_ssh(self, entry: dict[str, Any], scrubber: Scrubber | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in entry.items():
            if k == "at":
                continue  # kept in the clock line
            if k in ("stdout", "stderr"):
                out[k] = self._encode_bytes(v, scrubber)
            elif k == "content":
                out["blob"] = self._put_blob(v, scrubber)
            else:
                out[k] = v
        return out

    def _load_ssh(self, entry: dict[str, Any]) -> dict[str, Any]:
        out = dict(entry)
        for k in ("stdout", "stderr"):
            if k in out:
                out[k] = self.decode_body(out[k])
        if "blob" in out:
            out["content"] = self.blob(out.pop("blob"))
        return out

    # -- save / load -------------------------------------------------------------------------
    def document(self, scrubber: Scrubber | None) -> dict[str, Any]:
        """The stored form of this bundle (scrubbed when ``scrubber`` is given).

        Format 2 (see :mod:`.stable`): values that vary per run are in the ``clock`` entry.
        The scrubber numbers its placeholders per secret value, and its hooks run on each
        interaction's stored form (a hook returning None leaves the interaction out).
        """
        self._blobs = {}
        if scrubber is not None:
            scrubber.learn(self.metadata)
            for e in self.http:
                scrubber.learn_headers(e["request"]["headers"])
                scrubber.learn_headers(e["response"]["headers"])
                for part in (e["request"], e["response"]):
                    body = part["body"]
                    if body and body.lstrip()[:1] in (b"{", b"["):
                        try:
                            scrubber.learn(json.loads(body))
                        except ValueError:
                            pass
            scrubber.learn(self.roc_calls)
            scrubber.learn(self.roc_feeds)
            with scrubber.numbering():
                return self._document(scrubber)
        return self._document(None)

    def _document(self, scrubber: Scrubber | None) -> dict[str, Any]:
        def clean(obj: Any) -> Any:
            return scrubber.data(obj) if scrubber is not None else obj

        def hooked(transport: str, entries: list[tuple[dict[str, Any], Any]]
                   ) -> tuple[list[dict[str, Any]], list[Any]]:
            kept: list[dict[str, Any]] = []
            times: list[Any] = []
            for entry, at in entries:
                out = scrubber.apply_hooks(transport, entry) if scrubber is not None else entry
                if out is not None:
                    kept.append(out)
                    times.append(at)
            return kept, times

        metadata = clean({"plugin_version": __version__, **self.metadata})
        names = clean([dict(n) for n in self.names])
        http, http_at = hooked("http", [(self._store_http(e, scrubber), e.get("at"))
                                        for e in self.http])
        ssh, ssh_at = hooked("ssh", [(clean(self._store_ssh(e, scrubber)), e.get("at"))
                                     for e in self.ssh])
        calls, roc_at = hooked("roc", [
            (clean(tagged({k: v for k, v in c.items() if k != "at"})), c.get("at"))
            for c in self.roc_calls])
        feeds = [f for f in (scrubber.apply_hooks("feed", clean(tagged(f)))
                             if scrubber is not None else tagged(f) for f in self.roc_feeds)
                 if f is not None]
        doc: dict[str, Any] = {
            "format_version": 1,
            "metadata": metadata,
            "clock": {k: v for k, v in self.clock.items() if k != "at"},
            "names": names,
            "http": http,
            "ssh": ssh,
            "roc": {"calls": calls, "feeds": feeds},
            END_KEY: True,
        }
        times = {"http": http_at, "ssh": ssh_at}
        if any(t is not None for t in roc_at):
            times["roc"] = roc_at
        return stable.stabilize(doc, recorded_at=_now_iso(), times=times,
                                run_tokens=run_tokens())

    def render(self, doc: dict[str, Any]) -> str:
        """The YAML text of a stored document (the ``clock`` entry on one line)."""
        rest = {k: v for k, v in doc.items() if k not in ("format_version", "clock")}
        head = dump_yaml({"format_version": doc["format_version"]})
        if "clock" in doc:
            head += stable.render_clock_line(doc["clock"])
        return head + dump_yaml(rest)

    def save(self, scrubber: Scrubber | None, failed: bool = False) -> Path:
        """Scrub and write the bundle atomically; returns the file written.

        ``failed=False``: ``recording.yaml``; blobs no longer referenced and an earlier
        ``recording.failed.yaml`` are removed. ``failed=True`` (an attempt that must not
        replace a good recording): ``recording.failed.yaml`` beside it, sharing the
        content-addressed ``blobs/`` (only new blobs are added); ``recording.yaml`` and its
        blobs are left byte-identical.
        """
        doc = self.document(scrubber)
        for name, data in self._blobs.items():
            target = self.blobs_dir / name
            if not target.exists():
                atomic_write(target, data)
        target_path = self.failed_path if failed else self.path
        atomic_write(target_path, self.render(doc).encode("utf-8"))
        if failed:
            return target_path
        try:
            self.failed_path.unlink()
        except FileNotFoundError:
            pass
        if self.blobs_dir.is_dir():
            for stale in self.blobs_dir.iterdir():
                if stale.name not in self._blobs and not stale.name.startswith("."):
                    stale.unlink()
            if not any(self.blobs_dir.iterdir()):
                self.blobs_dir.rmdir()
        return self.path

    @classmethod
    def load(
        cls, directory: str | Path, rerecord_command: str, *, cache: ParseCache | None = None
    ) -> Bundle:
        """Read a bundle: RecordingMissing when absent, RecordingCorrupt when unusable.

        The parsed YAML comes from ``cache`` (default :meth:`ParseCache.default`) when the file's
        bytes are unchanged since it was last parsed; every check below runs either way.
        """
        bundle = cls(directory, rerecord_command)
        try:
            text = bundle.path.read_bytes()
        except FileNotFoundError:
            raise RecordingMissing(bundle.path, rerecord_command) from None
        except IsADirectoryError:
            raise bundle.corrupt("it is a directory") from None
        if not text or text.isspace():
            raise bundle.corrupt("the file is empty (truncated?)")
        # Parsing and rebuilding the sections make only fresh acyclic containers: collections
        # triggered meanwhile find nothing and would make loading superlinear in size.
        cache = cache or ParseCache.default()
        with no_gc():
            digest, doc = cache.lookup(text)
            # A cached document passed every check below that depends on the bytes alone.
            checked = doc is not None
            if doc is None:
                try:
                    doc = _parse_yaml(text)
                except yaml.YAMLError as exc:
                    mark = getattr(exc, "problem_mark", None)
                    where = f" at line {mark.line + 1}" if mark is not None else ""
                    problem = getattr(exc, "problem", exc)
                    raise bundle.corrupt(f"invalid YAML{where} ({problem})") from None
            if not isinstance(doc, dict) or "format_version" not in doc:
                raise bundle.corrupt("no format_version (not a pytest-robofixtures recording)")
            version = doc["format_version"]
            if not isinstance(version, int) or version < 1:
                raise bundle.corrupt(f"invalid format_version {version!r}")
            if version > FORMAT_VERSION:
                raise bundle.corrupt(
                    f"format_version {version} is newer than this pytest-robofixtures "
                    f"({__version__}) reads (up to {FORMAT_VERSION}); upgrade the plugin"
                )
            if doc.get(END_KEY) is not True:
                raise bundle.corrupt(f"'{END_KEY}' is missing at the end: the file is truncated")
            try:
                # Format 2 back to the format-1 shape. The cache keeps the expanded document
                # (expansion depends on the bytes alone), so a cached load skips it.
                if not checked:
                    doc = stable.expand(doc)
                bundle.metadata = dict(doc.get("metadata") or {})
                bundle.clock = dict(doc.get("clock") or {})
                bundle.names = [dict(n) for n in doc.get("names") or []]
                http = doc.get("http") or []
                bundle.http = list(http) if checked else [_check_http(e) for e in http]
                bundle.ssh = [bundle._load_ssh(e) for e in doc.get("ssh") or []]
                roc = doc.get("roc") or {}
                bundle.roc_calls = [untagged(c) for c in roc.get("calls") or []]
                bundle.roc_feeds = [untagged(f) for f in roc.get("feeds") or []]
            except (TypeError, KeyError, AttributeError, ValueError) as exc:
                problem = f"unexpected structure ({type(exc).__name__}: {exc})"
                raise bundle.corrupt(problem) from None
            if b"blob" in text:  # no body can reference a blob without the word in the file
                bundle._check_blobs()
            bundle._check_exception_names()
            if not checked:
                cache.store(digest, doc)
        return bundle

    def _check_exception_names(self) -> None:
        """Every recorded exception type must be a known recorded name (checked before replay)."""
        for entry in (*self.ssh, *self.roc_calls):
            raised = entry.get("raised")
            if isinstance(raised, dict) and canonical_name(str(raised.get("type", ""))) is None:
                raise unknown_type(str(raised.get("type", "")), self.path, self.rerecord_command)

    def _check_blobs(self) -> None:
        """Every blob the HTTP section references must exist (contents are checked on use)."""
        for e in self.http:
            for part in (e["request"], e["response"]):
                body = part.get("body")
                if not isinstance(body, dict):
                    continue
                names = [body["blob"]] if "blob" in body else []
                for pointer in body.get("blobs") or ():
                    ref: Any = body.get("json")
                    try:
                        for key in pointer:
                            ref = ref[key]
                        names.append(ref["$blob"])
                    except (KeyError, IndexError, TypeError):
                        raise self.corrupt(f"blob reference at {pointer} is missing") from None
                for name in names:
                    if not (self.blobs_dir / str(name)).is_file():
                        raise self.corrupt(f"blob {self.blobs_dir / str(name)} is missing")


def _parse_yaml(data: bytes) -> Any:
    return yaml.load(data, Loader=_Loader)


def _one(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        vals = [x.decode("latin-1") if isinstance(x, bytes) else str(x) for x in v]
        return vals[0] if len(vals) == 1 else vals
    return v.decode("latin-1") if isinstance(v, bytes) else str(v)


def _check_http(e: dict[str, Any]) -> dict[str, Any]:
    req, resp = e["request"], e["response"]
    for key in ("method", "uri"):
        if not isinstance(req[key], str):
            raise ValueError(f"http request {key} must be a string")
    int(resp["status"]["code"])
    return e
