"""The sandbox's HTTP plumbing: a threaded werkzeug server on loopback, JSON helpers, faults.

Each simulated service is a :class:`SimApp` (a WSGI app with a werkzeug URL map). This module
knows nothing of the services themselves, and the sandbox imports nothing of the clients.

Every service has the same admin endpoints (never used by the real services):

- ``GET /_admin/resources``: what exists now, by kind (leak checks);
- ``GET|POST|DELETE /_admin/faults``: list, add (one rule, see :class:`FaultRule`) or clear the
  fault rules; a bad rule is answered 400 with the reason;
- ``GET /_admin/requests[?since=N]``: the service requests seen, in order, each with its sequence
  number, method, path, the status answered (null when no answer was sent) and the fault applied,
  so tests can wait for a request instead of sleeping.

Every request body that looks like JSON is refused with 400 when nested deeper than
:data:`MAX_JSON_DEPTH` levels.
"""

from __future__ import annotations

import json
import math
import random
import re
import socket
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

LOOPBACK = "127.0.0.1"
#: Deepest nesting of arrays/objects accepted in a request body.
MAX_JSON_DEPTH = 64
#: How many requests ``/_admin/requests`` remembers (older ones are forgotten).
REQUEST_LOG_SIZE = 10_000
FAULT_KINDS = frozenset({"status", "drop", "delay", "lost_reply"})

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response (``null`` included)."""
    return Response(
        json.dumps(payload), status=status, mimetype="application/json", headers=headers
    )


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in the JSON text ``raw`` (0 for a scalar).

    Counted on the text, without parsing, so a hostile body costs linear time and no recursion.
    """
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def read_json(request: Request) -> Any:
    """The request body parsed as JSON whatever its Content-Type.

    ValueError when it is not JSON or nests deeper than :data:`MAX_JSON_DEPTH`.
    """
    raw = request.get_data(cache=True)
    if not raw:
        return None
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return json.loads(raw)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class FaultRule:
    """Make matching requests fail.

    ``kind`` is one of:

    - ``"status"``: answer ``status`` (100-599) with a JSON error body; with ``after=True`` the
      request is handled (and its change committed) first, then the error replaces the answer;
    - ``"drop"``: close the connection without an answer, before handling the request;
    - ``"lost_reply"``: handle the request (the change is committed), then close the connection
      without an answer;
    - ``"delay"``: wait ``seconds`` before handling (``after=True``: after handling, before
      answering).

    ``method`` and ``path`` (a regular expression searched in the path) select requests;
    ``count`` limits how many requests the rule hits (None: unlimited); ``rate`` is the
    probability (0..1) that a matching request is hit. ``retry_after`` (whole seconds) is sent as
    ``Retry-After`` with a status fault; a 429 without it says ``Retry-After: 0``.
    """

    kind: str
    status: int = 503
    method: str | None = None
    path: str | None = None
    count: int | None = None
    rate: float = 1.0
    seconds: float = 0.0
    after: bool = False
    retry_after: int | None = None
    hits: int = 0

    #: Keys a client may set (``hits`` is the server's count).
    KEYS = ("kind", "status", "method", "path", "count", "rate", "seconds", "after",
            "retry_after")

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ValueError("bad fault rule: " + "; ".join(problems))
        self._pattern = re.compile(self.path) if self.path else None

    def _problems(self) -> list[str]:
        out: list[str] = []
        if self.kind not in FAULT_KINDS:
            out.append(f"kind must be one of {sorted(FAULT_KINDS)}, not {self.kind!r}")
        if isinstance(self.status, bool) or not isinstance(self.status, int) \
                or not 100 <= self.status <= 599:
            out.append(f"status must be an integer from 100 to 599, not {self.status!r}")
        if self.method is not None and (
                not isinstance(self.method, str) or not re.fullmatch(r"[A-Za-z]+", self.method)):
            out.append(f"method must be an HTTP method name, not {self.method!r}")
        if self.path is not None:
            if not isinstance(self.path, str):
                out.append(f"path must be a regular expression string, not {self.path!r}")
            else:
                try:
                    re.compile(self.path)
                except re.error as exc:
                    out.append(f"path {self.path!r} is not a valid regular expression: {exc}")
        if self.count is not None and (isinstance(self.count, bool) or not isinstance(
                self.count, int) or self.count < 0):
            out.append(f"count must be a non-negative integer or null, not {self.count!r}")
        if not _is_number(self.rate) or not 0.0 <= self.rate <= 1.0:
            out.append(f"rate must be a number from 0 to 1, not {self.rate!r}")
        if not _is_number(self.seconds) or self.seconds < 0:
            out.append(f"seconds must be a non-negative number, not {self.seconds!r}")
        if not isinstance(self.after, bool):
            out.append(f"after must be true or false, not {self.after!r}")
        elif self.after and self.kind not in ("status", "delay"):
            out.append(f"after applies to kinds status and delay, not {self.kind!r} "
                       "(lost_reply is a drop after handling)")
        if self.retry_after is not None and (isinstance(self.retry_after, bool) or not isinstance(
                self.retry_after, int) or self.retry_after < 0):
            out.append(f"retry_after must be a non-negative integer, not {self.retry_after!r}")
        return out

    @classmethod
    def from_dict(cls, data: Any) -> FaultRule:
        """A rule from decoded JSON; ValueError (with every problem named) when it is not one."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a fault rule is a JSON object, not {type(data).__name__}")
        unknown = sorted(set(data) - set(cls.KEYS))
        if unknown:
            raise ValueError(f"unknown fault rule keys {unknown}; allowed: {list(cls.KEYS)}")
        if "kind" not in data:
            raise ValueError(f"a fault rule needs a kind: one of {sorted(FAULT_KINDS)}")
        return cls(**dict(data))

    def matches(self, method: str, path: str) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return self._pattern is None or self._pattern.search(path) is not None

    def response(self) -> Response:
        """The answer of a status fault."""
        retry_after = self.retry_after
        if retry_after is None and self.status == 429:
            retry_after = 0
        headers = None if retry_after is None else {"Retry-After": str(retry_after)}
        return json_response({"error": f"injected fault {self.status}"}, self.status,
                             headers=headers)

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in (*self.KEYS, "hits")}


class DroppedConnection(Exception):
    """Raised inside the app to close the client's connection without a response."""


@dataclass
class Faults:
    """The fault rules of one service, checked on every service request.

    ``seed`` seeds the generator that decides which matching requests a ``rate`` below 1 hits.
    """

    rules: list[FaultRule] = field(default_factory=list)
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def reseed(self, seed: int) -> None:
        """Restart the fault choices from ``seed``."""
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.as_dict() for r in self.rules]

    def pick(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path) and self._rng.random() < rule.rate:
                    rule.hits += 1
                    return rule
        return None


class RequestLog:
    """The service requests seen, in order, for ``GET /_admin/requests``."""

    def __init__(self, size: int = REQUEST_LOG_SIZE) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = 0

    def start(self, method: str, path: str) -> dict[str, Any]:
        """Record a request as it arrives; the returned entry is completed by :meth:`finish`."""
        with self._lock:
            self._seq += 1
            entry: dict[str, Any] = {"seq": self._seq, "method": method, "path": path,
                                     "status": None, "fault": None, "done": False}
            self._entries.append(entry)
        return entry

    def finish(self, entry: dict[str, Any], status: int | None, fault: str | None) -> None:
        with self._lock:
            entry.update(status=status, fault=fault, done=True)

    @property
    def last(self) -> int:
        with self._lock:
            return self._seq

    def since(self, seq: int) -> list[dict[str, Any]]:
        """Copies of the entries after sequence number ``seq``."""
        with self._lock:
            return [dict(e) for e in self._entries if e["seq"] > seq]


Handler = Callable[..., Response]


class SimApp:
    """Base of a simulated service: routing, admin endpoints, fault injection, error bodies."""

    #: Path prefix of the admin endpoints (never used by the real services).
    ADMIN = "/_admin"

    def __init__(self) -> None:
        self.url_map = Map(strict_slashes=False, merge_slashes=False)
        self.handlers: dict[str, Handler] = {}
        self.faults = Faults()
        self.lock = threading.RLock()
        self.request_log = RequestLog()
        self.route(f"{self.ADMIN}/resources", self._admin_resources, methods=["GET"])
        self.route(f"{self.ADMIN}/faults", self._admin_faults_get, methods=["GET"])
        self.route(f"{self.ADMIN}/faults", self._admin_faults_post, methods=["POST"])
        self.route(f"{self.ADMIN}/faults", self._admin_faults_delete, methods=["DELETE"])
        self.route(f"{self.ADMIN}/requests", self._admin_requests, methods=["GET"])

    @property
    def requests_seen(self) -> int:
        """How many service (non-admin) requests arrived so far."""
        return self.request_log.last

    # -- routing -----------------------------------------------------------------------------
    def route(self, rule: str, handler: Handler, methods: list[str]) -> None:
        endpoint = f"{handler.__name__}:{len(self.handlers)}"
        self.handlers[endpoint] = handler
        self.url_map.add(Rule(rule, endpoint=endpoint, methods=methods))

    # -- hooks for subclasses ----------------------------------------------------------------
    def live_resources(self) -> dict[str, list[dict[str, Any]]]:
        """Resources that exist now, by kind, for leak checks (override)."""
        return {}

    def authenticate(self, request: Request) -> Response | None:
        """Return an error response when the request's credentials are wrong (override)."""
        return None

    def not_found(self, request: Request) -> Response:
        """The service's answer for an unknown route (override)."""
        return json_response({"error": f"no route for {request.method} {request.path}"}, 404)

    def on_error(self, request: Request, exc: Exception) -> Response:
        """The service's answer for an unexpected error (override)."""
        return json_response({"error": f"internal error: {exc}"}, 500)

    def close(self) -> None:
        """Release what the service holds (threads, SSH servers...)."""

    # -- admin -------------------------------------------------------------------------------
    def _admin_resources(self, request: Request) -> Response:
        return json_response(self.live_resources())

    def _admin_faults_get(self, request: Request) -> Response:
        return json_response(self.faults.snapshot())

    def _admin_faults_post(self, request: Request) -> Response:
        try:
            rule = self.faults.add(FaultRule.from_dict(read_json(request)))
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(rule.as_dict(), 201)

    def _admin_faults_delete(self, request: Request) -> Response:
        self.faults.clear()
        return json_response({"cleared": True})

    def _admin_requests(self, request: Request) -> Response:
        raw = request.args.get("since", "0")
        if not re.fullmatch(r"\d{1,18}", raw):
            return json_response({"error": f"since must be a non-negative integer, not {raw!r}"},
                                 400)
        entries = self.request_log.since(int(raw))
        return json_response({"requests": entries, "last": self.request_log.last})

    # -- WSGI --------------------------------------------------------------------------------
    def _too_deep(self, request: Request) -> Response | None:
        if request.mimetype.startswith("multipart/") or request.content_length == 0:
            return None
        raw = request.get_data(cache=True)
        if raw.lstrip()[:1] in (b"[", b"{") and json_depth(raw) > MAX_JSON_DEPTH:
            return json_response(
                {"error": f"request body nests JSON deeper than {MAX_JSON_DEPTH} levels"}, 400)
        return None

    def _handle(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except (NotFound, MethodNotAllowed):
            return self.not_found(request)
        except HTTPException as exc:  # e.g. redirects from werkzeug's matcher
            return exc.get_response()
        try:
            return self.handlers[endpoint](request, **args)
        except DroppedConnection:
            raise
        except Exception as exc:
            return self.on_error(request, exc)

    def dispatch(self, request: Request) -> Response:
        """Answer one request: faults, depth limit, authentication, then the route's handler."""
        if request.path.startswith(self.ADMIN):
            return self._too_deep(request) or self._handle(request)
        entry = self.request_log.start(request.method, request.path)
        status: int | None = None
        rule = self.faults.pick(request.method, request.path)
        fault = rule.kind if rule is not None else None
        try:
            if rule is not None and not rule.after:
                if rule.kind == "drop":
                    raise DroppedConnection()
                if rule.kind == "status":
                    response = rule.response()
                    status = response.status_code
                    return response
                if rule.kind == "delay":
                    threading.Event().wait(rule.seconds)
            response = (self._too_deep(request) or self.authenticate(request)
                        or self._handle(request))
            if rule is not None and rule.kind == "lost_reply":
                raise DroppedConnection()
            if rule is not None and rule.after:
                if rule.kind == "status":
                    response = rule.response()
                else:
                    threading.Event().wait(rule.seconds)
            status = response.status_code
            return response
        finally:
            self.request_log.finish(entry, status, fault)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except DroppedConnection:
            sock = environ.get("werkzeug.socket")
            if isinstance(sock, socket.socket):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            # Nothing may be written after the drop; werkzeug logs the broken pipe only.
            raise
        return response(environ, start_response)


class _QuietHandler(WSGIRequestHandler):
    """Keep the sandbox's per-request log lines out of test output."""

    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class SimServer:
    """Serve one :class:`SimApp` on 127.0.0.1 in a background thread."""

    def __init__(self, app: SimApp, port: int = 0, host: str = LOOPBACK) -> None:
        if host not in (LOOPBACK, "localhost", "::1"):
            raise ValueError(f"the sandbox binds to loopback only, not {host!r}")
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        # Injected drops surface as app errors; keep werkzeug from printing their tracebacks.
        self._server.log = lambda *a, **k: None  # type: ignore[method-assign]
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"sim-{type(app).__name__}", daemon=True,
        )

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash (the official SDKs concatenate paths)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.app.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
