"""Base classes of resource kinds: one module per kind, read by markers, fixtures and reaper.

A :class:`Kind` is a fixture and a marker of the same name: its marker spec (keywords, types,
allowed values, what is required), how the fixture provisions it, and the
:class:`ResourceType` s it creates (how each is deleted, looked up by name after a lost reply,
and in which order the reaper deletes it). Adding a kind is writing one such module and calling
:func:`register` (from a conftest or plugin, in the ``pytest_robofixtures_configure`` hook or at
import): the plugin then offers its fixture and marker like the built-in ones, and ``robo.<name>``
provisions it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import pytest

if TYPE_CHECKING:
    from ..factory import Robo

T = TypeVar("T")


# -- marker specs ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One marker keyword: its accepted types, allowed values and constraints."""

    name: str
    types: tuple[type, ...] = ()
    choices: tuple[Any, ...] = ()
    positive: bool = False  # a finite number > 0 (timeouts)
    items: tuple[type, ...] = ()  # the element types of a list/tuple value

    def check(self, value: Any) -> str | None:
        """None when ``value`` is acceptable, else what is wrong with it."""
        if value is None:
            return None
        if self.types and not isinstance(value, self.types) or (
            isinstance(value, bool) and bool not in self.types and self.types
        ):
            names = " or ".join(t.__name__ for t in self.types)
            return f"{self.name} must be {names}, got {value!r}"
        if self.positive:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return f"{self.name} must be a number, got {value!r}"
            if not math.isfinite(value) or value <= 0:
                return f"{self.name} must be a finite number > 0, got {value!r}"
        if self.choices:
            values = value if isinstance(value, (list, tuple)) else [value]
            bad = [v for v in values if v not in self.choices]
            if bad:
                allowed = ", ".join(map(str, self.choices))
                return f"{self.name} got {bad[0]!r}; allowed: {allowed}"
        if self.items and isinstance(value, (list, tuple)):
            bad = [v for v in value if not isinstance(v, self.items)]
            if bad:
                names = " or ".join(t.__name__ for t in self.items)
                return f"{self.name} items must be {names}, got {bad[0]!r}"
        return None


#: The keyword every shareable kind accepts: ``scope="worker"`` shares one resource per xdist
#: worker among the tests asking for the same configuration.
SCOPE_PARAM = Param("scope", (str,), choices=("test", "worker"))


class Clients(Protocol):
    """The service clients a resource type needs to delete or find a resource."""

    @property
    def rapyuta(self) -> Any:
        """The rapyuta.io client."""
        ...

    @property
    def rerobots(self) -> Any:
        """The rerobots API client."""
        ...


@dataclass(frozen=True)
class ResourceType:
    """Something a kind creates on a service, as the journal and the reaper know it."""

    name: str  # journal kind, e.g. "rapyuta.routed_network"
    service: str  # "rapyuta" or "rerobots": which client and credentials
    reap_order: int  # lower is deleted first: dependents before what they depend on
    #: delete it: (clients, id, wait, timeout) -> None; "already gone" is not an error
    delete: Callable[[Clients, str, bool, float], None]
    #: look it up after a create whose outcome is unknown: (clients, name, entry extra) -> id
    find: Callable[[Clients, str, Mapping[str, Any]], str | None] = (
        lambda clients, name, extra: None)
    #: exceptions meaning "it is already gone"
    gone: tuple[type[BaseException], ...] = ()


class Kind(Generic[T]):
    """A fixture and marker of the same name; subclass it in one module and register it."""

    name: str = ""
    help: str = ""
    params: tuple[Param, ...] = ()
    positional: str | None = None
    #: when the fixture is used, at least one of these keywords must be given
    requires_one_of: tuple[str, ...] = ()
    requires_hint: str = ""
    #: True: the marker accepts ``scope="worker"`` (one resource per worker and configuration)
    shareable: bool = False
    resource_types: tuple[ResourceType, ...] = ()

    def all_params(self) -> tuple[Param, ...]:
        """The keywords of the marker (``scope`` included for shareable kinds)."""
        return (*self.params, SCOPE_PARAM) if self.shareable else self.params

    @property
    def marker_line(self) -> str:
        """The line ``pytest --markers`` shows."""
        args = ", ".join(p.name for p in self.all_params())
        return f"{self.name}({args}): {self.help}"

    # -- what subclasses implement -------------------------------------------------------------
    def provision(self, robo: Robo, **kwargs: Any) -> T:
        """Create the resource in the test's ``robo`` factory; register its teardown."""
        raise NotImplementedError

    def fixture(self, robo: Robo, request: pytest.FixtureRequest, kwargs: dict[str, Any]) -> T:
        """What the fixture yields: by default ``provision`` with the marker's keywords.

        Override to pull in other fixtures (``request.getfixturevalue``) first.
        """
        return self.provision(robo, **kwargs)

    def on_shared_use(self, resource: T, robo: Robo) -> None:
        """Called when a worker-shared resource is handed to another test (e.g. fresh ssh)."""

    def share_key(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The configuration that identifies a shared resource (default: the keywords)."""
        return kwargs


class Registry:
    """Every known kind and resource type."""

    def __init__(self) -> None:
        self.kinds: dict[str, Kind[Any]] = {}
        self.types: dict[str, ResourceType] = {}
        self._listeners: list[Callable[[Kind[Any]], None]] = []

    def register(self, kind: Kind[Any]) -> Kind[Any]:
        """Add a kind (its fixture and marker appear in the runs configured after this)."""
        if not kind.name.isidentifier():
            raise ValueError(f"kind name {kind.name!r} must be a Python identifier")
        known = self.kinds.get(kind.name)
        if known is not None and _qualname(known) != _qualname(kind):
            raise ValueError(f"a kind named {kind.name!r} is already registered "
                             f"({_qualname(known)})")
        self.kinds[kind.name] = kind
        for rtype in kind.resource_types:
            self.types[rtype.name] = rtype
        for listener in list(self._listeners):
            listener(kind)
        return kind

    def on_register(self, listener: Callable[[Kind[Any]], None]) -> None:
        """Call ``listener`` for every kind registered from now on."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Kind[Any]], None]) -> None:
        """Stop calling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def get(self, name: str) -> Kind[Any]:
        """The kind called ``name``; KeyError names the known ones."""
        try:
            return self.kinds[name]
        except KeyError:
            raise KeyError(
                f"no resource kind {name!r}; known: {', '.join(sorted(self.kinds))}"
            ) from None

    def reap_order(self, type_name: str) -> int:
        """Deletion order of a journal kind (unknown ones last)."""
        rtype = self.types.get(type_name)
        return rtype.reap_order if rtype is not None else 99

    # -- markers -------------------------------------------------------------------------------
    def validate(self, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any],
                 where: str = "") -> dict[str, Any]:
        """Check a marker's arguments; return them as one dict or raise ``pytest.UsageError``."""
        kind = self.get(name)
        params = {p.name: p for p in kind.all_params()}
        prefix = f"{where}: " if where else ""
        result = dict(kwargs)
        allowed = ", ".join(params)
        if args:
            if len(args) > 1 or kind.positional is None:
                raise pytest.UsageError(
                    f"{prefix}@pytest.mark.{name} takes at most one positional argument "
                    f"({kind.positional}); pass the others by keyword: {allowed}"
                )
            if kind.positional in result:
                raise pytest.UsageError(f"{prefix}@pytest.mark.{name} got {kind.positional!r} "
                                        "twice")
            result[kind.positional] = args[0]
        unknown = sorted(set(result) - set(params))
        if unknown:
            raise pytest.UsageError(
                f"{prefix}@pytest.mark.{name} got unknown argument(s) {', '.join(unknown)}; "
                f"allowed: {allowed}"
            )
        for key, value in result.items():
            problem = params[key].check(value)
            if problem:
                raise pytest.UsageError(f"{prefix}@pytest.mark.{name}: {problem}")
        return result

    def marker_kwargs(self, item: pytest.Item, name: str) -> dict[str, Any]:
        """The validated keywords of the closest ``name`` marker on ``item`` ({} if none)."""
        marker = item.get_closest_marker(name)
        if marker is None:
            return {}
        return self.validate(name, marker.args, marker.kwargs, where=item.nodeid)

    def check_item(self, item: pytest.Item) -> None:
        """Validate every robo marker of ``item`` and the keywords its fixtures require."""
        fixtures = set(getattr(item, "fixturenames", ()))
        for name, kind in self.kinds.items():
            kwargs = self.marker_kwargs(item, name)
            if kind.requires_one_of and name in fixtures and not any(
                kwargs.get(k) for k in kind.requires_one_of
            ):
                raise pytest.UsageError(f"{item.nodeid}: {kind.requires_hint}")


def _qualname(kind: Kind[Any]) -> str:
    return f"{type(kind).__module__}.{type(kind).__qualname__}"


def call_create(fn: Callable[..., T], on_created: Callable[[str], None],
                ident_of: Callable[[T], Any], *args: Any, **kwargs: Any) -> T:
    """Call a client create method, passing ``on_created`` where the client supports it.

    A client without the keyword reports the id only by returning: ``ident_of(result)``.
    """
    try:
        accepts = "on_created" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        accepts = False
    if accepts:
        return fn(*args, on_created=on_created, **kwargs)
    result = fn(*args, **kwargs)
    on_created(str(ident_of(result)))
    return result
