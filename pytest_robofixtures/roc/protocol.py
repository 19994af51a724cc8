"""ROC wire protocol: 7/MDP (MDP/0.1) framing with JSON-RPC 2.0 bodies.

Framing
-------
ROC speaks ZeroMQ RFC 7/MDP (MDP/0.1) exactly; the MDP *service name* is the ROC *object id*.
Any 7/MDP client or worker interoperates with the ROC broker, and ROC peers with any 7/MDP broker.

* client -> broker: ``["", "MDPC01", object_id, body]`` (a REQ socket adds the empty frame itself)
* broker -> client: ``["", "MDPC01", object_id, body]``
* worker <-> broker: ``["", "MDPW01", command, ...]`` with READY 0x01, REQUEST 0x02, REPLY 0x03,
  HEARTBEAT 0x04, DISCONNECT 0x05.
* 8/MMI: ``mmi.service`` with body = object id answers ``"200"`` (a worker is registered) or
  ``"404"``; any other ``mmi.*`` answers ``"501"``.

Bodies
------
Every ROC body is one frame holding one UTF-8 JSON-RPC 2.0 object. A ROC request always has an
``id`` (an int, incrementing per client); notifications are not used. The broker never parses
bodies except to build an error reply.

Conventions (request ``method`` / ``params`` -> ``result``):

* method call ``m(*a, **k)``: ``"method": "m"``; ``params`` is an array for positional-only
  calls, an object for keyword-only calls, and for a mixed call an object whose reserved key
  ``"*args"`` holds the positional array (``"*args"`` is not an identifier, so it cannot collide
  with a parameter name). Result: the return value.
* attribute read: ``"method": "__getattr__", "params": ["fps"]`` -> the value.
* attribute write: ``"method": "__setattr__", "params": ["fps", 12.0]`` -> ``null``. Only existing
  non-callable public attributes may be written (a typo is an error, not a new attribute).
* introspection: ``"method": "__dir__", "params": []`` ->
  ``{"methods": {name: {"doc": str|null, "signature": str|null}}, "attributes": [names]}``.
  Properties are listed as attributes without being evaluated. Clients fetch it once per proxy
  and cache it.
* direct-path discovery (ROC extension, sent through the broker like any call):
  ``"method": "__direct__", "params": []`` -> ``{"endpoint": str|null, "objectId", "instance",
  "protocol": "roc-direct/1"}``. ``endpoint`` is a REP socket: a ROC client may send the same
  request bodies on a REQ socket connected to it (one body frame each way inside the REQ
  envelope) and gets the same reply bodies. Foreign servers answer -32601 and are used through the
  broker only. The broker path remains the default and the fallback.
* nested names: ``"shutter.open"`` or ``"__getattr__", ["status.temperature"]`` walk a
  ``getattr`` chain.
* any name component starting with ``_`` is refused (-32601), which keeps private state private
  and makes the dunder pseudo-methods collision-free (``rpc.*`` is reserved by JSON-RPC).

Errors (``error.data`` is always an object):

========  ====================================================================================
code      meaning
========  ====================================================================================
-32700    body is not valid JSON (``id`` null)
-32600    not a valid JSON-RPC request object
-32601    no such method/attribute, private name, or not callable (``data.type`` AttributeError)
-32602    arguments do not bind to the signature (checked before calling; ``data.type``
          TypeError)
-32603    result not JSON-serialisable (``data.type`` names the offending type)
-32000    the object's code raised: ``message`` is ``"ValueError: bad gain"``, ``data`` is
          ``{"type", "module", "args", "traceback", "objectId", "host", "pid"}``
-32001    (broker) no worker is registered for the object id, or the worker serving the call
          died (expired) before answering
-32002    (broker) the request waited in the broker's queue longer than its request timeout
========  ====================================================================================

The client re-raises errors as :class:`RemoteError`. For a remote exception whose ``module`` is
``builtins`` and whose type is a builtin ``Exception`` subclass, it raises a class deriving from
both that builtin and :class:`RemoteError` (so ``except ValueError`` works); remote type names are
looked up in :mod:`builtins` only, never imported or evaluated. ``str()`` of a remote error ends
with the remote traceback. A client-side timeout never goes on the wire: it raises
:class:`RocTimeout` locally.

JSON policy
-----------
Plain JSON only (no pickle). ROC never *emits* ``NaN``/``Infinity`` (invalid JSON, rejected by
e.g. JavaScript): non-finite floats are sent as ``null``. It *accepts* them on input, as Python's
``json`` does. Tuples become arrays, dict keys become strings, NumPy scalars and arrays are
converted with ``.item()``/``.tolist()``; ``bytes`` and other types are not serialisable (-32603).
"""

from __future__ import annotations

import builtins
import json
import math
from typing import Any

import orjson

# --- MDP/0.1 constants -------------------------------------------------------------------------
MDPC = b"MDPC01"
MDPW = b"MDPW01"
READY = b"\x01"
REQUEST = b"\x02"
REPLY = b"\x03"
HEARTBEAT = b"\x04"
DISCONNECT = b"\x05"
COMMAND_NAMES = {
    READY: "READY",
    REQUEST: "REQUEST",
    REPLY: "REPLY",
    HEARTBEAT: "HEARTBEAT",
    DISCONNECT: "DISCONNECT",
}
MMI_PREFIX = b"mmi."
MMI_SERVICE = b"mmi.service"

# --- JSON-RPC error codes ----------------------------------------------------------------------
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
REMOTE_EXCEPTION = -32000
OBJECT_NOT_FOUND = -32001
REQUEST_EXPIRED = -32002

ARGS_KEY = "*args"

DIRECT_METHOD = "__direct__"
DIRECT_PROTOCOL = "roc-direct/1"

# --- status / log topics -----------------------------------------------------------------------
STATUS_PREFIX = "status."
LOG_PREFIX = "log."
TOPIC_END = "\x00"  # terminates a status key so prefix subscriptions can match whole components


class RocError(Exception):
    """Base class of every ROC error."""


class RocTimeout(RocError, TimeoutError):
    """No reply (or no awaited status) arrived within the timeout."""


class RemoteError(RocError):
    """An error reported by the remote side (object, server or broker)."""

    def __init__(
        self,
        message: str,
        remote_type: str = "RemoteError",
        remote_traceback: str | None = None,
        code: int = REMOTE_EXCEPTION,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.remote_type = remote_type
        self.remote_traceback = remote_traceback
        self.code = code
        self.data = data or {}

    def __str__(self) -> str:
        text = self.message
        if self.remote_traceback:
            text += "\n\n========= Remote Traceback =========\n" + self.remote_traceback.rstrip()
        return text


class RocObjectNotFound(RemoteError):
    """The broker has no (live) worker for the object id (-32001)."""


class RocRequestExpired(RemoteError):
    """The request waited too long in the broker's queue (-32002)."""


class RemoteAttributeError(RemoteError, AttributeError):
    """The remote object has no such public attribute or method (-32601)."""


class RemoteTypeError(RemoteError, TypeError):
    """The call's arguments do not bind to the remote signature (-32602)."""


_builtin_cache: dict[str, type[RemoteError]] = {}


def _remote_builtin_class(name: str) -> type[RemoteError] | None:
    """A class deriving from builtin exception ``name`` and RemoteError, or None."""
    if name in _builtin_cache:
        return _builtin_cache[name]
    base = getattr(builtins, name, None) if name.isidentifier() else None
    cls: type[RemoteError] | None = None
    if isinstance(base, type) and issubclass(base, Exception):
        if issubclass(base, RemoteError):  # pragma: no cover - cannot happen for builtins
            cls = base
        else:
            try:
                cls = type(
                    f"Remote{name}",
                    (base, RemoteError),
                    {
                        "__init__": RemoteError.__init__,
                        "__str__": RemoteError.__str__,
                        "__module__": __name__,
                        "__doc__": f"Remote {name} re-raised locally.",
                    },
                )
            except TypeError:  # layout conflict: fall back to plain RemoteError
                cls = None
    _builtin_cache[name] = cls  # type: ignore[assignment]
    return cls


def error_from_response(error: Any) -> RemoteError:
    """Build the exception to raise locally for a JSON-RPC ``error`` member."""
    if not isinstance(error, dict):
        return RemoteError(f"malformed JSON-RPC error: {error!r}", code=INTERNAL_ERROR)
    code = error.get("code")
    message = str(error.get("message", ""))
    data = error.get("data")
    if not isinstance(data, dict):
        data = {"value": data} if data is not None else {}
    rtype = str(data.get("type") or "RemoteError")
    tb = data.get("traceback")
    tb = str(tb) if tb is not None else None
    icode = code if isinstance(code, int) else INTERNAL_ERROR
    exc: RemoteError
    if icode == OBJECT_NOT_FOUND:
        exc = RocObjectNotFound(message, rtype, tb, icode, data)
    elif icode == REQUEST_EXPIRED:
        exc = RocRequestExpired(message, rtype, tb, icode, data)
    elif icode == METHOD_NOT_FOUND:
        exc = RemoteAttributeError(message, "AttributeError", tb, icode, data)
    elif icode == INVALID_PARAMS:
        exc = RemoteTypeError(message, "TypeError", tb, icode, data)
    else:
        cls = _remote_builtin_class(rtype) if data.get("module") == "builtins" else None
        if cls is not None:
            try:
                exc = cls(message, rtype, tb, icode, data)
            except Exception:  # pragma: no cover - exotic builtin constructors
                exc = RemoteError(message, rtype, tb, icode, data)
        else:
            exc = RemoteError(message, rtype, tb, icode, data)
    args = data.get("args")
    if icode == REMOTE_EXCEPTION and isinstance(args, list):
        exc.args = tuple(args)
    return exc


# --- JSON ----------------------------------------------------------------------------------------
def _default(value: Any) -> Any:
    """``json`` hook: NumPy scalars/arrays and sets become plain values."""
    item = getattr(value, "item", None)
    tolist = getattr(value, "tolist", None)
    module = type(value).__module__
    if module.startswith("numpy"):
        ndim: Any = getattr(value, "ndim", 0)
        if tolist is not None and ndim:
            return tolist()
        if item is not None:
            return item()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def sanitize(value: Any) -> Any:
    """Return ``value`` with non-finite floats replaced by None and NumPy values converted."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return sanitize(_default(value))


_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_default)
# orjson already writes non-finite floats as null (our policy) and is ~8x faster than json.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS
# For hot paths that call orjson themselves (falling back to :func:`dumps` on TypeError).
ORJSON_OPTIONS = _ORJSON_OPTIONS
json_default = _default


def dumps(value: Any) -> bytes:
    """Encode ``value`` as compact UTF-8 JSON under the ROC policy (no NaN; NumPy converted)."""
    try:
        return orjson.dumps(value, default=_default, option=_ORJSON_OPTIONS)
    except TypeError:
        pass  # e.g. ints beyond 64 bits, or truly unserialisable: let json decide
    try:
        return _encoder.encode(value).encode()
    except ValueError:  # non-finite float somewhere: slow path
        return _encoder.encode(sanitize(value)).encode()


def loads(data: bytes | str) -> Any:
    """Decode JSON (accepting NaN/Infinity and big numbers from lenient peers)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # raises ValueError itself when really malformed


def request_id_of(body: bytes) -> Any:
    """Best-effort JSON-RPC id of a request body (None when it cannot be determined)."""
    try:
        msg = loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(msg, dict):
        rid = msg.get("id")
        if rid is None or isinstance(rid, (str, int, float)):
            return rid
    return None


def error_response(
    rid: Any, code: int, message: str, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A JSON-RPC 2.0 error response object."""
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": rid, "error": err}


def make_params(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any] | dict[str, Any]:
    """Encode call arguments under the ROC convention (``"*args"`` for mixed calls)."""
    if not kwargs:
        return list(args)
    if not args:
        return dict(kwargs)
    params: dict[str, Any] = dict(kwargs)
    params[ARGS_KEY] = list(args)
    return params


def split_params(params: Any) -> tuple[list[Any], dict[str, Any]]:
    """Decode JSON-RPC ``params`` into ``(args, kwargs)``; raise ValueError if malformed."""
    if params is None:
        return [], {}
    if isinstance(params, list):
        return params, {}
    if isinstance(params, dict):
        kwargs = dict(params)
        args = kwargs.pop(ARGS_KEY, [])
        if not isinstance(args, list):
            raise ValueError(f"{ARGS_KEY!r} must be an array")
        return args, kwargs
    raise ValueError("params must be an array or an object")
