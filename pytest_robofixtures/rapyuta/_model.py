"""Attribute-access dicts (the SDK's ObjDict feel) and small input checks."""

from __future__ import annotations

from typing import Any

from .errors import InvalidParameterException


class AttrDict(dict[str, Any]):
    """A dict whose keys are also attributes; names starting with ``_`` stay private attributes."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            try:
                del self[name]
            except KeyError:
                raise AttributeError(name) from None

    def to_dict(self) -> dict[str, Any]:
        """A plain (deep) dict copy, as the SDK's ``ObjDict.to_dict``."""
        out: dict[str, Any] = to_dict(self)
        return out


class ObjDict(AttrDict):
    """An AttrDict whose nested dicts (also inside lists) are ObjDicts too, as the SDK's models.

    Values are converted when they enter (construction, ``update``, item or attribute
    assignment, ``setdefault``), so ``deployment.componentInfo[0].componentID`` works however
    the data arrived. ObjDict instances (e.g. a Plan) are kept as they are.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.update(*args, **kwargs)

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, to_objdict(value))

    def update(self, *args: Any, **kwargs: Any) -> None:
        """``dict.update``, converting the values."""
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:
        """``dict.setdefault``, converting the default."""
        if key not in self:
            self[key] = default
        return self[key]

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ObjDict:
        """An ObjDict of ``d`` (nested values converted)."""
        return ObjDict(d)


def to_objdict(value: Any) -> Any:
    """``value`` with every plain dict (also inside lists and tuples) made an ObjDict."""
    if isinstance(value, AttrDict):
        return value
    if isinstance(value, dict):
        return ObjDict(value)
    if isinstance(value, list):
        return [to_objdict(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_objdict(v) for v in value)
    return value


def to_dict(value: Any) -> Any:
    """``value`` with every dict (also inside lists and tuples) made a plain dict."""
    if isinstance(value, dict):
        return {k: to_dict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_dict(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_dict(v) for v in value)
    return value


def require_str(value: Any, what: str) -> str:
    """``value`` if it is a non-empty string, else InvalidParameterException naming ``what``."""
    if not isinstance(value, str) or not value:
        raise InvalidParameterException(f"{what} must be a non-empty string; got {value!r}")
    return value


def drop_empty(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` without keys whose value is None or ``''`` (as the SDK sends device bodies)."""
    return {k: v for k, v in payload.items() if v is not None and v != ""}
