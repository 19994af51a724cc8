"""HTTP record/replay through vcrpy, with our own cassette over the bundle.

vcrpy's patchers (requests, urllib3, http.client, httpx...) are driven by :class:`BundleCassette`,
which records into the bundle and replays with ordered, polling-aware matching.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import io
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.sessions import merge_setting as _merge_setting
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from vcr.cassette import Cassette
from vcr.patch import CassettePatcherBuilder
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.record_mode import RecordMode

from .bundle import Bundle
from .match import Normalizer, canonical, json_differences
from .scrub import Scrubber

IgnoreFn = Callable[[str, str], bool]
# requests-stubs leave merge_setting unannotated: (request value, session value) -> merged
merge_setting: Callable[[Any, Any], Any] = _merge_setting
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
        # Live URLs are usually the recorded ones, and polls repeat them: compute each once.
        self._url_keys: dict[tuple[str, str], tuple[Any, ...]] = {}

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

    def url_key(self, method: str, uri: str) -> tuple[Any, ...]:
        """The URL part of a match key: method, scheme, host, port, path and sorted query."""
        key = self._url_keys.get((method, uri))
        if key is None:
            parts = urlsplit(self.scrubber.uri(uri))
            key = (
                method.upper(),
                parts.scheme,
                (parts.hostname or "").lower(),
                parts.port or {"http": 80, "https": 443}.get(parts.scheme),
                parts.path or "/",
                # rec-workflow hook: the Normalizer drops query parameters the config ignores.
                tuple(sorted(self.normalizer.query(
                    parse_qsl(parts.query, keep_blank_values=True)))) if parts.query else (),
            )
            if len(self._url_keys) >= 100_000:  # a client making up URLs: stay bounded
                self._url_keys.clear()
            self._url_keys[(method, uri)] = key
        return key

    def stored_body_form(self, body: Any) -> Any:
        """The body part of a match key, for a body in the bundle's stored form."""
        if isinstance(body, dict) and "json" in body:
            return self._body_form(None, self.bundle.json_body(body), True)
        return self._body_form(self.bundle.decode_body(body) if body else None)

    def live_body_form(self, body: Any) -> Any:
        """The body part of a match key, for a live request's body."""
        return self._body_form(body if isinstance(body, (bytes, type(None)))
                               else str(body).encode())

    @staticmethod
    def form_of(url_key: tuple[Any, ...], body_form: Any) -> dict[str, Any]:
        """A match form from its URL and body parts."""
        return dict(zip(_FIELDS, (*url_key, body_form)))

    def form(self, method: str, uri: str, body: Any, stored: bool) -> dict[str, Any]:
        """The match form of a request; ``stored`` bodies are in the bundle's stored form."""
        body_form = self.stored_body_form(body) if stored else self.live_body_form(body)
        return self.form_of(self.url_key(method, uri), body_form)

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


class DeferredNormalizer(Normalizer):
    """A :class:`Normalizer` whose learning of recorded ids can wait until a value is normalized.

    Learning walks every recorded body; a replay that never normalizes a JSON value (GET-only
    polling, a test that stops early) never pays for it. Queued learning runs in the order it
    was queued and before any later :meth:`collect_ids`, so the result is the same as learning
    eagerly.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        self._pending: list[Callable[[], None]] = []
        self._learning = threading.RLock()

    def defer(self, learn: Callable[[], None]) -> None:
        """Queue ``learn`` (which calls :meth:`Normalizer.collect_ids` on this object)."""
        self._pending.append(learn)

    def flush(self) -> None:
        """Run the queued learning now (other threads wait until it is complete)."""
        with self._learning:
            while self._pending:
                self._pending[0]()
                self._pending.pop(0)  # only once learnt: others keep waiting meanwhile

    def collect_ids(self, request: Any, response: Any) -> None:
        self.flush()
        super().collect_ids(request, response)

    def value(self, obj: Any) -> Any:
        if self._pending:
            self.flush()
        return super().value(obj)


_UNSET: Any = object()


class Declined(enum.Enum):
    """What :meth:`_LazyIndex.next` returns when its ``accept`` refused the entry."""

    DECLINED = "declined"


DECLINED = Declined.DECLINED


class _LazyIndex:
    """Recorded requests served per match key in recorded order, the last one repeating.

    The same contract as :class:`OrderedReplay`, built lazily: URL parts are computed once per
    distinct recorded ``(method, uri)`` at the first request, body forms only for recorded
    requests whose URL parts equal a live request's.
    """

    def __init__(self, cassette: BundleCassette) -> None:
        self.matcher = cassette.matcher
        self.entries = cassette.bundle.http
        self.play_counts = [0] * len(self.entries)
        self._lock = threading.RLock()
        self._by_url: dict[tuple[Any, ...], list[int]] | None = None
        self._bodies: list[Any] = [_UNSET] * len(self.entries)
        self._queues: dict[tuple[Any, ...], dict[Any, list[int]]] = {}
        self._pos: dict[tuple[Any, ...], int] = {}

    def _url_index(self) -> dict[tuple[Any, ...], list[int]]:
        if self._by_url is None:
            raw: dict[tuple[str, str], list[int]] = {}
            for i, e in enumerate(self.entries):
                req = e["request"]
                raw.setdefault((req["method"], req["uri"]), []).append(i)
            by_url: dict[tuple[Any, ...], list[int]] = {}
            for (method, uri), indexes in raw.items():
                by_url.setdefault(self.matcher.url_key(method, uri), []).extend(indexes)
            for indexes in by_url.values():
                indexes.sort()
            self._by_url = by_url
        return self._by_url

    def body_form(self, index: int) -> Any:
        """The body form of recorded request ``index`` (computed once)."""
        form = self._bodies[index]
        if form is _UNSET:
            form = self._bodies[index] = self.matcher.stored_body_form(
                self.entries[index]["request"].get("body"))
        return form

    def next(
        self,
        url_key: tuple[Any, ...],
        body_form: Any,
        accept: Callable[[dict[str, Any]], bool] | None = None,
    ) -> tuple[int, dict[str, Any]] | None | Declined:
        """The entry to serve for a live request, or None when none was recorded.

        With ``accept``, an entry it refuses is left unserved and :data:`DECLINED` returned.
        """
        with self._lock:
            queues = self._queues.get(url_key)
            if queues is None:
                queues = {}
                for i in self._url_index().get(url_key, ()):
                    queues.setdefault(self.body_form(i), []).append(i)
                self._queues[url_key] = queues
            queue = queues.get(body_form)
            if not queue:
                return None
            key = (url_key, body_form)
            pos = self._pos.get(key, 0)
            index = queue[min(pos, len(queue) - 1)]
            if accept is not None and not accept(self.entries[index]):
                return DECLINED
            self._pos[key] = pos + 1
            self.play_counts[index] += 1
        return index, self.entries[index]

    def forms(self) -> list[dict[str, Any]]:
        """Every recorded request's full match form (for mismatch messages)."""
        with self._lock:
            out: list[dict[str, Any]] = [{} for _ in self.entries]
            for url_key, indexes in self._url_index().items():
                for i in indexes:
                    out[i] = self.matcher.form_of(url_key, self.body_form(i))
            return out

    def unused(self) -> list[int]:
        """Indexes of entries never served."""
        return [i for i, n in enumerate(self.play_counts) if n == 0]


class _DirectAnswer(NamedTuple):
    """A recorded response as :meth:`BundleCassette.direct_response` serves it."""

    status: int
    reason: str
    headers: dict[str, str]
    encoding: str | None
    body: bytes
    needs_full_path: bool  # cookies or a still-encoded body: urllib3 and vcrpy handle those
    retry_after: bool


class BundlePersister:
    """vcrpy persister (its documented extension point) for cassettes that live in a bundle.

    The :class:`Recorder` loads and saves the bundle itself; vcrpy's own load finds no
    interactions and its save writes nothing.
    """

    @classmethod
    def load_cassette(cls, cassette_path: str, serializer: Any) -> tuple[list[Any], list[Any]]:
        """No vcrpy interactions: the bundle's are served by :class:`BundleCassette`."""
        raise CassetteNotFoundError(cassette_path)

    @staticmethod
    def save_cassette(cassette_path: str, cassette_dict: dict[str, Any], serializer: Any) -> None:
        """Nothing: :meth:`Bundle.save` writes the recording."""
        return None


class BundleCassette(Cassette):  # type: ignore[misc]  # vcrpy ships no type information
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
            persister=BundlePersister,
            record_mode=RecordMode.NONE if mode == "replay" else RecordMode.ALL,
        )
        self.bundle = bundle
        self.mode = mode
        self.ignore = ignore
        self.matcher = HttpMatcher(bundle, scrubber, normalizer)
        self._append_lock = threading.Lock()
        self._index: _LazyIndex | None = None
        self._responses: dict[int, dict[str, Any]] = {}
        self._direct_cache: dict[int, _DirectAnswer] = {}  # id(entry) -> its answer
        if mode == "replay":
            self._index = _LazyIndex(self)

            def learn() -> None:
                for e in bundle.http:
                    req_body, body = e["request"].get("body"), e["response"].get("body")
                    Normalizer.collect_ids(
                        normalizer,
                        [e["request"]["uri"], req_body.get("json") if isinstance(req_body, dict)
                         else req_body],
                        body.get("json") if isinstance(body, dict) else body,
                    )

            if isinstance(normalizer, DeferredNormalizer):
                normalizer.defer(learn)
            else:
                learn()

    # vcrpy hooks -----------------------------------------------------------------------------
    @property
    def write_protected(self) -> bool:
        return self.mode == "replay"

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
        assert self._index is not None
        body = request.body_bytes if hasattr(request, "body_bytes") else request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        url_key = self.matcher.url_key(request.method, request.uri)
        body_form = self.matcher.live_body_form(body)
        found = self._index.next(url_key, body_form)
        if found is None or found is DECLINED:
            raise self._mismatch(self.matcher.form_of(url_key, body_form), request.uri)
        index, entry = found
        return self._response(index, entry)

    def direct_response(
        self, request: requests.PreparedRequest, adapter: HTTPAdapter
    ) -> requests.Response | None:
        """The recorded answer to ``request`` as a ``requests.Response``, without urllib3.

        None when this entry needs what only the full path does right (urllib3's retry on a
        recorded 429/5xx, cookies, a body stored still encoded): the entry is left for that path.
        """
        assert self._index is not None
        body = request.body
        if not isinstance(body, (bytes, str, type(None))):
            return None  # a streamed body: vcrpy reads it the way http.client sends it
        if isinstance(body, str):
            body = body.encode("utf-8")
        method = request.method or "GET"
        url = request.url or ""
        retry = adapter.max_retries
        served: list[_DirectAnswer] = []

        def plain(entry: dict[str, Any]) -> bool:
            answer = self._direct_answer(entry)
            served.append(answer)
            return not answer.needs_full_path and not retry.is_retry(
                method, answer.status, answer.retry_after)

        url_key = self.matcher.url_key(method, url)
        body_form = self.matcher.live_body_form(body)
        found = self._index.next(url_key, body_form, plain)
        if found is DECLINED:
            return None
        if found is None:
            raise self._mismatch(self.matcher.form_of(url_key, body_form), url)
        answer = served[-1]
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason
        response.headers = CaseInsensitiveDict(answer.headers)
        response.encoding = answer.encoding
        response._content = answer.body  # served whole, as a replayed body is
        response._content_consumed = True  # type: ignore[attr-defined]  # not in the stubs
        response.raw = io.BytesIO(answer.body)
        response.url = url
        response.request = request
        response.connection = adapter
        return response

    def _direct_answer(self, entry: dict[str, Any]) -> _DirectAnswer:
        """What :meth:`direct_response` needs of a recorded response (built once per entry)."""
        answer = self._direct_cache.get(id(entry))
        if answer is None:
            resp = entry["response"]
            body = self.bundle.decode_body(resp.get("body"))
            lists = {k: v for k, v in _headers_as_lists(resp.get("headers") or {}).items()
                     if k.lower() not in ("content-length", "transfer-encoding")}
            lists["Content-Length"] = [str(len(body))]
            # urllib3 joins repeated headers with ", ", and requests sees them so
            headers = {k: ", ".join(v) for k, v in lists.items()}
            lower = {k.lower(): v for k, v in lists.items()}
            encoded = [e for e in lower.get("content-encoding", []) if e.lower() != "identity"]
            answer = _DirectAnswer(
                status=int(resp["status"]["code"]),
                reason=str(resp["status"].get("message", "")),
                headers=headers,
                encoding=get_encoding_from_headers(CaseInsensitiveDict(headers)),
                body=body,
                needs_full_path="set-cookie" in lower or bool(encoded),
                retry_after="retry-after" in lower,
            )
            self._direct_cache[id(entry)] = answer
        return answer

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
        assert self._index is not None
        forms = self._index.forms()
        play_counts = self._index.play_counts
        best: tuple[Any, int] | None = None
        for i, form in enumerate(forms):
            same = [form[f] == live[f] for f in _FIELDS]
            # method and body first, then the most fields; ties: not yet played, then earliest
            rank = ((int(same[0]) + int(same[4]), sum(same)), int(play_counts[i] == 0), -i)
            if best is None or rank > best[0]:
                best = (rank, i)
        nearest = None
        diffs: list[str] = []
        if best is not None:
            index = best[1]
            nearest = self.matcher.describe(forms[index], self.bundle.http[index]["request"]["uri"])
            diffs = self.matcher.differences(forms[index], live)
        return self.bundle.mismatch(
            "HTTP", self.matcher.describe(live, uri), nearest, diffs, len(self.bundle.http)
        )

    def unused(self) -> list[str]:
        """Recorded interactions replay never served."""
        if self._index is None:
            return []
        requests = [self.bundle.http[i]["request"] for i in self._index.unused()]
        return [f"HTTP {r['method']} {r['uri']}" for r in requests]


class _Current:
    """What vcrpy's patched connection classes see as their ``cassette``: the innermost active one.

    vcrpy builds its patchers (and their connection subclasses) for one cassette object; building
    them costs milliseconds, mostly failed imports of clients that are not installed. They are
    built once per process for this stand-in and re-entered around each activation instead.
    """

    _path = "pytest-robofixtures"  # names vcrpy's generated connection subclasses
    custom_patches: tuple[Any, ...] = ()
    skip_patchers: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if not _active:
            raise RuntimeError("an HTTP connection made under a pytest-robofixtures cassette "
                               "was used after the cassette was closed")
        return getattr(_active[-1], name)


_active: list[BundleCassette] = []
_patchers: list[Any] | None = None
_stack: contextlib.ExitStack | None = None
_real_merge_environment_settings = requests.Session.merge_environment_settings


def _merge_environment_settings(
    session: requests.Session, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
) -> Any:
    """``Session.merge_environment_settings`` without the environment when replay answers.

    requests reads proxy and CA-bundle variables from the environment before every request
    (a third of a replayed request's cost); a request the replaying cassette answers never
    reaches a proxy or a TLS handshake, so they are skipped there. Recording, and replay with an
    ``ignore`` rule (whose requests go out), keep requests' behaviour.
    """
    if not _answered_here():
        return _real_merge_environment_settings(session, url, proxies, stream, verify, cert)
    # merging two empty proxy maps (the common case) walks both as key/value lists: skip it
    merged = {} if not proxies and not session.proxies else merge_setting(proxies,
                                                                          session.proxies)
    return {
        "proxies": merged,
        "stream": merge_setting(stream, session.stream),
        "verify": merge_setting(verify, session.verify),
        "cert": merge_setting(cert, session.cert),
    }


def _answered_here() -> bool:
    """Whether the active cassette answers every request itself (replay without ``ignore``)."""
    top = _active[-1] if _active else None
    return top is not None and top.mode == "replay" and top.ignore is None


_real_get_netrc_auth = getattr(requests.sessions, "get_netrc_auth", None)


def _get_netrc_auth(url: str, raise_errors: bool = False) -> Any:
    """The ``~/.netrc`` lookup of requests (a stat per request), skipped where replay answers."""
    if _answered_here() or _real_get_netrc_auth is None:
        return None  # the header it would add is not matched and the request never leaves
    return _real_get_netrc_auth(url, raise_errors)


_real_adapter_send = HTTPAdapter.send


def _adapter_send(adapter: HTTPAdapter, request: requests.PreparedRequest, *args: Any,
                  **kwargs: Any) -> requests.Response:
    """``HTTPAdapter.send`` answering from the replaying cassette without urllib3 or vcrpy.

    Building a urllib3 connection and response around a recorded body was most of a replayed
    request's cost; the answer is the same. What the full path must handle (see
    :meth:`BundleCassette.direct_response`), recording, and requests an ``ignore`` rule lets
    through to the network go the usual way.
    """
    top = _active[-1] if _active else None
    if top is not None and top.mode == "replay" and (
            top.ignore is None or not top.ignore(request.method or "GET", request.url or "")):
        response = top.direct_response(request, adapter)
        if response is not None:
            return response
    return _real_adapter_send(adapter, request, *args, **kwargs)


class _Swap:
    """One attribute replaced while cassettes are active, as ``mock.patch.object`` would.

    Only for a plain replacement value, without mock's per-use checks (the patches are applied
    and removed around every recorded test). Restores the original when the attribute was the
    target's own, else removes the override (so a class goes back to inheriting it), as
    ``mock.patch`` does.
    """

    __slots__ = ("attribute", "getter", "new", "_saved")

    def __init__(self, getter: Callable[[], Any], attribute: str, new: Any) -> None:
        self.getter = getter
        self.attribute = attribute
        self.new = new
        self._saved: list[tuple[Any, bool, Any]] = []

    @classmethod
    def of(cls, patcher: Any) -> Any:
        """A swap doing what ``patcher`` does, or ``patcher`` itself when it does more."""
        # mock's _patch is private: read it defensively, and let mock apply anything unusual.
        fields = {name: getattr(patcher, name, mock.DEFAULT) for name in (
            "getter", "attribute", "new", "create", "spec", "spec_set", "autospec",
            "new_callable", "kwargs", "additional_patchers")}
        plain = (isinstance(patcher, getattr(mock, "_patch", ()))
                 and callable(fields["getter"]) and isinstance(fields["attribute"], str)
                 and fields["new"] is not mock.DEFAULT and fields["create"] is False
                 and fields["spec"] is None and fields["spec_set"] is None
                 and fields["autospec"] is None and fields["new_callable"] is None
                 and fields["kwargs"] == {} and fields["additional_patchers"] == [])
        return cls(fields["getter"], fields["attribute"], fields["new"]) if plain else patcher

    def __enter__(self) -> None:
        target = self.getter()
        own = getattr(target, "__dict__", {})
        local = self.attribute in own
        # the target's own value as stored (a staticmethod stays one when put back)
        original = own[self.attribute] if local else getattr(target, self.attribute)
        self._saved.append((target, local, original))
        setattr(target, self.attribute, self.new)

    def __exit__(self, *exc: object) -> None:
        target, local, original = self._saved.pop()
        if local:
            setattr(target, self.attribute, original)
        else:
            delattr(target, self.attribute)


def _build_patchers() -> list[Any]:
    patchers = list(CassettePatcherBuilder(_Current()).build())
    patchers.append(mock.patch.object(HTTPAdapter, "send", _adapter_send))
    patchers.append(mock.patch.object(requests.Session, "merge_environment_settings",
                                      _merge_environment_settings))
    if _real_get_netrc_auth is not None:  # a module-level helper of requests: patch if present
        patchers.append(mock.patch.object(requests.sessions, "get_netrc_auth", _get_netrc_auth))
    return [_Swap.of(p) for p in patchers]


@contextlib.contextmanager
def use_bundle_cassette(cassette: BundleCassette) -> Iterator[BundleCassette]:
    """Activate vcrpy's patches for ``cassette`` (LIFO nesting: the innermost one records).

    The patches are applied when the first cassette activates and removed when the last one
    closes; nested activations only change which cassette answers.
    """
    global _patchers, _stack
    with _patch_lock:
        if not _active:
            if _patchers is None:
                _patchers = _build_patchers()
            stack = contextlib.ExitStack()
            try:
                for patcher in _patchers:
                    stack.enter_context(patcher)
            except BaseException:
                stack.close()
                raise
            _stack = stack
        _active.append(cassette)
    try:
        yield cassette
    finally:
        with _patch_lock:
            # Exits may come out of order from threads; remove this activation wherever it is.
            for i in range(len(_active) - 1, -1, -1):
                if _active[i] is cassette:
                    del _active[i]
                    break
            if not _active and _stack is not None:
                stack, _stack = _stack, None
                stack.close()
