"""The facade the plugin uses: one :class:`Recorder` per recording bundle."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from ..common.clock import Clock, SystemClock, VirtualClock, use_clock
from ..common.transports import RocFeed, RocTransport
from .bundle import Bundle
from .guard import network_guard
from .http import BundleCassette, DeferredNormalizer, IgnoreFn, use_bundle_cassette
from .match import Normalizer
from .names import NameFactory
from .roc import (
    RecordingRocFeed,
    RecordingRocTransport,
    ReplayRocFeed,
    ReplayRocTransport,
    roc_feed_unused,
    roc_replayer,
)
from .scrub import Scrubber
from .ssh import SSHFactory, recording_ssh_factory, replay_ssh_factory, ssh_replayer

Mode = Literal["record", "replay"]
T = TypeVar("T")


@dataclass
class CloseReport:
    """What :meth:`Recorder.close` did: the file written (record) and what replay left unused."""

    path: Path
    written: bool
    unused: list[str] = field(default_factory=list)


def _make(inner: T | Callable[[], T]) -> T:
    if callable(inner) and not hasattr(inner, "request") and not hasattr(inner, "receive"):
        return inner()
    return inner  # type: ignore[return-value]


class Recorder:
    """Record or replay every transport of one test (or one fixture scope) into one bundle."""

    def __init__(
        self,
        bundle: Bundle,
        mode: Mode,
        scrubber: Scrubber,
        run_id: str | None = None,
        worker: str | None = None,
        volatile_fields: Iterable[str] = (),
        ignore: IgnoreFn | None = None,
    ) -> None:
        if mode not in ("record", "replay"):
            raise ValueError(f"mode must be 'record' or 'replay', not {mode!r}")
        self.bundle = bundle
        self.mode: Mode = mode
        self.scrubber = scrubber
        self.normalizer: Normalizer = DeferredNormalizer()
        self.normalizer.extend(volatile_fields)
        self.ignore = ignore
        self.closed = False
        self.clock: Clock
        if mode == "record":
            self._started = time.time()
            bundle.clock = {"epoch": round(self._started, 3)}
            self.clock = SystemClock()
        else:
            epoch = float(bundle.clock.get("epoch", 1_700_000_000.0))
            self.clock = VirtualClock(epoch=epoch)
        self.names = NameFactory(
            mode, bundle.names, run_id=run_id, worker=worker,
            on_mismatch=lambda wanted, nearest, diffs: bundle.mismatch(
                "name", wanted, nearest, diffs, len(bundle.names)),
        )
        if mode == "record":
            bundle.names = self.names.made
        self._cassette: BundleCassette | None = None

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | Path,
        mode: Mode,
        rerecord_command: str,
        scrubber: Scrubber | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        run_id: str | None = None,
        worker: str | None = None,
        volatile_fields: Iterable[str] = (),
        ignore: IgnoreFn | None = None,
    ) -> Recorder:
        """Open the bundle directory ``path`` (see :func:`recording_path`).

        Record: starts empty; :meth:`close` overwrites the recording. Replay: loads it now
        (RecordingMissing / RecordingCorrupt on a bad file).
        """
        if mode == "replay":
            bundle = Bundle.load(path, rerecord_command)
        else:
            bundle = Bundle(path, rerecord_command)
            bundle.metadata = dict(metadata or {})
        return cls(bundle, mode, scrubber or Scrubber(), run_id=run_id, worker=worker,
                   volatile_fields=volatile_fields, ignore=ignore)

    # -- state -------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The ``recording.yaml`` file."""
        return self.bundle.path

    @property
    def metadata(self) -> dict[str, Any]:
        """Metadata (recorded in replay; being recorded in record)."""
        return self.bundle.metadata

    @property
    def endpoints(self) -> dict[str, str]:
        """Service base URLs used when recording (replay must use the same)."""
        return dict(self.bundle.metadata.get("endpoints") or {})

    def set_endpoint(self, name: str, url: str) -> None:
        """Record the base URL of a service (record mode)."""
        self.bundle.metadata.setdefault("endpoints", {})[name] = url

    # -- transports --------------------------------------------------------------------------
    @contextlib.contextmanager
    def http(self) -> Iterator[BundleCassette]:
        """Record (or replay) every HTTP request made inside the block through vcrpy."""
        if self._cassette is None:
            self._cassette = BundleCassette(
                self.bundle, self.mode, self.scrubber, self.normalizer, self.ignore
            )
        with use_bundle_cassette(self._cassette) as cassette:
            yield cassette

    @contextlib.contextmanager
    def active(self, guard: bool = True, allowed_hosts: Iterable[str] = ()) -> Iterator[Recorder]:
        """HTTP recording, this recorder's clock as default clock and, in replay, the guard."""
        with contextlib.ExitStack() as stack:
            if self.mode == "replay" and guard:
                stack.enter_context(network_guard(allowed_hosts))
            stack.enter_context(use_clock(self.clock))
            stack.enter_context(self.http())
            yield self

    def ssh_factory(self, inner: SSHFactory | None = None) -> SSHFactory:
        """Wrap a real ``ssh_factory`` (record) or replace it (replay; ``inner`` unused)."""
        if self.mode == "replay":
            return replay_ssh_factory(self.bundle, self.scrubber)
        if inner is None:
            raise ValueError("record mode needs the real ssh_factory")
        return recording_ssh_factory(inner, self.bundle, self.scrubber)

    def roc_transport(
        self, inner: RocTransport | Callable[[], RocTransport] | None = None
    ) -> RocTransport:
        """Recording transport around ``inner`` (transport or factory), or the replay one.

        In replay a factory is not called, so no socket is opened.
        """
        if self.mode == "replay":
            return ReplayRocTransport(self.bundle, self.normalizer, self.scrubber)
        if inner is None:
            raise ValueError("record mode needs the real ROC transport")
        return RecordingRocTransport(_make(inner), self.bundle)

    def roc_feed(
        self, inner: RocFeed | Callable[[], RocFeed] | None = None, name: str | None = None
    ) -> RocFeed:
        """Recording feed around ``inner`` (feed or factory), or the replay feed ``name``.

        Without a name, replay feeds are matched in the order feeds were opened when recording.
        """
        if self.mode == "replay":
            return ReplayRocFeed(self.bundle, name)
        if inner is None:
            raise ValueError("record mode needs the real ROC feed")
        return RecordingRocFeed(_make(inner), self.bundle, name)

    # -- closing -----------------------------------------------------------------------------
    def unused(self) -> list[str]:
        """Replay: recorded interactions (HTTP, SSH, ROC, names) the test never asked for."""
        if self.mode != "replay":
            return []
        out = list(self._cassette.unused()) if self._cassette is not None else [
            f"HTTP {e['request']['method']} {e['request']['uri']}" for e in self.bundle.http
        ]
        if self.bundle.ssh:
            out += ssh_replayer(self.bundle, self.scrubber).unused()
        if self.bundle.roc_calls:
            out += roc_replayer(self.bundle, self.normalizer, self.scrubber).unused()
        if self.bundle.roc_feeds:
            out += roc_feed_unused(self.bundle)
        out += [f"name {n}" for n in self.names.unused]
        return out

    def close(self, discard: bool = False) -> CloseReport:
        """Record: scrub and write atomically (unless ``discard``); replay: report unused.

        Idempotent.
        """
        if self.closed:
            return CloseReport(self.path, False)
        self.closed = True
        if self.mode == "record":
            if discard:
                return CloseReport(self.path, False)
            self.bundle.clock["duration"] = round(time.time() - self._started, 3)
            self.bundle.save(self.scrubber)
            return CloseReport(self.path, True)
        return CloseReport(self.path, False, self.unused())

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
