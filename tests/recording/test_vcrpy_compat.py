"""vcrpy's private APIs the recording engine relies on: fail loudly, by name, on an upgrade.

``pytest_robofixtures.recording.http`` uses vcrpy's documented persister hook, but activating
vcrpy's patches without its cassette context (``vcr.patch.CassettePatcherBuilder``) and serving
from a ``Cassette`` subclass (the methods vcrpy's connection stubs call) are not documented API.
pyproject.toml pins the tested vcrpy range; these tests name what broke when it is widened.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.metadata
from pathlib import Path

import requests
import vcr
import vcr.patch
from packaging.requirements import Requirement

from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import Recorder, Scrubber, recording_path
from pytest_robofixtures.recording.http import _build_patchers, _Current
from pytest_robofixtures.sim._wsgi import SimServer

from .conftest import RERECORD

PRIVATE = "vcrpy private API"


def test_installed_vcrpy_is_in_the_tested_range() -> None:
    wanted = [Requirement(r) for r in importlib.metadata.requires("pytest-robofixtures") or []
              if Requirement(r).name == "vcrpy"]
    assert wanted, "pyproject.toml must pin the tested vcrpy range"
    version = importlib.metadata.version("vcrpy")
    assert wanted[0].specifier.contains(version), (
        f"vcrpy {version} is outside the tested range {wanted[0].specifier}: run "
        "tests/recording/test_vcrpy_compat.py against it before widening the pin")


def test_cassette_patcher_builder_still_builds_patchers_for_a_stand_in() -> None:
    assert hasattr(vcr.patch, "CassettePatcherBuilder"), (
        f"{PRIVATE} vcr.patch.CassettePatcherBuilder is gone (recording/http.py activates "
        "vcrpy's patches with it)")
    patchers = _build_patchers()
    assert patchers, f"{PRIVATE} CassettePatcherBuilder(cassette).build() built no patchers"
    original = http.client.HTTPConnection
    for p in patchers:
        assert hasattr(p, "__enter__") and hasattr(p, "__exit__"), (
            f"{PRIVATE} CassettePatcherBuilder.build() no longer yields context managers")
    with contextlib.ExitStack() as stack:
        for p in patchers:
            stack.enter_context(p)
        patched = http.client.HTTPConnection
        assert patched is not original, (
            f"{PRIVATE} CassettePatcherBuilder no longer patches http.client.HTTPConnection")
        assert isinstance(getattr(patched, "cassette", None), _Current), (
            f"{PRIVATE} vcrpy's patched connection classes no longer carry the cassette as "
            "their `cassette` class attribute")
    assert http.client.HTTPConnection is original


def test_vcrpy_stubs_call_the_cassette_methods_we_serve_from(tmp_path: Path,
                                                             demo: SimServer) -> None:
    # Record through vcrpy's stubs (Cassette.append), then replay (can_play_response_for,
    # play_response, write_protected): a change of that protocol fails here, not in a user's run.
    path = recording_path(tmp_path / "c", "tests/test_v.py::test_v")
    session = make_session(retries=0)
    rec = Recorder.open(path, "record", RERECORD, Scrubber())
    with rec.http():
        live = session.post(f"{demo.url}/echo", json={"n": 1}).json()
    rec.close()
    assert len(rec.bundle.http) == 1, (
        f"{PRIVATE}: vcrpy's stubs no longer call Cassette.append(request, response)")
    rep = Recorder.open(path, "replay", RERECORD, Scrubber())
    before = demo.app.requests_seen
    with rep.http():
        replayed = session.post(f"{demo.url}/echo", json={"n": 1})
    assert replayed.json() == live, (
        f"{PRIVATE}: vcrpy's stubs no longer serve Cassette.play_response(request)")
    assert isinstance(replayed, requests.Response)
    assert demo.app.requests_seen == before, "the replayed request reached the server"
    assert rep.unused() == []

