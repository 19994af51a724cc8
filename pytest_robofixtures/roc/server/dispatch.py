"""Executes ROC JSON-RPC requests against one plain Python object (transport-free)."""

from __future__ import annotations

import inspect
import os
import socket as _socket
import traceback
import types
from collections.abc import Callable
from typing import Any

import orjson

from ..protocol import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    ORJSON_OPTIONS,
    PARSE_ERROR,
    REMOTE_EXCEPTION,
    dumps,
    error_response,
    json_default,
    loads,
    split_params,
)

_HOST = _socket.gethostname()
_NO_PARAMS: list[Any] = []
_orjson_loads = orjson.loads
_orjson_dumps = orjson.dumps
_JSONDecodeError = orjson.JSONDecodeError


class _CallError(Exception):
    def __init__(self, code: int, message: str, data: dict[str, Any]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def _json_safe_args(args: tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    for a in args:
        if a is None or isinstance(a, (str, int, float, bool)):
            out.append(a)
        else:
            try:
                dumps(a)
                out.append(a)
            except (TypeError, ValueError):
                out.append(repr(a))
    return out


class ObjectDispatcher:
    """Executes decoded ROC JSON-RPC requests against one Python object (transport-free)."""

    def __init__(self, obj: Any, object_id: str = "",
                 pseudo_methods: dict[str, Callable[[], Any]] | None = None) -> None:
        self.obj = obj
        self.object_id = object_id
        # Extra dunder pseudo-methods answered by the server itself (e.g. ``__direct__``).
        self.pseudo_methods = dict(pseudo_methods or {})
        self._signatures: dict[Any, inspect.Signature | None] = {}
        self._plain: dict[str, bool] = {}
        self._instance_dict: dict[str, Any] | None = getattr(obj, "__dict__", None)

    # -- name resolution -------------------------------------------------------------------------
    def _resolve(self, path: str) -> tuple[Any, str]:
        """Return ``(owner, last_name)`` for a dotted public path."""
        if "." not in path and path and path[0] != "_":  # fast path: a plain public name
            return self.obj, path
        parts = path.split(".")
        for p in parts:
            if not p or p.startswith("_"):
                raise _CallError(METHOD_NOT_FOUND, f"{path!r} is not a public name",
                                 {"type": "AttributeError", "name": path})
        owner = self.obj
        for p in parts[:-1]:
            try:
                owner = getattr(owner, p)
            except AttributeError as exc:
                raise _CallError(METHOD_NOT_FOUND, f"no attribute {path!r}: {exc}",
                                 {"type": "AttributeError", "name": path}) from None
        return owner, parts[-1]

    def _lookup(self, path: str) -> Any:
        owner, name = self._resolve(path)
        try:
            return getattr(owner, name)
        except AttributeError as exc:
            raise _CallError(METHOD_NOT_FOUND,
                             f"ROC object {self.object_id!r} has no attribute {path!r}",
                             {"type": "AttributeError", "name": path, "detail": str(exc)}
                             ) from None

    def _signature(self, fn: Any) -> inspect.Signature | None:
        key = getattr(fn, "__func__", fn)
        try:
            return self._signatures[key]
        except (KeyError, TypeError):
            pass
        try:
            sig: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            sig = None
        try:
            self._signatures[key] = sig
        except TypeError:  # pragma: no cover - unhashable callable
            pass
        return sig

    # -- operations ------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """The ``__dir__`` metadata: public methods (doc, signature) and attributes."""
        methods: dict[str, dict[str, Any]] = {}
        attributes: list[str] = []
        for name in dir(self.obj):
            if name.startswith("_"):
                continue
            try:
                static = inspect.getattr_static(self.obj, name)
            except AttributeError:
                static = None
            if isinstance(static, property):
                attributes.append(name)
                continue
            try:
                value = getattr(self.obj, name)
            except Exception:
                continue
            if callable(value) and not isinstance(value, type):
                sig = self._signature(value)
                doc = inspect.getdoc(value)
                methods[name] = {"doc": doc.splitlines()[0] if doc else None,
                                 "signature": str(sig) if sig is not None else None}
            else:
                attributes.append(name)
        return {"methods": methods, "attributes": attributes}

    def _getattr(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if kwargs or len(args) != 1 or not isinstance(args[0], str):
            raise _CallError(INVALID_PARAMS, "__getattr__ takes one attribute name",
                             {"type": "TypeError"})
        value = self._lookup(args[0])
        if callable(value) and not isinstance(value, type):
            raise _CallError(METHOD_NOT_FOUND, f"{args[0]!r} is a method, not an attribute",
                             {"type": "AttributeError", "name": args[0]})
        return value

    def _setattr(self, args: list[Any], kwargs: dict[str, Any]) -> None:
        if kwargs or len(args) != 2 or not isinstance(args[0], str):
            raise _CallError(INVALID_PARAMS, "__setattr__ takes a name and a value",
                             {"type": "TypeError"})
        path = args[0]
        owner, name = self._resolve(path)
        try:
            static = inspect.getattr_static(owner, name)
        except AttributeError:
            raise _CallError(METHOD_NOT_FOUND,
                             f"ROC object {self.object_id!r} has no attribute {path!r}",
                             {"type": "AttributeError", "name": path}) from None
        if not isinstance(static, property):
            current = getattr(owner, name)
            if callable(current) and not isinstance(current, type):
                raise _CallError(METHOD_NOT_FOUND, f"{path!r} is a method and cannot be set",
                                 {"type": "AttributeError", "name": path})
        setattr(owner, name, args[1])
        return None

    def _call(self, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        fn = self._lookup(method)
        if not callable(fn):
            raise _CallError(METHOD_NOT_FOUND, f"{method!r} is not callable",
                             {"type": "AttributeError", "name": method})
        if hasattr(fn, "__wrapped__"):  # a decorator's (*args, **kwargs) hides the signature
            self._check_binding(method, fn, args, kwargs)
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except TypeError as exc:
            # Binding the arguments is checked only when a TypeError comes back, so a good call
            # pays nothing for it. A binding error of a Python function has no traceback entry
            # below this frame (the callee never ran); for anything else, ask the signature.
            tb = exc.__traceback__
            if tb is not None and tb.tb_next is None:
                self._check_binding(method, fn, args, kwargs)
            raise

    def _check_binding(self, method: str, fn: Any, args: list[Any],
                       kwargs: dict[str, Any]) -> None:
        sig = self._signature(fn)
        if sig is not None:
            try:
                sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise _CallError(INVALID_PARAMS, f"{method}{sig}: {exc}",
                                 {"type": "TypeError", "signature": str(sig)}) from None

    def _is_plain_method(self, name: str) -> bool:
        """True if ``name`` is a public plain function on the object's class (cached per name)."""
        ok = self._plain.get(name)
        if ok is None:
            static = inspect.getattr_static(type(self.obj), name, None) if (
                name.isidentifier() and name[0] != "_") else None
            ok = isinstance(static, types.FunctionType) and not hasattr(static, "__wrapped__")
            if len(self._plain) < 1024:
                self._plain[name] = ok
        return ok

    def handle(self, body: bytes) -> bytes:
        """Execute one JSON-RPC request body and return the JSON-RPC response body."""
        try:
            msg = _orjson_loads(body)
        except _JSONDecodeError:
            try:
                msg = loads(body)  # NaN, big numbers: the lenient decoder
            except (ValueError, UnicodeDecodeError) as exc:
                return dumps(error_response(None, PARSE_ERROR, f"parse error: {exc}",
                                            {"type": "ValueError"}))
        # Fast path: a positional call of a plain method, the common case. Same answers as
        # the general path below, with fewer checks to make (they are implied).
        if type(msg) is dict:
            method = msg.get("method")
            rid = msg.get("id")
            params = msg.get("params", _NO_PARAMS)
            if (type(method) is str and type(rid) is int and type(params) is list
                    and msg.get("jsonrpc") == "2.0"
                    and (self._plain.get(method) or self._is_plain_method(method))
                    and (self._instance_dict is None or method not in self._instance_dict)):
                fn = getattr(self.obj, method)
                try:
                    try:
                        result = fn(*params)
                    except TypeError as exc:
                        tb = exc.__traceback__
                        if tb is not None and tb.tb_next is None:
                            self._check_binding(method, fn, params, {})
                        raise
                except _CallError as exc:
                    return dumps(error_response(rid, exc.code, exc.message, exc.data))
                except Exception as exc:
                    return self._remote_exception(rid, exc)
                try:  # protocol.dumps, minus a call: orjson first, the rest on TypeError
                    return _orjson_dumps({"jsonrpc": "2.0", "id": rid, "result": result},
                                         default=json_default, option=ORJSON_OPTIONS)
                except TypeError:
                    return self._result(rid, result)
        return self._handle_decoded(msg)

    def _remote_exception(self, rid: Any, exc: Exception) -> bytes:
        etype = type(exc)
        data = {
            "type": etype.__name__,
            "module": etype.__module__,
            "args": _json_safe_args(exc.args),
            "traceback": traceback.format_exc(),
            "objectId": self.object_id,
            "host": _HOST,
            "pid": os.getpid(),
        }
        return dumps(error_response(rid, REMOTE_EXCEPTION, f"{etype.__name__}: {exc}", data))

    def _result(self, rid: Any, result: Any) -> bytes:
        try:
            return dumps({"jsonrpc": "2.0", "id": rid, "result": result})
        except (TypeError, ValueError) as exc:
            return dumps(error_response(
                rid, INTERNAL_ERROR, f"result not JSON-serialisable: {exc}",
                {"type": type(result).__name__}))

    def _handle_decoded(self, msg: Any) -> bytes:
        rid: Any = None
        try:
            if not isinstance(msg, dict):
                raise _CallError(INVALID_REQUEST, "request must be a JSON object",
                                 {"type": "ValueError"})
            rid = msg.get("id")
            if not (rid is None or isinstance(rid, (str, int, float))) or isinstance(rid, bool):
                rid = None
                raise _CallError(INVALID_REQUEST, "invalid id", {"type": "ValueError"})
            method = msg.get("method")
            if msg.get("jsonrpc") != "2.0" or not isinstance(method, str):
                raise _CallError(INVALID_REQUEST, "not a JSON-RPC 2.0 request",
                                 {"type": "ValueError"})
            try:
                args, kwargs = split_params(msg.get("params"))
            except ValueError as exc:
                raise _CallError(INVALID_PARAMS, str(exc), {"type": "TypeError"}) from None
            if method == "__getattr__":
                result = self._getattr(args, kwargs)
            elif method == "__setattr__":
                self._setattr(args, kwargs)
                result = None
            elif method == "__dir__":
                result = self.describe()
            elif method in self.pseudo_methods:
                result = self.pseudo_methods[method]()
            else:
                result = self._call(method, args, kwargs)
        except _CallError as exc:
            return dumps(error_response(rid, exc.code, exc.message, exc.data))
        except Exception as exc:
            return self._remote_exception(rid, exc)
        return self._result(rid, result)
