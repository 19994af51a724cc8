"""SSH to a workspace instance with paramiko: in-memory key, pinned host keys, exec and SFTP.

:func:`paramiko_ssh_factory` is the default ``ssh_factory`` of
:class:`~pytest_robofixtures.rerobots.instance.Instance`. It opens a
:class:`ParamikoSSHSession`, an implementation of the
:class:`~pytest_robofixtures.common.transports.SSHSession` protocol that the recording engine
wraps (record) or replaces (replay).

Security rules: the private key is parsed from the string in memory (never written to disk, never
logged); the server's host key must be one of the keys the instance details report, pinned under
``[host]:port`` with paramiko's ``RejectPolicy``; no agent, no ``~/.ssh`` keys, no auto-adding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import select
import time
from typing import Protocol

import paramiko

from ..common.transports import ExecResult, SSHSession
from .errors import CommandTimeout, HostKeyMismatch, SSHError

DEFAULT_CONNECT_TIMEOUT = 10.0
_KEY_CLASSES: tuple[type[paramiko.PKey], ...] = (
    paramiko.RSAKey,
    paramiko.Ed25519Key,
    paramiko.ECDSAKey,
)


class SSHFactory(Protocol):
    """Opens an SSH session to an instance (the seam the recording engine replaces)."""

    def __call__(
        self,
        host: str,
        port: int,
        hostkeys: list[str],
        private_key: str | None,
        username: str = "root",
    ) -> SSHSession:
        """Return an object implementing the ``SSHSession`` protocol."""
        ...


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style SHA256 fingerprint of a public key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_hostkey(line: str) -> paramiko.PKey:
    """Parse an OpenSSH public key line ``"type base64 [comment]"``."""
    parts = line.split()
    if len(parts) < 2:
        raise SSHError(
            f"host key {line[:60]!r} is not an OpenSSH public key line 'type base64 [comment]'"
        )
    keytype, b64 = parts[0], parts[1]
    try:
        blob = base64.b64decode(b64, validate=True)
        return paramiko.PKey.from_type_string(keytype, blob)
    except (binascii.Error, ValueError, paramiko.SSHException) as exc:
        raise SSHError(f"cannot parse host key of type {keytype!r}: {exc}") from exc


def hostkey_fingerprint(line: str) -> str:
    """Fingerprint of an OpenSSH public key line."""
    return fingerprint(parse_hostkey(line))


def load_private_key(text: str) -> paramiko.PKey:
    """Parse an RSA, Ed25519 or ECDSA private key from a string, in memory."""
    if not isinstance(text, str) or "PRIVATE KEY" not in text:
        # Never echo the value: it might be a key in a format we do not know.
        raise SSHError(
            "the instance's private key is not a PEM/OpenSSH private key (expected a "
            "'-----BEGIN ... PRIVATE KEY-----' block)"
        )
    errors = []
    for cls in _KEY_CLASSES:
        try:
            return cls.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, ValueError, TypeError) as exc:
            errors.append(f"{cls.__name__}: {type(exc).__name__}")
    raise SSHError(
        "cannot load the instance's private key as RSA, Ed25519 or ECDSA ("
        + "; ".join(errors) + ")"
    )


class ParamikoSSHSession:
    """A real SSH connection (paramiko) implementing the ``SSHSession`` protocol."""

    def __init__(
        self,
        host: str,
        port: int,
        hostkeys: list[str],
        private_key: str | None,
        username: str = "root",
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        if not hostkeys:
            raise SSHError(
                f"no host keys known for {host}:{port}: the instance details report none, so "
                "the server cannot be verified (refusing to connect)"
            )
        if private_key is None:
            raise SSHError(
                f"no private key to log in to {host}:{port}: an Instance only holds one when it "
                "created the instance itself without a public key; pass private_key= to "
                "start_sshclient() when attaching by instance_id"
            )
        self.host = host
        self.port = port
        self.username = username
        self._sftp: paramiko.SFTPClient | None = None
        self._hostkey_name = f"[{host}]:{port}" if port != 22 else host
        expected = [parse_hostkey(line) for line in hostkeys]
        pkey = load_private_key(private_key)  # parsed only now, when a real session opens
        client = paramiko.SSHClient()
        known = client.get_host_keys()
        for key in expected:
            known.add(self._hostkey_name, key.get_name(), key)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                host,
                port=port,
                username=username,
                pkey=pkey,
                timeout=connect_timeout,
                banner_timeout=connect_timeout,
                auth_timeout=connect_timeout,
                allow_agent=False,
                look_for_keys=False,
            )
        except paramiko.BadHostKeyException as exc:
            client.close()
            wanted = [fingerprint(k) for k in expected]
            got = fingerprint(exc.key)
            raise HostKeyMismatch(
                f"host key of {host}:{port} does not match the instance details: the server "
                f"offered {exc.key.get_name()} {got}, expected one of {', '.join(wanted)}; "
                "refusing to connect (a different machine answers on that address)",
                expected=wanted,
                got=got,
            ) from exc
        except paramiko.AuthenticationException as exc:
            client.close()
            raise SSHError(
                f"ssh {username}@{host}:{port}: the server refused the instance's key ({exc})"
            ) from exc
        except (paramiko.SSHException, OSError) as exc:
            client.close()
            if "not found in known_hosts" in str(exc):
                raise HostKeyMismatch(
                    f"ssh {host}:{port}: the server's host key type is not among the instance's "
                    f"reported keys ({exc}); refusing to connect",
                    expected=[fingerprint(k) for k in expected],
                ) from exc
            raise SSHError(f"cannot open ssh {username}@{host}:{port}: {exc}") from exc
        self._client: paramiko.SSHClient | None = client

    def __repr__(self) -> str:
        state = "open" if self._client is not None else "closed"
        return f"ParamikoSSHSession({self.username}@{self.host}:{self.port}, {state})"

    @property
    def client(self) -> paramiko.SSHClient:
        """The underlying ``paramiko.SSHClient``."""
        if self._client is None:
            raise SSHError(f"the ssh session to {self.host}:{self.port} is closed")
        return self._client

    @property
    def sftp(self) -> paramiko.SFTPClient:
        """The SFTP client of this session, opened on first use."""
        if self._sftp is None:
            self._sftp = self.client.open_sftp()
        return self._sftp

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run ``command``; return its stdout, stderr and exit status."""
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise SSHError(f"the ssh connection to {self.host}:{self.port} is not active")
        chan = transport.open_session(timeout=timeout)
        try:
            chan.exec_command(command)
            chan.shutdown_write()  # no stdin: a command reading it sees EOF instead of hanging
            out: list[bytes] = []
            err: list[bytes] = []
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                progressed = False
                while chan.recv_ready():
                    out.append(chan.recv(65536))
                    progressed = True
                while chan.recv_stderr_ready():
                    err.append(chan.recv_stderr(65536))
                    progressed = True
                if chan.exit_status_ready() and not chan.recv_ready() \
                        and not chan.recv_stderr_ready():
                    break
                if chan.closed and not progressed:
                    break
                if progressed:
                    continue
                wait = 0.2
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise CommandTimeout(
                            f"command {command!r} on {self.host}:{self.port} did not finish "
                            f"within {timeout}s"
                        )
                    wait = min(wait, remaining)
                # Wakes on stdout/stderr data or close; the cap covers an exit status alone.
                select.select([chan], [], [], wait)
            status = chan.recv_exit_status() if chan.exit_status_ready() else -1
            return ExecResult(command, b"".join(out), b"".join(err), status)
        except CommandTimeout:
            raise
        except TimeoutError as exc:
            raise CommandTimeout(
                f"command {command!r} on {self.host}:{self.port} timed out: {exc}"
            ) from exc
        finally:
            chan.close()

    def put(self, local_path: str, remote_path: str) -> None:
        """Copy a local file to the instance (SFTP)."""
        try:
            self.sftp.put(str(local_path), str(remote_path))
        except OSError as exc:
            raise SSHError(f"sftp put {local_path} -> {remote_path} failed: {exc}") from exc

    def get(self, remote_path: str, local_path: str) -> None:
        """Copy a file from the instance to the local machine (SFTP)."""
        try:
            self.sftp.get(str(remote_path), str(local_path))
        except OSError as exc:
            raise SSHError(f"sftp get {remote_path} -> {local_path} failed: {exc}") from exc

    def close(self) -> None:
        """Close SFTP and the connection (idempotent)."""
        if self._sftp is not None:
            try:
                self._sftp.close()
            finally:
                self._sftp = None
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None


def paramiko_ssh_factory(
    host: str,
    port: int,
    hostkeys: list[str],
    private_key: str | None,
    username: str = "root",
) -> ParamikoSSHSession:
    """Open a :class:`ParamikoSSHSession` (the default ``ssh_factory``)."""
    return ParamikoSSHSession(host, port, hostkeys, private_key, username)


__all__ = [
    "ParamikoSSHSession",
    "SSHFactory",
    "fingerprint",
    "hostkey_fingerprint",
    "load_private_key",
    "paramiko_ssh_factory",
    "parse_hostkey",
]
