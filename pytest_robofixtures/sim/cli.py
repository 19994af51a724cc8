"""``robofixtures sim``: run the embedded sandbox until interrupted.

Prints :meth:`Sandbox.describe` as one JSON line on stdout once every service listens, then
serves until SIGINT or SIGTERM; resources still live at shutdown are listed on stderr.

    robofixtures sim [--delay S] [--no-roc] [--seed N] [--faults FILE]

``--faults FILE`` is a JSON list of fault rules applied at start; each rule is what
``POST /_admin/faults`` takes plus an optional ``"service"``: ``"rapyuta"``, ``"rerobots"`` or
``"*"`` (both, the default).
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .sandbox import Sandbox, parse_fault_rules


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``sim`` command's options to ``parser``."""
    parser.add_argument("--delay", type=_seconds, default=0.3,
                        help="provisioning delay in seconds (default 0.3)")
    parser.add_argument("--no-roc", action="store_true", help="do not start the ROC broker")
    parser.add_argument("--seed", type=_seed, default=None,
                        help="seed for ids and random fault choices (default: random; the "
                             "seed used is in the printed JSON)")
    parser.add_argument("--faults", type=Path, default=None, metavar="FILE",
                        help='JSON list of fault rules applied at start; each may name a '
                             '"service": "rapyuta", "rerobots" or "*" (default)')


def load_faults(path: Path) -> list[dict[str, Any]]:
    """Read and validate a faults file; ValueError with the reason when it is not valid."""
    try:
        rules = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from None
    parse_fault_rules(rules)
    return list(rules)


def run(args: argparse.Namespace) -> int:
    """Run the sandbox with parsed ``args`` until SIGINT/SIGTERM; the exit status."""
    try:
        faults = load_faults(args.faults) if args.faults is not None else []
    except ValueError as exc:
        print(f"robofixtures sim: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with Sandbox(delay=args.delay, roc=not args.no_roc, seed=args.seed,
                 faults=faults) as sandbox:
        print(json.dumps(sandbox.describe()), flush=True)
        stop.wait()
        leaked = sandbox.leaked()
    if leaked:
        print("live at shutdown: " + "; ".join(leaked), file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``) and run the sandbox."""
    parser = argparse.ArgumentParser(prog="robofixtures sim",
                                     description="Run the embedded sandbox until interrupted.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
