"""HTTP record/replay through vcrpy, with our own cassette over the bundle.

vcrpy's patchers (requests, urllib3, http.client, httpx...) are driven by :class:`BundleCassette`,
which records into the bundle and replays with ordered, polling-aware matching.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from vcr.cassette import Cassette
from vcr.patch import CassettePatcherBuilder
from vcr.record_mode import RecordMode

from .bundle import Bundle
from .match import Normalizer, OrderedReplay, canonical, json_differences
from .scrub import Scrubber

IgnoreFn = Callable[[str, str], bool]
_FIELDS = ("method", "scheme", "host", "port", "path", "query", "body")
_patch_lock = threading.RLock()


def _headers_as_lists(headers: dict[str, Any]) -> dict[str, list[str]]:
    return {k: (list(v) if isinstance(v, list) else [str(v)]) for k, v in headers.items()}


class HttpMatcher:
    """Turns recorded and live requests into comparable forms (scrubbed, then normalized)."""

    def __init__(self, bundle: Bundle, scrubber: Scrubber, normalizer: Normalizer) -> None:
        self.bundle = bundle
        self.scrubber = scrubber
        self.normalizer = normalizer

    def _body_form(self, data: bytes | None, json_obj: Any = None, is_json: bool = False) -> Any:
        if is_json:
            return canonical(self.normalizer.value(self.scrubber.data(json_obj)))
        if not data:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return "sha256:" + hashlib.sha256(self.scrubber.binary(data)).hexdigest()
        if text.lstrip()[:1] in ("{", "["):
            try:
                return self._body_form(None, json.loads(text), True)
            except ValueError:
                pass
        return self.scrubber.text(text)

    def form(self, method: str, uri: str, body: Any, stored: bool) -> dict[str, Any]:
        """The match form of a request; ``stored`` bodies are in the bundle's stored form."""
        parts = urlsplit(self.scrubber.uri(uri))
        if stored:
            if isinstance(body, dict) and "json" in body:
                body_form = self._body_form(None, self.bundle.json_body(body), True)
            else:
                body_form = self._body_form(self.bundle.decode_body(body) if body else None)
        else:
            body_form = self._body_form(body if isinstance(body, (bytes, type(None)))
                                        else str(body).encode())
        return {
            "method": method.upper(),
            "scheme": parts.scheme,
            "host": (parts.hostname or "").lower(),
            "port": parts.port or {"http": 80, "https": 443}.get(parts.scheme),
            "path": parts.path or "/",
            # rec-workflow hook: the Normalizer drops query parameters the config ignores.
            "query": tuple(sorted(self.normalizer.query(
                parse_qsl(parts.query, keep_blank_values=True)))),
            "body": body_form,
        }

    @staticmethod
    def key(form: dict[str, Any]) -> tuple[Any, ...]:
        """Hashable key of a match form."""
        return tuple(form[f] for f in _FIELDS)

    @staticmethod
    def describe(form: dict[str, Any], uri: str) -> str:
        """``METHOD uri`` plus the body, for messages."""
        text = f"{form['method']} {uri}"
        if form["body"] is not None:
            body = str(form["body"])
            text += "\nbody: " + (body if len(body) <= 300 else body[:297] + "...")
        return text

    @staticmethod
    def differences(recorded: dict[str, Any], live: dict[str, Any]) -> list[str]:
        """What differs between two match forms, matcher by matcher."""
        out = []
        for f in _FIELDS:
            if recorded[f] == live[f]:
                continue
            if f == "body" and recorded[f] and live[f]:
                try:
                    details = json_differences(json.loads(recorded[f]), json.loads(live[f]))
                except (ValueError, TypeError):
                    details = [f"recorded {recorded[f]!r:.120}, got {live[f]!r:.120}"]
                out += [f"body: {d}" for d in details]
            else:
                out.append(f"{f}: recorded {recorded[f]!r}, got {live[f]!r}")
        return out


class BundleCassette(Cassette):
    """A vcrpy cassette whose interactions live in a :class:`Bundle`.

    Record: every request goes to the server and is appended (mode ``all``: the recording is
    rewritten). Replay: nothing goes out; identical requests are served in recorded order and
    the last response repeats; a request not recorded raises :class:`RecordingMismatch`.
    """

    def __init__(
        self,
        bundle: Bundle,
        mode: str,
        scrubber: Scrubber,
        normalizer: Normalizer,
        ignore: IgnoreFn | None = None,
    ) -> None:
        super().__init__(
            path=str(bundle.path),
            record_mode=RecordMode.NONE if mode == "replay" else RecordMode.ALL,
        )
        self.bundle = bundle
        self.mode = mode
        self.ignore = ignore
        self.matcher = HttpMatcher(bundle, scrubber, normalizer)
        self._append_lock = threading.Lock()
        self._replay: OrderedReplay[dict[str, Any]] | None = None
        self._forms: list[dict[str, Any]] = []
        self._responses: dict[int, dict[str, Any]] = {}
        if mode == "replay":
            for e in bundle.http:
                req_body, body = e["request"].get("body"), e["response"].get("body")
                normalizer.collect_ids(
                    [e["request"]["uri"], req_body.get("json") if isinstance(req_body, dict)
                     else req_body],
                    body.get("json") if isinstance(body, dict) else body,
                )
            self._forms = [
                self.matcher.form(e["request"]["method"], e["request"]["uri"],
                                  e["request"].get("body"), stored=True)
                for e in bundle.http
            ]
            self._replay = OrderedReplay(
                bundle.http, keys=[self.matcher.key(f) for f in self._forms]
            )

    # vcrpy hooks -----------------------------------------------------------------------------
    @property
    def write_protected(self) -> bool:
        return self.mode == "replay"

    def _load(self) -> None:  # the bundle is loaded by the Recorder
        return None

    def _save(self, force: bool = False) -> None:  # the bundle is saved by the Recorder
        return None

    def filter_request(self, request: Any) -> Any:
        if self.ignore is not None and self.ignore(request.method, request.uri):
            return None
        return request

    def can_play_response_for(self, request: Any) -> bool:
        return self.mode == "replay" and self.filter_request(request) is not None

    def append(self, request: Any, response: dict[str, Any]) -> None:
        if self.filter_request(request) is None:
            return
        body = request.body_bytes if hasattr(request, "body_bytes") else request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        entry = {
            "request": {
                "method": request.method,
                "uri": request.uri,
                "headers": dict(request.headers),
                "body": body or None,
            },
            "response": {
                "status": dict(response["status"]),
                "headers": {k: list(v) for k, v in response["headers"].items()},
                "body": response["body"]["string"] or b"",
            },
            "at": self.bundle.elapsed(),  # rec-workflow hook: time for the clock line
        }
        with self._append_lock:
            self.bundle.http.append(entry)

    def play_response(self, request: Any) -> dict[str, Any]:
        assert self._replay is not None
        body = request.body_bytes if hasattr(request, "body_bytes") else request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        live = self.matcher.form(request.method, request.uri, body, stored=False)
        found = self._replay.next(self.matcher.key(live))
        if found is None:
            raise self._mismatch(live, request.uri)
        index, entry = found
        return self._response(index, entry)

    def _response(self, index: int, entry: dict[str, Any]) -> dict[str, Any]:
        cached = self._responses.get(index)
        if cached is None:
            resp = entry["response"]
            body = self.bundle.decode_body(resp.get("body"))
            headers = {k: v for k, v in _headers_as_lists(resp.get("headers") or {}).items()
                       if k.lower() not in ("content-length", "transfer-encoding")}
            headers["Content-Length"] = [str(len(body))]
            cached = {
                "status": {"code": int(resp["status"]["code"]),
                           "message": str(resp["status"].get("message", ""))},
                "headers": headers,
                "body": body,
            }
            self._responses[index] = cached
        # vcrpy mutates the headers it is given; hand out fresh containers each time.
        return {
            "status": dict(cached["status"]),
            "headers": {k: list(v) for k, v in cached["headers"].items()},
            "body": {"string": cached["body"]},
        }

    def _mismatch(self, live: dict[str, Any], uri: str) -> Exception:
        assert self._replay is not None

        forms = self._forms
        form_of = {id(e): f for e, f in zip(self.bundle.http, forms)}

        def score(entry: dict[str, Any]) -> tuple[int, int]:
            form = form_of[id(entry)]
            same = [form[f] == live[f] for f in _FIELDS]
            return (int(same[0]) + int(same[4]), sum(same))

        best = self._replay.nearest(score)
        nearest = diffs = None
        if best is not None:
            index, _entry = best
            form = forms[index]
            nearest = self.matcher.describe(form, self.bundle.http[index]["request"]["uri"])
            diffs = self.matcher.differences(form, live)
        return self.bundle.mismatch(
            "HTTP", self.matcher.describe(live, uri), nearest, diffs or [], len(self.bundle.http)
        )

    def unused(self) -> list[str]:
        """Recorded interactions replay never served."""
        if self._replay is None:
            return []
        requests = [self.bundle.http[i]["request"] for i in self._replay.unused()]
        return [f"HTTP {r['method']} {r['uri']}" for r in requests]


@contextlib.contextmanager
def use_bundle_cassette(cassette: BundleCassette) -> Iterator[BundleCassette]:
    """Activate vcrpy's patches for ``cassette`` (LIFO nesting: the innermost one records)."""
    with contextlib.ExitStack() as stack:
        with _patch_lock:
            for patcher in CassettePatcherBuilder(cassette).build():
                stack.enter_context(patcher)
        yield cassette
