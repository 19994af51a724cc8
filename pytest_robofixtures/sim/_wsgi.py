"""The sandbox's HTTP plumbing: a threaded werkzeug server on loopback, JSON helpers, faults.

Each simulated service is a :class:`SimApp` (a WSGI app with a werkzeug URL map). This module
knows nothing of the services themselves, and the sandbox imports nothing of the clients.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

LOOPBACK = "127.0.0.1"


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response (``null`` included)."""
    return Response(
        json.dumps(payload), status=status, mimetype="application/json", headers=headers
    )


def read_json(request: Request) -> Any:
    """The request body parsed as JSON whatever its Content-Type; ValueError when it is not JSON."""
    raw = request.get_data(cache=True)
    if not raw:
        return None
    return json.loads(raw)


@dataclass
class FaultRule:
    """Make matching requests fail.

    ``kind`` is ``"status"`` (answer ``status``), ``"drop"`` (close the connection without an
    answer) or ``"delay"`` (sleep ``seconds`` first). ``count`` limits how many requests it hits
    (None: unlimited); ``rate`` is the probability that a matching request is hit.
    """

    kind: str
    status: int = 503
    method: str | None = None
    path: str | None = None  # a regular expression searched in the path
    count: int | None = None
    rate: float = 1.0
    seconds: float = 0.0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path and not re.search(self.path, path))

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "status": self.status, "method": self.method, "path": self.path,
            "count": self.count, "rate": self.rate, "seconds": self.seconds, "hits": self.hits,
        }


class DroppedConnection(Exception):
    """Raised inside the app to close the client's connection without a response."""


@dataclass
class Faults:
    """The fault rules of one service, checked before every request."""

    rules: list[FaultRule] = field(default_factory=list)
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def pick(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path) and self._rng.random() < rule.rate:
                    rule.hits += 1
                    return rule
        return None


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
        self._count_lock = threading.Lock()
        self.requests_seen = 0
        self.route(f"{self.ADMIN}/resources", self._admin_resources, methods=["GET"])
        self.route(f"{self.ADMIN}/faults", self._admin_faults_get, methods=["GET"])
        self.route(f"{self.ADMIN}/faults", self._admin_faults_post, methods=["POST"])
        self.route(f"{self.ADMIN}/faults", self._admin_faults_delete, methods=["DELETE"])

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
        return json_response([r.as_dict() for r in self.faults.rules])

    def _admin_faults_post(self, request: Request) -> Response:
        body = read_json(request) or {}
        allowed = {"kind", "status", "method", "path", "count", "rate", "seconds"}
        unknown = set(body) - allowed
        if unknown or body.get("kind") not in {"status", "drop", "delay"}:
            return json_response(
                {"error": f"fault needs kind status|drop|delay and keys from {sorted(allowed)}"},
                400,
            )
        rule = self.faults.add(FaultRule(**body))
        return json_response(rule.as_dict(), 201)

    def _admin_faults_delete(self, request: Request) -> Response:
        self.faults.clear()
        return json_response({"cleared": True})

    # -- WSGI --------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        is_admin = request.path.startswith(self.ADMIN)
        if not is_admin:
            with self._count_lock:
                self.requests_seen += 1
            rule = self.faults.pick(request.method, request.path)
            if rule is not None:
                if rule.kind == "drop":
                    raise DroppedConnection()
                if rule.kind == "delay":
                    threading.Event().wait(rule.seconds)
                else:
                    return json_response(
                        {"error": f"injected fault {rule.status}"}, rule.status,
                        headers={"Retry-After": "0"} if rule.status == 429 else None,
                    )
            denied = self.authenticate(request)
            if denied is not None:
                return denied
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
