"""The narrow interfaces the ``robo`` factory depends on (instead of the whole session).

* :class:`RunContext`: what lives for the whole pytest process: settings, the run journal, the
  counters, live progress, rental slots across workers, the plugin's hooks.
* :class:`Scope`: what one test (or one shared fixture scope) talks to: its recorder and clock,
  the service endpoints and credentials of the mode, the ROC broker. Each :class:`~.modes.Mode`
  opens scopes; the factory never asks which mode it is in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .common.clock import Clock
from .journal import Journal
from .report import RunStats
from .settings import RoboSettings

if TYPE_CHECKING:
    from .recording import Recorder
    from .roc import Endpoints
    from .teardown import Teardown


class RentalSlot(Protocol):
    """A held slot of ``--robo-max-rentals``; release it when the workspace is gone."""

    def release(self) -> None:
        """Give the slot back."""
        ...


@dataclass
class Credentials:
    """Where a service is and how to authenticate, in the current mode."""

    rapyuta_catalog: str
    rapyuta_core: str
    rerobots: str
    #: returns a credential by variable name (RIO_AUTH_TOKEN...); may raise MissingCredential
    secret: Callable[[str], str]
    extra: dict[str, Any] = field(default_factory=dict)

    def endpoint_of(self, service: str) -> str:
        """The base URL of ``rapyuta`` or ``rerobots`` (as written into the journal)."""
        return self.rapyuta_catalog if service == "rapyuta" else self.rerobots


class Scope(Protocol):
    """One test's (or one shared scope's) view of the mode."""

    recorder: Recorder
    #: True when resources are really created (live or sim), False in replay
    provisions: bool
    #: expected seconds of each wait, from the previous recording ("routed_network #1": 12.3)
    ready_hints: dict[str, float]

    @property
    def clock(self) -> Clock:
        """The clock every wait uses (virtual in replay)."""
        ...

    def credentials(self) -> Credentials:
        """Endpoints and credentials of the services."""
        ...

    def roc_endpoints(self, base_port: int | None, teardown: Teardown) -> Endpoints:
        """Endpoints of the ROC broker this scope uses (a broker started here is torn down)."""
        ...


class Hooks(Protocol):
    """The plugin's hooks, as the factory calls them (see :mod:`.hookspecs`)."""

    def resource_created(self, nodeid: str, kind: str, name: str, ident: str) -> None:
        """A resource now exists."""
        ...

    def resource_deleted(self, nodeid: str, kind: str, name: str, ident: str) -> None:
        """A resource was torn down."""
        ...


class RunContext(Protocol):
    """What the factory needs from the pytest process it runs in."""

    settings: RoboSettings
    journal: Journal
    stats: RunStats
    worker: str
    run_id: str
    hooks: Hooks

    def progress(self, resource: str, what: str, elapsed: float) -> None:
        """Show a state change of a long wait (live modes only)."""
        ...

    def rental_slot(self, clock: Clock, timeout: float) -> RentalSlot:
        """Wait for a rental slot (``--robo-max-rentals``)."""
        ...

    def next_name_number(self) -> int:
        """A run-wide counter, so generated names never repeat across tests of a worker."""
        ...

    def record_measurement(self, nodeid: str, measurement: Any) -> None:
        """Add a measurement to the run-wide measurement files."""
        ...


class NoHooks:
    """Hooks that do nothing (unit tests, the CLI)."""

    def resource_created(self, nodeid: str, kind: str, name: str, ident: str) -> None:
        """Nothing."""

    def resource_deleted(self, nodeid: str, kind: str, name: str, ident: str) -> None:
        """Nothing."""


__all__ = ["Credentials", "Hooks", "NoHooks", "RentalSlot", "RunContext", "Scope"]
