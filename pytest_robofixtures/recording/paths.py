"""Where a recording bundle lives: ``<root>/<module path>/<test name>/``."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

RECORDING_FILE = "recording.yaml"
#: A failed attempt, written beside a good recording instead of replacing it.
FAILED_FILE = "recording.failed.yaml"
BLOBS_DIR = "blobs"
MAX_COMPONENT = 96
_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+@\[\]-]+")


def sanitize(component: str, max_len: int = MAX_COMPONENT) -> str:
    """A file-system-safe path component; long ones are cut and suffixed with a hash."""
    safe = _UNSAFE.sub("_", component).strip("._") or "_"
    if safe in {".", ".."}:
        safe = "_"
    if len(safe) > max_len:
        digest = hashlib.sha1(component.encode("utf-8")).hexdigest()[:10]
        safe = f"{safe[: max_len - 11].rstrip('._')}-{digest}"
    return safe


def recording_path(root: str | Path, nodeid: str, scope_name: str | None = None) -> Path:
    """The bundle directory of a test (``scope_name`` None) or of a shared fixture scope.

    ``tests/hil/test_nav.py::TestArm::test_go[x]`` → ``root/tests/hil/test_nav/TestArm.test_go[x]``.
    For a fixture shared by a module or class, pass that node's id and the fixture name:
    ``("tests/test_a.py", "routed_network")`` → ``root/tests/test_a/@routed_network``; for a
    session fixture pass ``nodeid=""`` → ``root/@session/@routed_network``.
    """
    module, _, rest = nodeid.partition("::")
    parts: list[str] = []
    if module:
        module = module.replace("\\", "/")
        if module.endswith(".py"):
            module = module[:-3]
        parts += [sanitize(p) for p in module.split("/") if p not in ("", ".", "..")]
    else:
        parts.append("@session")
    if scope_name is not None:
        if rest:
            parts.append(sanitize(rest.replace("::", ".")))
        parts.append(sanitize("@" + scope_name))
    else:
        if not rest:
            raise ValueError(f"nodeid {nodeid!r} names no test; pass scope_name for a fixture")
        parts.append(sanitize(rest.replace("::", ".")))
    return Path(root).joinpath(*parts)
