"""SSH record/replay behind the ``SSHSession`` seam: exec transcripts and file transfers."""

from __future__ import annotations

import difflib
import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..common.transports import ExecResult, SSHSession
from ._util import exception_from_record, exception_record
from .bundle import Bundle
from .match import OrderedReplay
from .scrub import Scrubber

#: ``ssh_factory(host, port, hostkeys, private_key, username="root") -> SSHSession``
SSHFactory = Callable[..., SSHSession]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RecordingSSHSession:
    """Wraps a real session and appends every exec/put/get to the bundle's ``ssh`` section."""

    def __init__(
        self,
        inner: SSHSession,
        bundle: Bundle,
        scrubber: Scrubber | None = None,
        host: str = "",
        port: int = 0,
        username: str = "root",
    ) -> None:
        self.inner = inner
        self.bundle = bundle
        self.scrubber = scrubber
        self.where = {"host": host, "port": port, "user": username}
        self._lock = threading.Lock()

    def _append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.bundle.ssh.append({**self.where, **entry, "at": self.bundle.elapsed()})

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run ``command`` on the real host and record the transcript."""
        try:
            result = self.inner.exec(command, timeout)
        except Exception as exc:
            self._append({"exec": command, "raised": exception_record(exc)})
            raise
        self._append({
            "exec": command, "stdout": result.stdout, "stderr": result.stderr,
            "exit_status": result.exit_status,
        })
        return result

    def put(self, local_path: str, remote_path: str) -> None:
        """Upload, recording the remote path, size and sha256."""
        data = Path(local_path).read_bytes()
        try:
            self.inner.put(local_path, remote_path)
        except Exception as exc:
            self._append({"put": remote_path, "raised": exception_record(exc)})
            raise
        self._append({"put": remote_path, "size": len(data), "sha256": _sha256(data)})

    def get(self, remote_path: str, local_path: str) -> None:
        """Download, recording the content as a blob."""
        try:
            self.inner.get(remote_path, local_path)
        except Exception as exc:
            self._append({"get": remote_path, "raised": exception_record(exc)})
            raise
        data = Path(local_path).read_bytes()
        self._append({"get": remote_path, "size": len(data), "sha256": _sha256(data),
                      "content": data})

    def close(self) -> None:
        """Close the real session."""
        self.inner.close()


def _op(entry: dict[str, Any]) -> tuple[str, str]:
    for op in ("exec", "put", "get"):
        if op in entry:
            return op, str(entry[op])
    raise KeyError("ssh entry has no exec/put/get")


class _SSHReplayer:
    def __init__(self, bundle: Bundle, scrubber: Scrubber) -> None:
        self.bundle = bundle
        self.scrubber = scrubber
        # Host and port are not matched: the service assigns them (they come from replayed
        # responses, or from a shared instance another worker recorded), the test does not.
        try:
            keys = [(e.get("user", "root"), _op(e)[0], scrubber.text(_op(e)[1]))
                    for e in bundle.ssh]
        except (KeyError, ValueError) as exc:
            raise bundle.corrupt(f"ssh section: {exc}") from None
        self.replay = OrderedReplay(bundle.ssh, keys=list(keys))

    def find(self, where: dict[str, Any], op: str, arg: str) -> dict[str, Any]:
        arg = self.scrubber.text(arg)  # scrubbed like the recording was
        key = (where["user"], op, arg)
        found = self.replay.next(key)
        if found is not None:
            return found[1]

        def score(e: dict[str, Any]) -> tuple[int, float]:
            e_op, e_arg = _op(e)
            return (int(e_op == op) + int(e.get("user") == where["user"]),
                    difflib.SequenceMatcher(None, e_arg, arg).ratio())

        best = self.replay.nearest(score)
        wanted = f"{op} {arg!r} on {where['user']}@{where['host']}:{where['port']}"
        nearest, diffs = None, []
        if best is not None:
            e = best[1]
            e_op, e_arg = _op(e)
            nearest = f"{e_op} {e_arg!r} on {e.get('user')}@{e.get('host')}:{e.get('port')}"
            if e_op != op:
                diffs.append(f"operation: recorded {e_op}, got {op}")
            if e_arg != arg:
                diffs.append(f"{'command' if op == 'exec' else 'path'}: recorded {e_arg!r}, "
                             f"got {arg!r}")
            if e.get("user") != where["user"]:
                diffs.append(f"user: recorded {e.get('user')!r}, got {where['user']!r}")
        raise self.bundle.mismatch("SSH", wanted, nearest, diffs, len(self.bundle.ssh))

    def unused(self) -> list[str]:
        return [f"SSH {' '.join(_op(self.bundle.ssh[i]))}" for i in self.replay.unused()]


def ssh_replayer(bundle: Bundle, scrubber: Scrubber | None = None) -> _SSHReplayer:
    """The bundle's SSH replay state (shared by all its replay sessions)."""
    replayer = bundle.replayers.get("ssh")
    if replayer is None:
        replayer = bundle.replayers["ssh"] = _SSHReplayer(bundle, scrubber or Scrubber())
    return replayer


class ReplaySSHSession:
    """Serves exec/put/get from the recording; opens no socket."""

    def __init__(
        self,
        bundle: Bundle,
        host: str = "",
        port: int = 0,
        username: str = "root",
        scrubber: Scrubber | None = None,
    ) -> None:
        self.bundle = bundle
        self.where = {"host": host, "port": port, "user": username}
        self._replayer = ssh_replayer(bundle, scrubber)

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        """The recorded result of ``command`` (RecordingMismatch when not recorded)."""
        e = self._replayer.find(self.where, "exec", command)
        if "raised" in e:
            raise exception_from_record(e["raised"])
        return ExecResult(command, e.get("stdout", b""), e.get("stderr", b""),
                          int(e.get("exit_status", 0)))

    def put(self, local_path: str, remote_path: str) -> None:
        """Check the upload against the recording (same path and content)."""
        e = self._replayer.find(self.where, "put", remote_path)
        if "raised" in e:
            raise exception_from_record(e["raised"])
        data = Path(local_path).read_bytes()
        if e.get("sha256") != _sha256(data):
            raise self.bundle.mismatch(
                "SSH", f"put {remote_path!r} ({len(data)} bytes, sha256 {_sha256(data)[:12]})",
                f"put {remote_path!r} ({e.get('size')} bytes, sha256 {str(e.get('sha256'))[:12]})",
                ["content: the uploaded file differs from the recorded one"], len(self.bundle.ssh),
            )

    def get(self, remote_path: str, local_path: str) -> None:
        """Write the recorded content of ``remote_path`` to ``local_path``."""
        e = self._replayer.find(self.where, "get", remote_path)
        if "raised" in e:
            raise exception_from_record(e["raised"])
        Path(local_path).write_bytes(e["content"])

    def close(self) -> None:
        """Nothing to release."""


def recording_ssh_factory(
    inner_factory: SSHFactory, bundle: Bundle, scrubber: Scrubber | None = None
) -> SSHFactory:
    """An ``ssh_factory`` that opens real sessions and records them."""

    def factory(
        host: str, port: int, hostkeys: Any, private_key: Any, username: str = "root"
    ) -> SSHSession:
        if scrubber is not None and isinstance(private_key, str):
            scrubber.add_secret(private_key)
        inner = inner_factory(host, port, hostkeys, private_key, username=username)
        return RecordingSSHSession(inner, bundle, scrubber, host, port, username)

    return factory


def replay_ssh_factory(bundle: Bundle, scrubber: Scrubber | None = None) -> SSHFactory:
    """An ``ssh_factory`` that replays sessions from the recording (no socket, no key needed).

    Commands are scrubbed with ``scrubber`` before matching, as they were when recorded.
    """

    def factory(
        host: str, port: int, hostkeys: Any = None, private_key: Any = None,
        username: str = "root",
    ) -> SSHSession:
        return ReplaySSHSession(bundle, host, port, username, scrubber)

    return factory
