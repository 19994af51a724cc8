"""Per-test recording configuration: scrub rules, match rules and allowed hosts in one object.

This is what the plugin's ``robo_config`` fixture returns (overridable per conftest, module or
class, like pytest-recording's ``vcr_config``). It builds the :class:`Scrubber` and configures
the :class:`Normalizer` a :class:`Recorder` uses, and gives the guard its allowed hosts::

    cfg = RecordingConfig.coerce(robo_config_value)       # a RecordingConfig or a plain dict
    rec = Recorder.open(path, mode, command, cfg.scrubber(secrets=[token]), ...)
    cfg.configure(rec.normalizer)                         # before rec.active()
    with rec.active(allowed_hosts=cfg.allowed_hosts):
        ...

Secret scrubbing cannot be switched off from here: every field, pattern and hook *adds* to
the built-in rules, and a key that would disable them is refused.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .guard import compile_allowed_hosts
from .match import Normalizer, compile_json_path
from .scrub import Scrubber, ScrubHook

# Keys someone might reach for to turn scrubbing off: refused with a clear message.
_DISABLING_KEYS = frozenset({"scrub", "scrubbing", "enabled", "scrub_enabled", "no_scrub",
                             "disable_scrubbing", "filter_secrets"})


def _tuple(value: Any, key: str) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes, re.Pattern)) or callable(value):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(value)
    raise TypeError(f"robo_config {key!r} must be a list, not {type(value).__name__}")


@dataclass(frozen=True)
class RecordingConfig:
    """Scrub rules, match rules and allowed hosts for one test's recording.

    - ``scrub_fields``: JSON field names whose values are secrets (any depth, case- and
      ``_``/``-``-insensitive), on top of the built-in ones (``token``, ``password``...).
    - ``scrub_headers`` / ``scrub_query_params``: more secret header / query parameter names.
    - ``scrub_patterns``: regexes; every match is replaced by a placeholder.
    - ``scrub_hooks``: ``hook(transport, entry) -> entry | None`` run on each interaction's
      stored form (after the built-in scrubbing) before it is written; None leaves it out.
    - ``ignore_json_paths``: JSONPaths (``$.meta.ts``, ``items[*].nonce``, ``$..stamp``)
      left out of HTTP request bodies and ROC params when replay matches; the value stays in
      the recording and visible to the test.
    - ``ignore_query_params``: query parameter names left out when matching.
    - ``match_hooks``: custom matchers, ``fn(data) -> data`` applied to every JSON request body
      (HTTP) and ROC params on both sides before comparing (e.g. sort a list, round a float).
    - ``volatile_fields``: field names whose values never matter when matching (any depth).
    - ``allowed_hosts``: hosts the replay network guard lets through: ``host``,
      ``host:port``, glob patterns (``*.example.com``, ``10.0.*``) or ``re:<regex>``.

    Headers are never matched, so no rule is needed to ignore one.
    """

    scrub_fields: tuple[str, ...] = ()
    scrub_headers: tuple[str, ...] = ()
    scrub_query_params: tuple[str, ...] = ()
    scrub_patterns: tuple[str | re.Pattern[str], ...] = ()
    scrub_hooks: tuple[ScrubHook, ...] = ()
    ignore_json_paths: tuple[str, ...] = ()
    ignore_query_params: tuple[str, ...] = ()
    match_hooks: tuple[Callable[[Any], Any], ...] = ()
    volatile_fields: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _tuple(getattr(self, f.name), f.name))
        self.validate()

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def keys(cls) -> list[str]:
        """The option names a ``robo_config`` mapping may use."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> RecordingConfig:
        """From a plain dict (what a ``robo_config`` fixture may return); unknown keys refused."""
        disabling = sorted(set(mapping) & _DISABLING_KEYS)
        if disabling:
            raise ValueError(
                f"robo_config: {', '.join(disabling)}: secret scrubbing cannot be switched off; "
                "use ignore_json_paths / ignore_query_params to keep a value visible and "
                "out of matching instead")
        unknown = sorted(set(mapping) - set(cls.keys()))
        if unknown:
            raise ValueError(f"robo_config: unknown key(s) {', '.join(unknown)}; "
                             f"known: {', '.join(cls.keys())}")
        return cls(**dict(mapping))

    @classmethod
    def coerce(cls, value: RecordingConfig | Mapping[str, Any] | None) -> RecordingConfig:
        """A config from a config, a mapping or None (the defaults)."""
        if value is None or (isinstance(value, Mapping) and not value):
            return _DEFAULT if cls is RecordingConfig else cls()
        if isinstance(value, RecordingConfig):
            return value
        if isinstance(value, Mapping):
            return cls.from_mapping(value)
        raise TypeError(
            f"robo_config must be a dict or RecordingConfig, not {type(value).__name__}")

    def merged(self, other: RecordingConfig | Mapping[str, Any] | None) -> RecordingConfig:
        """A copy extended by ``other`` (lists concatenated, duplicates dropped)."""
        extra = RecordingConfig.coerce(other)
        values = {}
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(extra, f.name)
            values[f.name] = mine + tuple(v for v in theirs if v not in mine)
        return RecordingConfig(**values)

    def validate(self) -> None:
        """Compile every regex, JSON path and host rule now (ValueError naming the bad one)."""
        for p in self.scrub_patterns:
            if isinstance(p, str):
                try:
                    re.compile(p)
                except re.error as exc:
                    raise ValueError(f"robo_config scrub_patterns: {p!r}: {exc}") from None
        for key in ("scrub_hooks", "match_hooks"):
            for hook in getattr(self, key):
                if not callable(hook):
                    raise TypeError(f"robo_config {key}: {hook!r} is not callable")
        for path in self.ignore_json_paths:
            compile_json_path(path)
        compile_allowed_hosts(self.allowed_hosts)
        for key in ("scrub_fields", "scrub_headers", "scrub_query_params",
                    "ignore_query_params", "volatile_fields", "allowed_hosts"):
            for v in getattr(self, key):
                if not isinstance(v, str) or not v:
                    raise TypeError(f"robo_config {key}: {v!r} is not a non-empty string")

    # -- using -------------------------------------------------------------------------------
    def scrubber(self, secrets: Iterable[str | None] = ()) -> Scrubber:
        """A Scrubber with the built-in rules, these rules and the known secret values."""
        return Scrubber(
            secrets=[s for s in secrets if s],
            fields=self.scrub_fields,
            headers=self.scrub_headers,
            query_params=self.scrub_query_params,
            patterns=self.scrub_patterns,
            hooks=self.scrub_hooks,
        )

    def configure(self, normalizer: Normalizer) -> Normalizer:
        """Add the match rules to a Recorder's normalizer (before replay starts)."""
        return normalizer.configure(ignore_paths=self.ignore_json_paths,
                                    ignore_query=self.ignore_query_params,
                                    volatile_fields=self.volatile_fields,
                                    body_hooks=self.match_hooks)

    def normalizer(self) -> Normalizer:
        """A new Normalizer with the match rules."""
        return self.configure(Normalizer())


#: The default config, built and validated once (frozen, so every test can share it).
_DEFAULT = RecordingConfig()
