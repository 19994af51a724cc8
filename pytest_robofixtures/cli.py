"""The ``robofixtures`` command: sandbox, reaper, ROC tools, recording checks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _cmd_sim(args: argparse.Namespace) -> int:
    from .sim import cli as sim_cli

    return int(sim_cli.run(args))


def _cmd_reap(args: argparse.Namespace) -> int:
    from .reaper import reap
    from .settings import MissingCredential

    try:
        result = reap(Path(args.journal_dir), run_id=args.run, dry_run=args.dry_run, say=print)
    except MissingCredential as exc:
        print(f"robofixtures reap: {exc}", file=sys.stderr)
        return 2
    for line in result.planned:
        print(f"would delete {line}")
    total = (len(result.deleted) + len(result.failed) + len(result.planned)
             + len(result.absent))
    if not total:
        print("nothing to reap")
    return 1 if result.failed else 0


def _cmd_roc(args: argparse.Namespace, rest: list[str]) -> int:
    from .roc import cli as roc_cli

    if args.roc_command == "broker":
        return int(roc_cli.broker_main(rest) or 0)
    return int(roc_cli.logdump_main(rest) or 0)


def _cmd_cassettes(args: argparse.Namespace) -> int:
    from .maintenance import check_recordings

    problems = check_recordings(Path(args.dir), tokens=args.token or [])
    for line in problems:
        print(line)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .export.mcap import McapUnavailable, export_recording
    from .recording import RECORDING_FILE, recording_path

    directory = recording_path(Path(args.cassette_dir), args.test_id)
    if not (directory / RECORDING_FILE).is_file():
        print(f"robofixtures export: no recording for {args.test_id} (looked at "
              f"{directory / RECORDING_FILE})", file=sys.stderr)
        return 2
    try:
        summary = export_recording(directory, Path(args.mcap))
    except McapUnavailable as exc:
        print(f"robofixtures export: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.mcap}: {sum(summary.messages.values())} messages, timing "
          f"{summary.timing}")
    for topic, count in sorted(summary.messages.items()):
        print(f"  {topic}: {count}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="robofixtures", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("sim", help="run the embedded sandbox until interrupted "
                                     "(--seed, --faults FILE, --delay, --no-roc)")
    from .sim import cli as sim_cli

    sim_cli.add_arguments(sim)

    reap = sub.add_parser("reap", help="delete resources a crashed or killed run left behind")
    reap.add_argument("--journal-dir", default=".robofixtures")
    reap.add_argument("--run", default=None, help="only this run id")
    reap.add_argument("--dry-run", action="store_true", help="list, do not delete")

    roc = sub.add_parser("roc", add_help=False,
                         help="ROC tools: broker, logdump (see `robofixtures roc broker --help`)")
    roc.add_argument("roc_command", choices=["broker", "logdump"])

    cassettes = sub.add_parser("cassettes", help="check recordings: loadable, no secrets")
    cassettes.add_argument("dir", nargs="?", default="cassettes")
    cassettes.add_argument("--token", action="append",
                           help="a literal secret that must appear in no file (repeatable)")
    export = sub.add_parser("export", help="write one test's recording as MCAP (Foxglove)")
    export.add_argument("test_id", help="the test's node id, e.g. tests/test_a.py::test_x")
    export.add_argument("--mcap", required=True, help="the MCAP file to write")
    export.add_argument("--cassette-dir", default="cassettes")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``robofixtures`` command."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "roc":
        return _cmd_roc(args, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    handlers: dict[str, Any] = {"sim": _cmd_sim, "reap": _cmd_reap, "cassettes": _cmd_cassettes,
                                "export": _cmd_export}
    return int(handlers[args.command](args))


if __name__ == "__main__":
    sys.exit(main())
