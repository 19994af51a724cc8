"""The object the ``roc_object`` fixture yields: a ROC proxy plus the status and logs it saw."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .common.clock import Clock, wait_on_feed
from .report import TestRecord
from .roc import Endpoints, RocClient, RocProxy, RocTimeout, StatusTree, ZmqRocTransport
from .roc.logs import log_subscriptions
from .roc.protocol import LOG_PREFIX
from .roc.pubsub import SubscriberFeed
from .roc.status import subscriptions_for

_MISSING = object()


class RocObjectHandle:
    """Behaves like the shared object (calls, attributes), and collects its status and logs.

    ``status_tree`` is the status tree merged from the updates seen so far, ``logs`` the log
    records; :meth:`wait_for_status` reads updates until a path satisfies a predicate and
    :meth:`wait_for_log` until a log record does. These
    names (and ``proxy``, ``object_id``) are the handle's own; every other name is the remote
    object's, and ``proxy`` reaches a remote member that one of them hides.
    """

    # Set with object.__setattr__ (the handle's own __setattr__ forwards to the proxy).
    _object_id: str
    _client: RocClient
    _proxy: RocProxy
    _feed: Any
    _record: TestRecord
    _clock: Clock
    _tree: StatusTree
    logs: list[dict[str, Any]]
    _elapsed: Callable[[], float]

    def __init__(self, object_id: str, client: RocClient, feed: Any, record: TestRecord,
                 clock: Clock, elapsed: Callable[[], float] | None = None) -> None:
        object.__setattr__(self, "_object_id", object_id)
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_proxy", client[object_id])
        object.__setattr__(self, "_feed", feed)
        object.__setattr__(self, "_record", record)
        object.__setattr__(self, "_clock", clock)
        object.__setattr__(self, "_tree", StatusTree())
        object.__setattr__(self, "logs", [])
        object.__setattr__(self, "_elapsed", elapsed or (lambda: 0.0))
        # The report shows the same tree and log list, live, even if the test fails mid-way.
        record.roc_status = self._tree.tree
        record.flushers.append(self._drain)

    @classmethod
    def _open(cls, endpoints: Endpoints, object_id: str, *, timeout: float, recorder: Any,
             record: TestRecord, clock: Clock,
             elapsed: Callable[[], float] | None = None) -> RocObjectHandle:
        """Connect through the test's recorder (which records, or replays with no socket)."""
        transport = recorder.roc_transport(lambda: ZmqRocTransport(endpoints.rocBroker))
        client = RocClient(endpoints, timeout=timeout, transport=transport)
        feed = recorder.roc_feed(
            lambda: SubscriberFeed(endpoints, subscriptions_for("") + log_subscriptions("")),
            name=f"roc_object:{object_id}",
        )
        return cls(object_id, client, feed, record, clock, elapsed)

    # -- the shared object -------------------------------------------------------------------
    @property
    def proxy(self) -> RocProxy:
        """The plain ROC proxy."""
        return self._proxy

    @property
    def object_id(self) -> str:
        return self._object_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._proxy, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._proxy, name, value)

    def __dir__(self) -> list[str]:
        own = {"status_tree", "logs", "wait_for_status", "wait_for_log", "proxy", "object_id"}
        return sorted(set(dir(self._proxy)) | own)

    def __repr__(self) -> str:
        return f"<roc_object {self._object_id!r}>"

    # -- status and logs ---------------------------------------------------------------------
    @property
    def status_tree(self) -> dict[str, Any]:
        """The status tree merged from every update seen so far."""
        return self._tree.tree

    def _take(self, item: tuple[str, Any]) -> None:
        topic, payload = item
        if topic.startswith(LOG_PREFIX):
            self.logs.append(payload)
            self._record.roc_logs.append(payload)
        else:
            self._tree.apply(topic, payload)
            self._record.roc_history.append((round(self._elapsed(), 3), topic, payload))

    def _poll(self, timeout: float = 0.0) -> bool:
        """Read one pending update or log record; False when none came within ``timeout``."""
        item = self._feed.receive(timeout)
        if item is None:
            return False
        self._take(item)
        return True

    def _wait(self, satisfied: Callable[[], bool], timeout: float,
              failure: Callable[[], str]) -> None:
        """Read updates until ``satisfied()``; the one wait-on-feed loop, on the test's clock."""
        if not wait_on_feed(self._feed.receive, self._take, satisfied, timeout, self._clock):
            raise RocTimeout(failure())

    def wait_for_status(self, path: str, predicate: Callable[[Any], bool] | None = None,
                        timeout: float = 10.0) -> Any:
        """Read updates until the status at dotted ``path`` exists and satisfies ``predicate``.

        Returns the value; raises ``RocTimeout`` naming the path and the last value seen.
        """
        def satisfied() -> bool:
            value = self._tree.get(path, _MISSING)
            return value is not _MISSING and (predicate is None or bool(predicate(value)))

        self._wait(satisfied, timeout, lambda: (
            f"ROC status {path!r} of {self._object_id!r} did not satisfy the condition "
            f"within {timeout:g}s; last value: {self._tree.get(path, '<never seen>')!r}"))
        return self._tree.get(path)

    def wait_for_log(self, predicate: Callable[[dict[str, Any]], bool] | str,
                     timeout: float = 10.0) -> dict[str, Any]:
        """Read until a log record satisfies ``predicate`` (or contains the text); return it."""
        def match(record: dict[str, Any]) -> bool:
            if isinstance(predicate, str):
                return predicate in str(record.get("msg", ""))
            return bool(predicate(record))

        found: list[dict[str, Any]] = []

        def satisfied() -> bool:
            found[:] = [r for r in self.logs if match(r)][:1]
            return bool(found)

        self._wait(satisfied, timeout, lambda: (
            f"no ROC log record matching {predicate!r} within {timeout:g}s "
            f"({len(self.logs)} record(s) seen)"))
        return found[0]

    def _drain(self, timeout: float = 0.0, limit: int = 500) -> int:
        """Read what is pending (at most ``limit`` items); return how many were read."""
        count = 0
        while count < limit and self._poll(timeout):
            count += 1
        return count

    def _close(self) -> None:
        """Read what is still pending (bounded), then close the sockets."""
        self._drain(0.05)
        self._record.flushers.remove(self._drain)
        self._feed.close()
        self._client.close()
