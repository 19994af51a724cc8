r"""ROC log/status topics: how publishers name messages and subscribers choose them (shared).

Status: ``[b"status.<dotted.key>\x00", json(value)]``. The ``\x00`` terminator lets a prefix
subscription match *whole components*: a mask ``system.foo`` subscribes to ``status.system.foo.``
(descendants) and ``status.system.foo\x00`` (the key itself), so ``system.foobar`` never matches,
and filtering still happens at the publisher. The subscriber also subscribes to each ancestor's
exact key, so an update of ``system`` that contains ``foo`` is delivered (pruned client-side).

Logs: ``[b"log.<LEVELNAME>.<logger.name>", json(record)]``.
"""

from __future__ import annotations

import re
from typing import Any

from .protocol import LOG_PREFIX, STATUS_PREFIX, TOPIC_END, loads

_KEY = re.compile(r"^[^.\x00]+(\.[^.\x00]+)*$")


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid dotted status key (or empty); raise ValueError otherwise."""
    if key and not _KEY.match(key):
        raise ValueError(f"invalid status key {key!r}: dot-separated non-empty components")
    return key


_topic_cache: dict[str, bytes] = {}


def status_topic(sensorId: str) -> bytes:
    """The wire topic of a status update for ``sensorId``."""
    topic = _topic_cache.get(sensorId)
    if topic is None:
        topic = (STATUS_PREFIX + check_key(sensorId) + TOPIC_END).encode()
        if len(_topic_cache) < 4096:  # bounded: keys are few in practice
            _topic_cache[sensorId] = topic
    return topic


def masks(mask: str | list[str] | tuple[str, ...]) -> list[str]:
    """The normalised list of masks (``['']`` means everything)."""
    items = [mask] if isinstance(mask, str) else list(mask)
    found = [check_key(m.strip(".")) for m in items] or [""]
    return [""] if "" in found else found


def subscriptions_for(mask: str | list[str] | tuple[str, ...]) -> list[bytes]:
    """The SUB prefixes that deliver exactly the status updates relevant to ``mask``."""
    subs: set[bytes] = set()
    for m in masks(mask):
        if not m:
            subs.add(STATUS_PREFIX.encode())
            continue
        subs.add((STATUS_PREFIX + m + ".").encode())
        subs.add((STATUS_PREFIX + m + TOPIC_END).encode())
        parts = m.split(".")
        for i in range(len(parts)):
            subs.add((STATUS_PREFIX + ".".join(parts[:i]) + TOPIC_END).encode())
    return sorted(subs)


def log_topic(levelname: str, logger_name: str) -> bytes:
    """The wire topic of a log record."""
    return f"{LOG_PREFIX}{levelname}.{logger_name}".encode()


def log_subscriptions(levels: str | list[str] = "") -> list[bytes]:
    """SUB prefixes for log records: ``''`` for all, or level names such as ``['ERROR']``."""
    items = [levels] if isinstance(levels, str) else list(levels)
    if not items or "" in items:
        return [LOG_PREFIX.encode()]
    return [f"{LOG_PREFIX}{lv.upper()}.".encode() for lv in items]


def decode_message(frames: list[bytes]) -> tuple[str, Any] | None:
    """``(topic, payload)`` of a received ``[topic, json]`` message, or None if malformed.

    The topic is returned without the status terminator (``"status.system.foo"``).
    """
    if len(frames) != 2:
        return None
    try:
        return frames[0].decode().rstrip(TOPIC_END), loads(frames[1])
    except (ValueError, UnicodeDecodeError):
        return None
