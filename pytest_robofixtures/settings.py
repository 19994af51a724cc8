"""Command-line options and ini keys, resolved into one :class:`RoboSettings`.

Precedence: command line, then ini (``robo_*``), then defaults. Credentials come from the
environment only, and only in live mode.
"""

from __future__ import annotations

import enum
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest


class Target(enum.Enum):
    """Where resources come from: the recordings, the real services, or the sandbox."""

    REPLAY = "replay"
    LIVE = "live"
    SIM = "sim"


class RecordMode(enum.Enum):
    """What a run writes (like pytest-recording's record modes)."""

    NONE = "none"  # write nothing
    ONCE = "once"  # record only tests that have no recording
    ALL = "all"  # re-record every test that runs

RAPYUTA_CATALOG = "https://gacatalog.apps.okd4v2.prod.rapyuta.io"
RAPYUTA_CORE = "https://gaapiserver.apps.okd4v2.prod.rapyuta.io"
REROBOTS_API = "https://api.rerobots.net"

# (option, ini key, help, default) for the value options; flags are added separately.
_VALUES: list[tuple[str, str, str, str | None]] = [
    ("--robo-cassette-dir", "robo_cassette_dir",
     "where recordings live (default: cassettes/ under the rootdir)", "cassettes"),
    ("--robo-artifacts-dir", "robo_artifacts_dir",
     "where camera frames and logs are saved (default: robo-artifacts/)", "robo-artifacts"),
    ("--robo-journal-dir", "robo_journal_dir",
     "where the run journal used by `robofixtures reap` is kept (default: .robofixtures/)",
     ".robofixtures"),
    ("--robo-rapyuta-catalog-url", "robo_rapyuta_catalog_url",
     "rapyuta.io catalog host for live mode", RAPYUTA_CATALOG),
    ("--robo-rapyuta-core-url", "robo_rapyuta_core_url",
     "rapyuta.io core API host for live mode", RAPYUTA_CORE),
    ("--robo-rerobots-url", "robo_rerobots_url", "rerobots API base URI for live mode",
     REROBOTS_API),
    ("--robo-roc-broker", "robo_roc_broker",
     "use the ROC broker at HOST[:PORT] instead of starting a local one", None),
    ("--robo-timeout", "robo_timeout",
     "default seconds to wait for a resource to become ready (default 600)", "600"),
    ("--robo-max-rentals", "robo_max_rentals",
     "at most this many rerobots workspaces rented at once across xdist workers", None),
    ("--robo-sim-delay", "robo_sim_delay",
     "provisioning delay of the embedded sandbox in seconds (default 0.3)", "0.3"),
    ("--robo-sim-seed", "robo_sim_seed",
     "seed of the embedded sandbox: the same seed gives the same ids, keys and fault choices "
     "(default: random per start)", None),
    ("--robo-progress-after", "robo_progress_after",
     "show resource state changes in the terminal once a wait lasts this long (default 5 s)",
     "5"),
    ("--robo-record-mode", "robo_record_mode",
     "none: write no recording; once: record only tests without one; all: re-record every "
     "test (default with --robo-live/--robo-sim: all; without them: none)", None),
    ("--robo-teardown-grace", "robo_teardown_grace",
     "after Ctrl-C during teardown, seconds to finish tearing down (default 30)", "30"),
    ("--robo-teardown-timeout", "robo_teardown_timeout",
     "seconds teardown waits for one resource to be gone (default 120)", "120"),
    ("--robo-pictures", "robo_pictures",
     "draw the timeline picture of: failed tests (default), all tests, or none "
     "(needs the plots extra: matplotlib)", "failed"),
    ("--robo-allow-hosts", "robo_allow_hosts",
     "comma-separated hosts (host or host:port) the replay network guard lets through", None),
]


def add_options(parser: pytest.Parser) -> None:
    """Register the ``--robo-*`` options and ``robo_*`` ini keys."""
    group = parser.getgroup("robofixtures", "robot fixtures: rapyuta.io, rerobots, ROC")
    mode = group.addoption
    mode("--robo-live", action="store_true", default=False,
         help="provision on the real services (credentials from the environment) and record")
    mode("--robo-sim", action="store_true", default=False,
         help="provision on the embedded sandbox on loopback and record")
    mode("--robo-require-devices", action="store_true", default=False,
         help="fail, instead of skip, a test whose online_device has no match")
    mode("--robo-keep", action="store_true", default=False,
         help="do not tear resources down (debugging); prints how to reap them later")
    mode("--robo-block-network", action="store_true", default=None,
         help="in replay, refuse every non-loopback connection in every test of the run "
              "(ini robo_block_network)")
    mode("--robo-strict-replay", action="store_true", default=None,
         help="fail a replayed test that left recorded interactions unused "
              "(ini robo_strict_replay)")
    mode("--robo-drift", nargs="?", const="report", default=None, choices=["report", "strict"],
         help="with a live target: record nothing and report how the service's answers differ "
              "from the recordings; =strict fails drifted tests")
    for option, ini, help_text, default in _VALUES:
        dest = option[2:].replace("-", "_")
        extra = ["--roc-broker"] if option == "--robo-roc-broker" else []
        group.addoption(option, *extra, dest=dest, default=None, help=help_text)
        parser.addini(ini, help_text, default=default)
    parser.addini("robo_scrub_fields", "extra JSON field names to scrub from recordings",
                  type="linelist", default=[])
    parser.addini("robo_scrub_patterns", "extra regular expressions to scrub from recordings",
                  type="linelist", default=[])
    parser.addini("robo_block_network", "see --robo-block-network", type="bool", default=False)
    parser.addini("robo_strict_replay", "see --robo-strict-replay", type="bool", default=False)


@dataclass
class RoboSettings:
    """Everything the plugin needs to know from the command line and ini."""

    target: Target
    rootdir: Path
    cassette_dir: Path
    artifacts_dir: Path
    journal_dir: Path
    rapyuta_catalog_url: str
    rapyuta_core_url: str
    rerobots_url: str
    roc_broker: str | None
    timeout: float
    max_rentals: int | None
    sim_delay: float
    require_devices: bool
    keep: bool
    progress_after: float = 5.0
    scrub_fields: list[str] = field(default_factory=list)
    scrub_patterns: list[str] = field(default_factory=list)
    record_mode: RecordMode = RecordMode.NONE
    teardown_grace: float = 30.0
    teardown_timeout: float = 120.0
    allow_hosts: list[str] = field(default_factory=list)
    block_network: bool = False
    strict_replay: bool = False
    drift: str | None = None  # "report" or "strict"
    pictures: str = "failed"  # failed, all or none
    sim_seed: int | None = None


def _value(config: pytest.Config, option: str, ini: str) -> str | None:
    cli = config.getoption(option[2:].replace("-", "_"))
    if cli is not None:
        return str(cli)
    value = config.getini(ini)
    return str(value) if value not in (None, "") else None


_ZERO_OK = {"--robo-sim-delay", "--robo-progress-after", "--robo-teardown-grace"}


def _number(config: pytest.Config, option: str, ini: str,
            kind: type[float] | type[int]) -> float | int | None:
    raw = _value(config, option, ini)
    if raw is None:
        return None
    try:
        number = kind(raw)
    except ValueError:
        raise pytest.UsageError(
            f"{option} / ini {ini} must be a {kind.__name__} number, got {raw!r}"
        ) from None
    if not math.isfinite(number):
        raise pytest.UsageError(
            f"{option} / ini {ini} must be a finite number of seconds, got {raw!r}"
        )
    if number < 0 or (number == 0 and option not in _ZERO_OK):
        raise pytest.UsageError(f"{option} / ini {ini} must be > 0, got {raw!r}")
    return number


def _seed(config: pytest.Config) -> int | None:
    raw = _value(config, "--robo-sim-seed", "robo_sim_seed")
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise pytest.UsageError(f"--robo-sim-seed / ini robo_sim_seed must be an integer, "
                                f"got {raw!r}") from None
    if value < 0:
        raise pytest.UsageError(f"--robo-sim-seed must be >= 0, got {raw!r}")
    return value


def _choice(config: pytest.Config, option: str, ini: str, choices: tuple[str, ...]) -> str:
    raw = (_value(config, option, ini) or choices[0]).lower()
    if raw not in choices:
        raise pytest.UsageError(f"{option} / ini {ini} must be one of {', '.join(choices)}, "
                                f"got {raw!r}")
    return raw


def load_settings(config: pytest.Config) -> RoboSettings:
    """Resolve options, ini and defaults; raise ``pytest.UsageError`` on a bad value."""
    live, sim = config.getoption("robo_live"), config.getoption("robo_sim")
    if live and sim:
        raise pytest.UsageError("--robo-live and --robo-sim exclude each other: pick one mode")
    target = Target.LIVE if live else Target.SIM if sim else Target.REPLAY
    has_live_target = target is not Target.REPLAY
    raw_mode = _value(config, "--robo-record-mode", "robo_record_mode")
    try:
        record_mode = RecordMode(raw_mode.lower()) if raw_mode else (
            RecordMode.ALL if has_live_target else RecordMode.NONE)
    except ValueError:
        raise pytest.UsageError(
            f"--robo-record-mode / ini robo_record_mode must be none, once or all, "
            f"got {raw_mode!r}"
        ) from None
    if record_mode is not RecordMode.NONE and not has_live_target:
        raise pytest.UsageError(
            f"--robo-record-mode={record_mode.value} records, which needs a live target: add "
            "--robo-sim (the embedded sandbox) or --robo-live (the real services)"
        )
    drift = config.getoption("robo_drift")
    if drift and not has_live_target:
        raise pytest.UsageError(
            "--robo-drift compares the live service with the recordings: add --robo-sim or "
            "--robo-live"
        )
    if drift:
        record_mode = RecordMode.NONE  # a drift check never writes a recording
    block = config.getoption("robo_block_network")
    strict = config.getoption("robo_strict_replay")
    hosts = _value(config, "--robo-allow-hosts", "robo_allow_hosts") or ""
    root = Path(config.rootpath)

    def path(option: str, ini: str) -> Path:
        raw = _value(config, option, ini) or ""
        p = Path(os.path.expanduser(raw))
        return p if p.is_absolute() else root / p

    max_rentals = _number(config, "--robo-max-rentals", "robo_max_rentals", int)
    return RoboSettings(
        target=target,
        rootdir=root,
        cassette_dir=path("--robo-cassette-dir", "robo_cassette_dir"),
        artifacts_dir=path("--robo-artifacts-dir", "robo_artifacts_dir"),
        journal_dir=path("--robo-journal-dir", "robo_journal_dir"),
        rapyuta_catalog_url=(_value(config, "--robo-rapyuta-catalog-url",
                                    "robo_rapyuta_catalog_url") or RAPYUTA_CATALOG).rstrip("/"),
        rapyuta_core_url=(_value(config, "--robo-rapyuta-core-url", "robo_rapyuta_core_url")
                          or RAPYUTA_CORE).rstrip("/"),
        rerobots_url=(_value(config, "--robo-rerobots-url", "robo_rerobots_url")
                      or REROBOTS_API).rstrip("/"),
        roc_broker=_value(config, "--robo-roc-broker", "robo_roc_broker"),
        timeout=float(_number(config, "--robo-timeout", "robo_timeout", float) or 600.0),
        max_rentals=int(max_rentals) if max_rentals is not None else None,
        sim_delay=float(_number(config, "--robo-sim-delay", "robo_sim_delay", float) or 0.0),
        require_devices=bool(config.getoption("robo_require_devices")),
        keep=bool(config.getoption("robo_keep")),
        progress_after=float(_number(config, "--robo-progress-after", "robo_progress_after",
                                     float) or 0.0),
        scrub_fields=list(config.getini("robo_scrub_fields")),
        scrub_patterns=list(config.getini("robo_scrub_patterns")),
        record_mode=record_mode,
        teardown_grace=float(_number(config, "--robo-teardown-grace", "robo_teardown_grace",
                                     float) or 0.0),
        teardown_timeout=float(_number(config, "--robo-teardown-timeout",
                                       "robo_teardown_timeout", float) or 120.0),
        allow_hosts=[h.strip() for h in hosts.split(",") if h.strip()],
        block_network=bool(config.getini("robo_block_network") if block is None else block),
        strict_replay=bool(config.getini("robo_strict_replay") if strict is None else strict),
        drift=drift,
        pictures=_choice(config, "--robo-pictures", "robo_pictures", ("failed", "all", "none")),
        sim_seed=_seed(config),
    )


class MissingCredential(Exception):
    """A live-mode credential is not in the environment."""


CREDENTIAL_HELP = {
    "RIO_AUTH_TOKEN": "your rapyuta.io auth token",
    "RIO_PROJECT": "your rapyuta.io project GUID",
    "REROBOTS_API_TOKEN": "your rerobots API token",
}


def credential(name: str) -> str:
    """Read one credential from the environment or raise :class:`MissingCredential`."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingCredential(
            f"{name} is not set: live mode (--robo-live) reads {CREDENTIAL_HELP[name]} from the "
            f"environment. Export {name}=..., or run with --robo-sim to use the embedded "
            f"sandbox, or without either flag to replay recordings."
        )
    return value
