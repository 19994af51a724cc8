"""ROC record/replay behind the ``RocTransport`` and ``RocFeed`` seams (no socket in replay)."""

from __future__ import annotations

import threading
from typing import Any

from ..common.transports import RocFeed, RocTransport
from ._util import exception_from_record, exception_record
from .bundle import Bundle
from .match import Normalizer, OrderedReplay, canonical, json_differences
from .scrub import Scrubber


class RecordingRocTransport:
    """Wraps a real transport and appends every call (object, method, params, result or error)."""

    def __init__(self, inner: RocTransport, bundle: Bundle) -> None:
        self.inner = inner
        self.bundle = bundle
        self._lock = threading.Lock()

    def request(self, object_id: str, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send through the real transport and record the exchange."""
        entry: dict[str, Any] = {
            "object": object_id,
            "method": message.get("method"),
            "params": message.get("params"),
        }
        try:
            reply = self.inner.request(object_id, message, timeout)
        except Exception as exc:
            entry["raised"] = exception_record(exc)
            self._append(entry)
            raise
        if isinstance(reply, dict) and "result" in reply:
            entry["result"] = reply["result"]
        elif isinstance(reply, dict) and "error" in reply:
            entry["error"] = reply["error"]
        else:
            entry["reply"] = reply
        self._append(entry)
        return reply

    def _append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.bundle.roc_calls.append({"seq": self.bundle.next_roc_seq(), **entry,
                                          "at": self.bundle.elapsed()})

    def close(self) -> None:
        """Close the real transport."""
        self.inner.close()


class _RocReplayer:
    def __init__(self, bundle: Bundle, normalizer: Normalizer, scrubber: Scrubber) -> None:
        self.bundle = bundle
        self.normalizer = normalizer
        self.scrubber = scrubber
        for c in bundle.roc_calls:
            normalizer.collect_ids(c.get("params"), c.get("result"))
        self.played = 0  # calls answered so far: gates feed items recorded after them
        self.replay = OrderedReplay(bundle.roc_calls, keys=[self.key(
            str(c.get("object")), c.get("method"), c.get("params")) for c in bundle.roc_calls])

    def key(self, object_id: str, method: Any, params: Any) -> tuple[str, str, str]:
        return (object_id, str(method), canonical(self.params(params)))

    def params(self, params: Any) -> Any:
        return self.normalizer.value(self.scrubber.data(params))

    def find(self, object_id: str, message: dict[str, Any]) -> dict[str, Any]:
        method, params = message.get("method"), message.get("params")
        found = self.replay.next(self.key(object_id, method, params))
        if found is not None:
            self.played += 1
            return found[1]
        live_params = self.params(params)

        def score(c: dict[str, Any]) -> tuple[int, int]:
            return (int(c.get("object") == object_id) + int(c.get("method") == method),
                    int(self.params(c.get("params")) == live_params))

        best = self.replay.nearest(score)
        nearest, diffs = None, []
        if best is not None:
            c = best[1]
            nearest = f"{c.get('object')}.{c.get('method')}({canonical(c.get('params'))})"
            if c.get("object") != object_id:
                diffs.append(f"object: recorded {c.get('object')!r}, got {object_id!r}")
            if c.get("method") != method:
                diffs.append(f"method: recorded {c.get('method')!r}, got {method!r}")
            diffs += [f"params: {d}" for d in json_differences(
                self.params(c.get("params")), live_params)]
        raise self.bundle.mismatch(
            "ROC", f"{object_id}.{method}({canonical(params)})", nearest, diffs,
            len(self.bundle.roc_calls),
        )

    def unused(self) -> list[str]:
        calls = self.bundle.roc_calls
        return [f"ROC {calls[i].get('object')}.{calls[i].get('method')}"
                for i in self.replay.unused()]


def roc_replayer(
    bundle: Bundle, normalizer: Normalizer | None = None, scrubber: Scrubber | None = None
) -> _RocReplayer:
    """The bundle's ROC call replay state (shared by its replay transports)."""
    replayer = bundle.replayers.get("roc")
    if replayer is None:
        replayer = bundle.replayers["roc"] = _RocReplayer(
            bundle, normalizer or Normalizer(), scrubber or Scrubber())
    return replayer


class ReplayRocTransport:
    """Answers ROC calls from the recording with the caller's JSON-RPC id; opens no socket."""

    def __init__(
        self,
        bundle: Bundle,
        normalizer: Normalizer | None = None,
        scrubber: Scrubber | None = None,
    ) -> None:
        self.bundle = bundle
        self._replayer = roc_replayer(bundle, normalizer, scrubber)

    def request(self, object_id: str, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The recorded reply (RecordingMismatch when the call was not recorded)."""
        c = self._replayer.find(object_id, message)
        if "raised" in c:
            raise exception_from_record(c["raised"])
        if "reply" in c:
            return dict(c["reply"]) if isinstance(c["reply"], dict) else c["reply"]
        reply: dict[str, Any] = {"jsonrpc": message.get("jsonrpc", "2.0"), "id": message.get("id")}
        if "error" in c:
            reply["error"] = c["error"]
        else:
            reply["result"] = c.get("result")
        return reply

    def close(self) -> None:
        """Nothing to release."""


class RecordingRocFeed:
    """Wraps a real feed and records every status update / log record it yields, in order."""

    def __init__(self, inner: RocFeed, bundle: Bundle, name: str | None = None) -> None:
        self.inner = inner
        self.bundle = bundle
        self.name = name or f"feed{len(bundle.roc_feeds) + 1}"
        self._items: list[dict[str, Any]] = []
        bundle.roc_feeds.append({"name": self.name, "items": self._items})

    def receive(self, timeout: float | None) -> tuple[str, Any] | None:
        """Next item from the real feed (recorded), or None."""
        item = self.inner.receive(timeout)
        if item is not None:
            topic, payload = item
            self._items.append({"seq": self.bundle.next_roc_seq(), "topic": topic,
                                "payload": payload})
        return item

    def close(self) -> None:
        """Close the real feed."""
        self.inner.close()


class ReplayRocFeed:
    """Yields the recorded items of one feed in order, then None; opens no socket."""

    def __init__(self, bundle: Bundle, name: str | None = None) -> None:
        self.bundle = bundle
        opened = bundle.replayers.setdefault("roc_feeds_opened", [])
        feeds = bundle.roc_feeds
        index = len(opened)
        if name is not None:
            matches = [i for i, f in enumerate(feeds) if f.get("name") == name]
            index = next((i for i in matches if i not in opened), matches[0] if matches else -1)
        if index < 0 or index >= len(feeds):
            names = [f.get("name") for f in feeds]
            raise bundle.mismatch(
                "ROC feed", f"feed {name or '#' + str(index + 1)}",
                f"recorded feeds: {names}" if names else None,
                [f"{len(feeds)} feed(s) were recorded"], len(feeds),
            )
        opened.append(index)
        self.name = feeds[index].get("name")
        self._items = list(feeds[index].get("items") or [])
        self._pos = 0
        self._index = index
        self._delivered: dict[int, int] = bundle.replayers.setdefault("roc_feeds_delivered", {})
        self._delivered.setdefault(index, 0)

    def receive(self, timeout: float | None) -> tuple[str, Any] | None:
        """The next recorded item, or None once they are all delivered.

        Causality is kept: an item recorded after the n-th ROC call of the bundle is only
        delivered once n calls have been replayed, so a status update that answered a call
        cannot be read before the call is made.
        """
        if self._pos >= len(self._items):
            return None
        item = self._items[self._pos]
        seq = item.get("seq")
        if seq is not None:
            calls_before = sum(1 for c in self.bundle.roc_calls if c.get("seq", 0) < seq)
            replayer = self.bundle.replayers.get("roc")
            if calls_before > (replayer.played if replayer is not None else 0):
                return None
        self._pos += 1
        self._delivered[self._index] = max(self._delivered[self._index], self._pos)
        return str(item["topic"]), item.get("payload")

    def close(self) -> None:
        """Nothing to release."""


def roc_feed_unused(bundle: Bundle) -> list[str]:
    """Replay: one line per recorded feed item never delivered (feeds never opened included).

    For :meth:`Recorder.unused` (strict replay); items are listed in recorded order.
    """
    delivered: dict[int, int] = bundle.replayers.get("roc_feeds_delivered") or {}
    out = []
    for i, feed in enumerate(bundle.roc_feeds):
        items = list(feed.get("items") or [])
        for item in items[delivered.get(i, 0):]:
            out.append(f"ROC feed {feed.get('name')}: {item.get('topic')}")
    return out
