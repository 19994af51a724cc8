"""Fixtures for the recording tests: a small HTTP service on loopback and helpers."""

from __future__ import annotations

import base64
import gzip
import io
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._wsgi import SimApp, SimServer, json_response, read_json

TOKEN = "tok-LIVE-7f3a9c1e55d2b4a0"
PROJECT = "project-8c1d2e3f"
OVPN = (
    "client\ndev tun\nremote vpn.example 1194\n<ca>\nMIIBpublicCA\n</ca>\n"
    "<key>\nOVPNPRIVATEKEYMATERIAL0123456789abcdef\n</key>\n"
    "<tls-auth>\nTLSAUTHSTATICKEY0123456789abcdef0123\n</tls-auth>\n"
)
RERECORD = "pytest tests/demo.py::test_demo --robo-sim"


def make_jpeg(seed: int = 1) -> bytes:
    """A small real JPEG."""
    img = Image.new("RGB", (64, 48), (seed * 40 % 256, 120, 200))
    for x in range(0, 64, 8):
        img.putpixel((x, x % 48), (255, 255, 255))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()


class DemoApp(SimApp):
    """A fake service: things that go PENDING→PENDING→READY, a slow job, a camera, auth."""

    def __init__(self, private_key: str, ready_after: float = 0.3) -> None:
        super().__init__()
        self.private_key = private_key
        self.ready_after = ready_after
        self.polls: dict[str, int] = {}
        self.jobs: dict[str, float] = {}
        self.jpeg = make_jpeg()
        self.route("/things", self.create, methods=["POST"])
        self.route("/things/<tid>/status", self.status, methods=["GET"])
        self.route("/jobs", self.create_job, methods=["POST"])
        self.route("/jobs/<jid>", self.job, methods=["GET"])
        self.route("/addon/cam/<iid>/<int:camera>/img", self.cam, methods=["GET"])
        self.route("/vpn/<iid>", self.vpn, methods=["POST"])
        self.route("/echo", self.echo, methods=["POST", "PUT"])
        self.route("/gz", self.gz, methods=["GET"])

    def authenticate(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return json_response({"error": "bad token"}, 401)
        return None

    def create(self, request: Request) -> Response:
        body = read_json(request)
        tid = str(uuid.uuid4())
        self.polls[tid] = 0
        return json_response({"id": tid, "name": body["name"], "sshkey": self.private_key,
                              "created_at": time.time()}, 201)

    def status(self, request: Request, tid: str) -> Response:
        self.polls[tid] += 1
        state = "READY" if self.polls[tid] >= 3 else "PENDING"
        return json_response({"id": tid, "status": state, "poll": self.polls[tid]})

    def create_job(self, request: Request) -> Response:
        jid = str(uuid.uuid4())
        self.jobs[jid] = time.monotonic()
        return json_response({"id": jid}, 201)

    def job(self, request: Request, jid: str) -> Response:
        done = time.monotonic() - self.jobs[jid] >= self.ready_after
        return json_response({"id": jid, "status": "DONE" if done else "RUNNING"})

    def cam(self, request: Request, iid: str, camera: int) -> Response:
        return json_response({"success": True, "format": "JPEG", "coding": "base64",
                              "data": base64.b64encode(self.jpeg).decode()})

    def vpn(self, request: Request, iid: str) -> Response:
        return json_response({"ovpn": OVPN})

    def gz(self, request: Request) -> Response:
        body = gzip.compress(json.dumps({"compressed": True, "n": 42}).encode())
        return Response(body, headers={"Content-Encoding": "gzip"}, mimetype="application/json")

    def echo(self, request: Request) -> Response:
        return json_response({"got": read_json(request), "args": dict(request.args)})


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    """(PEM private key, OpenSSH public key line)."""
    from pytest_robofixtures.sim.sshd import generate_rsa_key

    return generate_rsa_key(1024)


@pytest.fixture(scope="session")
def private_key(keypair: tuple[str, str]) -> str:
    return keypair[0]


@pytest.fixture
def demo(private_key: str) -> Iterator[SimServer]:
    server = SimServer(DemoApp(private_key)).start()
    try:
        yield server
    finally:
        server.stop()


class SleepCounter:
    """Counts real ``time.sleep`` calls made from the test's thread."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.thread = threading.get_ident()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> SleepCounter:
        real = time.sleep

        def sleep(seconds: float) -> None:
            if threading.get_ident() == self.thread:
                self.calls.append(seconds)
            real(seconds)

        monkeypatch.setattr(time, "sleep", sleep)
        return self


def all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def headers() -> dict[str, Any]:
    return {"Authorization": f"Bearer {TOKEN}", "project": PROJECT}
