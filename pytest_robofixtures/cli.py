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
    from .maintenance import check_recordings, collected_nodeids
    from .recording.inventory import delete_recording, list_recordings, older_than, orphans

    root = Path(args.dir)
    if args.orphans or args.older_than is not None or args.list:
        infos = list_recordings(root)
        if args.orphans:
            try:
                nodeids = collected_nodeids(args.tests, Path.cwd())
            except RuntimeError as exc:
                print(f"robofixtures cassettes: {exc}", file=sys.stderr)
                return 2
            infos = orphans(infos, nodeids)
        if args.older_than is not None:
            infos = older_than(infos, args.older_than)
        for info in infos:
            print(info.line(root))
        label = "orphaned" if args.orphans else "stale" if args.older_than is not None else ""
        print(f"{len(infos)} {label} recording(s)".replace("  ", " "))
        if args.delete:
            if not (args.orphans or args.older_than is not None):
                print("robofixtures cassettes: --delete needs --orphans or --older-than",
                      file=sys.stderr)
                return 2
            for info in infos:
                delete_recording(info.directory, root)
                print(f"deleted {info.directory}")
        return 0
    problems = check_recordings(root, tokens=args.token or [])
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

    cassettes = sub.add_parser(
        "cassettes", help="check recordings (loadable, no secrets); list, find orphans and "
                          "stale ones")
    cassettes.add_argument("dir", nargs="?", default="cassettes")
    cassettes.add_argument("--token", action="append",
                           help="a literal secret that must appear in no file (repeatable)")
    cassettes.add_argument("--list", action="store_true",
                           help="list recordings: size, interactions per transport, date")
    cassettes.add_argument("--orphans", action="store_true",
                           help="recordings whose test no longer exists (collects the tests)")
    cassettes.add_argument("--tests", default=".",
                           help="where to collect the tests from for --orphans (default: .)")
    cassettes.add_argument("--older-than", type=float, default=None, metavar="DAYS",
                           help="recordings recorded more than DAYS ago")
    cassettes.add_argument("--delete", action="store_true",
                           help="with --orphans or --older-than: delete what is listed")
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
