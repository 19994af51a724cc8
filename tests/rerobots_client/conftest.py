"""Fixtures for the rerobots client tests: the sandbox over real HTTP, real SSH servers."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from pytest_robofixtures.common.clock import VirtualClock
from pytest_robofixtures.rerobots import APIClient
from pytest_robofixtures.sim.sshd import SimSSHServer, generate_rsa_key

TOKEN = "sim-rerobots-token"


@dataclass
class SandboxInfo:
    """A running RerobotsSim and how to reach it."""

    app: Any
    url: str
    token: str

    def client(self, **kw: Any) -> APIClient:
        kw.setdefault("api_token", self.token)
        kw.setdefault("ignore_env", True)
        return APIClient(base_uri=self.url, **kw)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxInfo]:
    """A fresh rerobots sandbox on 127.0.0.1 (delay 0.1 s), stopped afterwards."""
    from pytest_robofixtures.sim._wsgi import SimServer
    from pytest_robofixtures.sim.rerobots import RerobotsSim

    scratch = tmp_path / "sim"
    scratch.mkdir()
    app = RerobotsSim(token=TOKEN, delay=0.1, scratch_root=scratch)
    server = SimServer(app).start()
    try:
        yield SandboxInfo(app=app, url=server.url, token=TOKEN)
    finally:
        server.stop()


@pytest.fixture
def wire(sandbox) -> list[dict[str, Any]]:
    """Record what reaches the sandbox: method, path, query, body, Content-Type."""
    seen: list[dict[str, Any]] = []
    app = sandbox.app
    original = app.dispatch

    def recording(request):
        if not request.path.startswith(app.ADMIN):
            seen.append({
                "method": request.method,
                "path": request.path,
                "query": request.query_string.decode(),
                "body": request.get_data(cache=True).decode(),
                "content_type": request.headers.get("Content-Type"),
                "auth": request.headers.get("Authorization"),
            })
        return original(request)

    app.dispatch = recording
    return seen


@pytest.fixture
def apic(sandbox: SandboxInfo) -> Iterator[APIClient]:
    client = sandbox.client()
    yield client
    client.close()


@pytest.fixture
def vclock() -> VirtualClock:
    return VirtualClock()


def _ed25519_pair() -> tuple[str, str]:
    private = ed25519.Ed25519PrivateKey.generate()
    text = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    key = paramiko.Ed25519Key.from_private_key(io.StringIO(text))
    return text, f"{key.get_name()} {key.get_base64()}"


def _ecdsa_pair() -> tuple[str, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    text = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    key = paramiko.ECDSAKey.from_private_key(io.StringIO(text))
    return text, f"{key.get_name()} {key.get_base64()}"


KEY_MAKERS: dict[str, Callable[[], tuple[str, str]]] = {
    "rsa": lambda: generate_rsa_key(2048),
    "ed25519": _ed25519_pair,
    "ecdsa": _ecdsa_pair,
}


@pytest.fixture
def keypair() -> Callable[[str], tuple[str, str]]:
    """Make a (private key text, public key line) pair of the given kind."""
    return lambda kind="rsa": KEY_MAKERS[kind]()


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Callable[..., SimSSHServer]]:
    """Start real SSH servers on loopback accepting the given public keys; all stopped after."""
    servers: list[SimSSHServer] = []

    def start(*public_keys: str) -> SimSSHServer:
        root = tmp_path / f"sshd{len(servers)}"
        root.mkdir()
        server = SimSSHServer(root, list(public_keys)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
