"""A real SSH server for the sandbox: paramiko, public-key login, exec with /bin/sh, SFTP.

:class:`SimSSHServer` listens on 127.0.0.1 (a free port unless told otherwise), accepts public-key
authentication only, for one user name and the given OpenSSH public keys, and then:

- runs ``exec`` requests for real with ``/bin/sh -c <command>`` in ``root`` (cwd, and ``HOME``),
  streaming stdin, stdout and stderr and sending the exit status back;
- serves the ``sftp`` subsystem rooted at ``root``: remote absolute paths map inside ``root``
  (``/a/b`` is ``root/a/b``), relative ones are relative to it, and nothing outside it (through
  ``..`` or a symbolic link) can be reached.

Confinement, so a test (or what it runs) cannot reach past its instance directory:

- commands get a fixed environment (``PATH=/usr/local/bin:/usr/bin:/bin``, ``HOME``, ``USER``,
  ``LOGNAME``, ``SHELL``, ``LANG``), never the sandbox process's variables; ssh ``env`` requests
  are accepted only for ``LANG``, ``LC_*``, ``TZ`` and ``TERM`` (as OpenSSH's usual
  ``AcceptEnv``), so ``PATH``, ``LD_*``, ``BASH_ENV`` and the like cannot change what runs;
- when the sandbox runs as root, commands run as an unprivileged user (``nobody`` unless
  ``run_as`` says otherwise), who is given ``root`` (and what it holds at start) and everything
  SFTP creates in it; SFTP never sets owners nor setuid/setgid bits. Commands start in ``root``
  whatever its parents allow, but reaching it by absolute path (``cd $HOME``) needs its parents
  to be searchable by that user;
- SFTP refuses symbolic links whose target climbs out of ``root`` or resolves outside it,
  does not implement the ``hardlink@openssh.com`` extension, and refuses to open a file with
  hard links outside ``root``.

Shell and pty requests are refused. Every connection runs in its own paramiko transport thread,
every exec in its own thread; :meth:`SimSSHServer.stop` closes the listening socket, every live
connection and kills the processes still running.
"""

from __future__ import annotations

import base64
import errno
import fnmatch
import io
import os
import posixpath
import pwd
import re
import selectors
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, TypeVar

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)
from paramiko.sftp import SFTP_OK, SFTP_PERMISSION_DENIED

LOOPBACK = "127.0.0.1"
#: The environment variables an ssh ``env`` request may set (fnmatch patterns).
ACCEPTED_ENV = ("LANG", "LC_*", "TZ", "TERM")
#: PATH of every command, whatever the sandbox process has.
EXEC_PATH = "/usr/local/bin:/usr/bin:/bin"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_T = TypeVar("_T")

__all__ = [
    "SimSSHServer",
    "generate_host_key",
    "generate_rsa_key",
    "parse_public_key",
    "public_key_line",
]


def generate_host_key(seed: bytes | None = None) -> paramiko.PKey:
    """An ed25519 key (fast to make), usable as an SSH host key; from 32 ``seed`` bytes if given."""
    private = (
        ed25519.Ed25519PrivateKey.generate() if seed is None
        else ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    )
    text = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    return paramiko.Ed25519Key.from_private_key(io.StringIO(text))


def generate_rsa_key(bits: int = 2048) -> tuple[str, str]:
    """A fresh RSA key pair: (PEM ``BEGIN RSA PRIVATE KEY`` text, OpenSSH public key line)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    return pem, public


def public_key_line(key: paramiko.PKey) -> str:
    """The OpenSSH text of a key's public half: ``"<type> <base64>"``."""
    return f"{key.get_name()} {key.get_base64()}"


def parse_public_key(line: str) -> paramiko.PKey:
    """Parse an OpenSSH public key line (``type base64 [comment]``); ValueError if it is not one."""
    fields = line.strip().split()
    if len(fields) < 2:
        raise ValueError("not an OpenSSH public key line")
    try:
        blob = base64.b64decode(fields[1], validate=True)
        key = paramiko.PKey.from_type_string(fields[0], blob)
    except Exception as exc:  # binascii.Error, UnknownKeyType, SSHException...
        raise ValueError(f"not an OpenSSH public key line: {exc}") from exc
    if key.get_name() != fields[0] and fields[0] not in type(key).identifiers():
        raise ValueError("key type does not match its data")
    return key


# -- SFTP ------------------------------------------------------------------------------------


def _set_attr(path: str, attr: paramiko.SFTPAttributes | None, mode: bool = True) -> None:
    """Apply the attributes a client sent (absent ones are None) to ``path``.

    Never an owner, nor a setuid/setgid/sticky bit: a file handed to root could run as root.
    """
    if attr is None:
        return
    if mode and attr.st_mode is not None:
        os.chmod(path, attr.st_mode & 0o777)
    if attr.st_atime is not None and attr.st_mtime is not None:
        os.utime(path, (attr.st_atime, attr.st_mtime))
    if attr.st_size is not None:
        os.truncate(path, attr.st_size)


class _Handle(paramiko.SFTPHandle):
    """An open file of the SFTP server (paramiko's default read/write use these files)."""

    def __init__(self, flags: int, fobj: IO[bytes], path: str) -> None:
        super().__init__(flags)
        self.path = path
        self.readfile = fobj
        self.writefile = fobj

    def stat(self) -> paramiko.SFTPAttributes | int:
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno or errno.EIO)

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        try:
            _set_attr(self.path, attr)
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno or errno.EIO)
        return SFTP_OK


class _Escape(Exception):
    """A remote path that would leave the root."""


class RootedSFTPServer(paramiko.SFTPServerInterface):
    """SFTP over the local directory ``root``; absolute remote paths map inside it."""

    def __init__(
        self, server: paramiko.ServerInterface, root: str,
        owner: tuple[int, int] | None = None, *args: Any, **kw: Any,
    ) -> None:
        super().__init__(server, *args, **kw)
        self.root = os.path.realpath(root)
        #: (uid, gid) given to what SFTP creates, so the (unprivileged) commands can use it.
        self.owner = owner

    def _own(self, local: str) -> None:
        if self.owner is not None:
            os.lchown(local, *self.owner)

    def _links_outside(self, local: str) -> bool:
        """Whether the regular file ``local`` has hard links outside the root."""
        st = os.stat(local)
        if not os.path.isfile(local) or st.st_nlink <= 1:
            return False
        inside = 0
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                try:
                    other = os.lstat(os.path.join(folder, name))
                except OSError:
                    continue
                if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                    inside += 1
        return inside < st.st_nlink

    # -- path mapping --------------------------------------------------------------------
    @staticmethod
    def _remote(path: str | bytes) -> str:
        if isinstance(path, bytes):
            path = path.decode("utf-8", "surrogateescape")
        return posixpath.normpath(posixpath.join("/", path or "."))

    def _inside(self, real: str) -> bool:
        return real == self.root or real.startswith(self.root + os.sep)

    def _local(self, path: str | bytes, follow: bool = True) -> str:
        """The local path of a remote one; raise _Escape when it resolves outside the root."""
        remote = self._remote(path)
        local = os.path.join(self.root, remote.lstrip("/"))
        if follow:
            check = os.path.realpath(local)
        else:  # the entry itself (lstat, remove, readlink...): its directory must be inside
            check = os.path.join(os.path.realpath(os.path.dirname(local)), os.path.basename(local))
        if not self._inside(check):
            raise _Escape(remote)
        return local

    def _guard(self, fn: Callable[..., _T], *args: Any) -> _T | int:
        try:
            return fn(*args)
        except _Escape:
            return SFTP_PERMISSION_DENIED
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno or errno.EIO)

    # -- interface -----------------------------------------------------------------------
    def canonicalize(self, path: str) -> str:
        return self._remote(path)

    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes] | int:
        def run() -> list[paramiko.SFTPAttributes]:
            local = self._local(path)
            out = []
            for name in sorted(os.listdir(local)):
                attr = paramiko.SFTPAttributes.from_stat(os.lstat(os.path.join(local, name)))
                attr.filename = name
                out.append(attr)
            return out

        return self._guard(run)

    def stat(self, path: str) -> paramiko.SFTPAttributes | int:
        return self._guard(
            lambda: paramiko.SFTPAttributes.from_stat(os.stat(self._local(path)))
        )

    def lstat(self, path: str) -> paramiko.SFTPAttributes | int:
        return self._guard(
            lambda: paramiko.SFTPAttributes.from_stat(os.lstat(self._local(path, follow=False)))
        )

    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> _Handle | int:
        def run() -> _Handle:
            local = self._local(path)
            if os.path.exists(local) and self._links_outside(local):
                raise _Escape(path)
            existed = os.path.lexists(local)
            mode = getattr(attr, "st_mode", None)
            mode = (mode & 0o777) if mode else 0o644
            fd = os.open(local, flags | getattr(os, "O_BINARY", 0), mode)
            if flags & os.O_CREAT and not existed:
                self._own(local)
            if flags & os.O_CREAT:
                # The mode was applied by os.open (under the umask); set the rest.
                _set_attr(local, attr, mode=False)
            if flags & os.O_WRONLY:
                fmode = "ab" if flags & os.O_APPEND else "wb"
            elif flags & os.O_RDWR:
                fmode = "a+b" if flags & os.O_APPEND else "r+b"
            else:
                fmode = "rb"
            return _Handle(flags, os.fdopen(fd, fmode), local)

        return self._guard(run)

    def remove(self, path: str) -> int:
        return self._ok(lambda: os.remove(self._local(path, follow=False)))

    def rename(self, oldpath: str, newpath: str) -> int:
        def run() -> None:
            old, new = self._local(oldpath, follow=False), self._local(newpath, follow=False)
            if os.path.exists(new):
                raise OSError(errno.EEXIST, "target exists")
            os.rename(old, new)

        return self._ok(run)

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        return self._ok(
            lambda: os.rename(self._local(oldpath, follow=False), self._local(newpath, False))
        )

    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        def run() -> None:
            local = self._local(path, follow=False)
            os.mkdir(local)
            self._own(local)
            _set_attr(local, attr)

        return self._ok(run)

    def rmdir(self, path: str) -> int:
        return self._ok(lambda: os.rmdir(self._local(path, follow=False)))

    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        return self._ok(lambda: _set_attr(self._local(path), attr))

    def symlink(self, target_path: str, path: str) -> int:
        def run() -> None:
            link = self._local(path, follow=False)
            start = posixpath.dirname(self._remote(path))
            if _climbs_out(start, target_path):
                raise _Escape(target_path)
            # Resolved through links that exist now: it must land inside the root as well.
            target = self._local(posixpath.join(start, target_path), follow=True)
            # Stored relative to the link, so it stays inside the root wherever it is read.
            os.symlink(os.path.relpath(target, os.path.dirname(link)), link)
            self._own(link)

        return self._ok(run)

    def readlink(self, path: str) -> str | int:
        def run() -> str:
            local = self._local(path, follow=False)
            target = os.path.realpath(local)
            if not self._inside(target):
                raise _Escape(path)
            return "/" + os.path.relpath(target, self.root).replace(os.sep, "/").lstrip(".")

        return self._guard(run)

    def _ok(self, fn: Callable[[], None]) -> int:
        result = self._guard(fn)
        return SFTP_OK if result is None else int(result)


def _climbs_out(start: str, target: str) -> bool:
    """Whether ``target`` (relative to the remote directory ``start``) climbs above ``/``."""
    parts = [] if target.startswith("/") else [p for p in start.split("/") if p]
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return True
            parts.pop()
        else:
            parts.append(part)
    return False


def _exec_user(run_as: str | None) -> tuple[int, int] | None:
    """(uid, gid) commands run as: ``run_as``, or ``nobody`` when running as root, or None."""
    if run_as is None:
        if os.geteuid() != 0:
            return None
        run_as = "nobody"
    entry = pwd.getpwnam(run_as)
    return entry.pw_uid, entry.pw_gid


# -- the SSH server --------------------------------------------------------------------------

class _Session(paramiko.ServerInterface):
    """paramiko's per-connection callbacks: auth, channels, exec."""

    def __init__(self, owner: SimSSHServer) -> None:
        self.owner = owner
        self.env: dict[str, str] = {}

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_none(self, username: str) -> int:
        return AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        return AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if username == self.owner.username and self.owner.is_authorized(key):
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_env_request(
        self, channel: paramiko.Channel, name: bytes, value: bytes
    ) -> bool:
        key = name.decode("utf-8", "replace") if isinstance(name, bytes) else name
        val = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        # An allowlist, not a denylist: PATH, LD_*, BASH_ENV, ENV, IFS, PYTHON*... all refused.
        if not _ENV_NAME.match(key) or "\0" in val or not any(
            fnmatch.fnmatchcase(key, pattern) for pattern in ACCEPTED_ENV
        ):
            return False
        self.env[key] = val
        return True

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        text = command.decode("utf-8", "surrogateescape") if isinstance(command, bytes) else command
        return self.owner._spawn(channel, text, dict(self.env))


class SimSSHServer:
    """A paramiko SSH server on 127.0.0.1: public-key login, exec with /bin/sh, SFTP in ``root``."""

    def __init__(
        self,
        root: Path,
        authorized_keys: Iterable[str],
        host_key: paramiko.PKey | None = None,
        username: str = "root",
        port: int = 0,
        admit: Callable[[str], bool] | None = None,
        run_as: str | None = None,
    ) -> None:
        self.root = Path(root)
        #: (uid, gid) of the commands; None runs them as the sandbox process's own user.
        self.exec_owner = _exec_user(run_as)
        #: Called with the peer's address on each connection; False closes it (a firewall).
        self.admit = admit
        self.username = username
        self.host_key = host_key if host_key is not None else generate_host_key()
        self._authorized = {parse_public_key(line).asbytes() for line in authorized_keys}
        self._lock = threading.Lock()
        self._transports: list[paramiko.Transport] = []
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, port))
        self._listener.listen(16)
        self.port: int = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"sim-sshd-{self.port}", daemon=True
        )
        self._started = False

    # -- public ------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        """The address it listens on."""
        return LOOPBACK

    @property
    def host_key_line(self) -> str:
        """The OpenSSH public text of the host key, e.g. ``"ssh-ed25519 AAAA..."``."""
        return public_key_line(self.host_key)

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._started and not self._stopped.is_set()

    def authorize(self, public_key_line_: str) -> None:
        """Accept one more OpenSSH public key for login."""
        blob = parse_public_key(public_key_line_).asbytes()
        with self._lock:
            self._authorized.add(blob)

    def is_authorized(self, key: paramiko.PKey) -> bool:
        """Whether ``key`` may log in."""
        with self._lock:
            return key.asbytes() in self._authorized

    def connection_count(self) -> int:
        """How many SSH connections are open now."""
        with self._lock:
            return sum(1 for t in self._transports if t.is_active())

    def start(self) -> SimSSHServer:
        """Start accepting connections."""
        if not self._started:
            self._started = True
            if self.exec_owner is not None:
                self._give_root_to_exec_user()
            self._accept_thread.start()
        return self

    def _give_root_to_exec_user(self) -> None:
        uid, gid = self.exec_owner or (os.getuid(), os.getgid())
        os.chown(self.root, uid, gid)
        for folder, dirs, files in os.walk(self.root):
            for name in dirs + files:
                os.lchown(os.path.join(folder, name), uid, gid)

    def stop(self) -> None:
        """Close the listening socket and every connection, kill running commands."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self._accept_thread.is_alive():
            self._accept_thread.join(timeout=5)
        self._close_socket(self._listener)
        self._close_socket(self._wake_r)
        self._close_socket(self._wake_w)
        with self._lock:
            transports, self._transports = list(self._transports), []
            procs = list(self._procs)
            threads = list(self._threads)
        # Connections first, so a killed command's exit status never reaches a client.
        for transport in transports:
            try:
                transport.close()
            except Exception:  # a half-negotiated transport may fail to close cleanly
                pass
        for proc in procs:
            _kill_group(proc)
        for thread in threads:
            thread.join(timeout=5)

    def __enter__(self) -> SimSSHServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _close_socket(sock: socket.socket) -> None:
        try:
            sock.close()
        except OSError:
            pass

    def _accept_loop(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        try:
            while not self._stopped.is_set():
                for key, _ in sel.select():
                    if key.fileobj is self._wake_r or self._stopped.is_set():
                        return
                    try:
                        conn, _addr = self._listener.accept()
                    except OSError:
                        continue
                    self._serve(conn)
        finally:
            sel.close()

    def _serve(self, conn: socket.socket) -> None:
        if self.admit is not None and not self.admit(conn.getpeername()[0]):
            self._close_socket(conn)
            return
        transport = paramiko.Transport(conn)
        transport.add_server_key(self.host_key)
        transport.set_subsystem_handler(
            "sftp", paramiko.SFTPServer, RootedSFTPServer, str(self.root), self.exec_owner
        )
        with self._lock:
            self._transports = [t for t in self._transports if t.is_active()]
            self._transports.append(transport)
        try:
            # Negotiation runs in the transport's own thread: one thread per connection.
            transport.start_server(event=threading.Event(), server=_Session(self))
        except Exception:
            transport.close()

    def _spawn(self, channel: paramiko.Channel, command: str, extra_env: dict[str, str]) -> bool:
        if self._stopped.is_set():
            return False
        # Built from constants only: nothing of the sandbox process's environment leaks in.
        env = {
            "PATH": EXEC_PATH,
            "HOME": str(self.root),
            "USER": self.username,  # the login name, even when the uid is an unprivileged one
            "LOGNAME": self.username,
            "SHELL": "/bin/sh",
            "LANG": "C.UTF-8",
        }
        env.update(extra_env)  # only ACCEPTED_ENV names get this far
        drop: dict[str, Any] = {}
        if self.exec_owner is not None:
            uid, gid = self.exec_owner
            drop = {"user": uid, "group": gid, "extra_groups": []}
        try:
            # cwd is entered before the uid changes, so parents the user cannot search are fine.
            proc = subprocess.Popen(
                ["/bin/sh", "-c", command], cwd=self.root, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, **drop,
            )
        except (OSError, ValueError):
            return False
        thread = threading.Thread(
            target=self._run_exec, args=(channel, proc), name=f"sim-sshd-exec-{proc.pid}",
            daemon=True,
        )
        with self._lock:
            self._procs.add(proc)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return True

    def _run_exec(self, channel: paramiko.Channel, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin and proc.stdout and proc.stderr

        def pump_out(src: IO[bytes], send: Any) -> None:
            try:
                for chunk in iter(lambda: os.read(src.fileno(), 32768), b""):
                    send(chunk)
            except (OSError, EOFError, paramiko.SSHException):
                pass

        def pump_in(dst: IO[bytes]) -> None:
            try:
                while True:
                    data = channel.recv(32768)
                    if not data:
                        break
                    dst.write(data)
                    dst.flush()
            except (OSError, EOFError, paramiko.SSHException):
                pass
            finally:
                try:
                    dst.close()
                except OSError:
                    pass
            # EOF only ends stdin; the command runs on until it exits or the channel closes.
            # The exec thread reaps the command before it closes the channel, so a close
            # seen while the command has no return code came from the client going away.
            channel.status_event.wait()
            if proc.returncode is None:
                _kill_group(proc)

        out = threading.Thread(target=pump_out, args=(proc.stdout, channel.sendall), daemon=True)
        err = threading.Thread(
            target=pump_out, args=(proc.stderr, channel.sendall_stderr), daemon=True
        )
        # stdin stays open until the client sends EOF or closes the channel.
        threading.Thread(target=pump_in, args=(proc.stdin,), daemon=True).start()
        out.start()
        err.start()
        out.join()
        err.join()
        status = proc.wait()
        with self._lock:
            self._procs.discard(proc)
        proc.stdout.close()
        proc.stderr.close()
        _after_pending_replies(channel)
        try:
            # A command killed by signal N reports 128+N, as a shell would.
            channel.send_exit_status(status if status >= 0 else 128 - status)
            channel.shutdown_write()
            channel.close()
        except (OSError, EOFError, paramiko.SSHException):
            pass


def _after_pending_replies(channel: paramiko.Channel) -> None:
    """Return once paramiko has answered the exec request that started this command.

    paramiko sends "exec succeeded" only after ``check_channel_exec_request`` returns, so a fast
    command could close its channel first and the client would report "Channel closed". The
    transport thread handles messages one at a time, so once it has handled the client's answer
    to a global request sent from here, it has finished the exec request, reply included.
    ``keepalive@openssh.com`` is what OpenSSH servers send; clients answer it (with a failure,
    as for any request they do not know). Public API only; costs one loopback round trip.
    """
    transport = channel.get_transport()
    if transport is not None and transport.is_active():
        transport.global_request("keepalive@openssh.com", wait=True)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # Not reaped yet (its exec thread waits for it), so the group id is still ours.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
