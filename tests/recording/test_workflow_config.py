"""The recording config: scrub hooks, numbered placeholders, match rules, failed attempts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import (
    Recorder,
    RecordingMismatch,
    RecordingMissing,
    recording_path,
    scan_for_secrets,
)
from pytest_robofixtures.recording.config import RecordingConfig
from pytest_robofixtures.recording.scrub import PLACEHOLDER_RE
from pytest_robofixtures.recording.stable import read_document
from pytest_robofixtures.sim._wsgi import SimServer

from .conftest import RERECORD, TOKEN, headers

NODEID = "tests/test_cfg.py::test_cfg"


def record(root: Path, demo: SimServer, cfg: RecordingConfig, work: Any) -> Path:
    path = recording_path(root, NODEID)
    rec = Recorder.open(path, "record", RERECORD, cfg.scrubber(secrets=[TOKEN]),
                        metadata={"nodeid": NODEID})
    rec.set_endpoint("demo", demo.url)
    with rec.http():
        work(make_session(headers=headers(), retries=0), demo.url)
    rec.close()
    return path


def replay(path: Path, cfg: RecordingConfig) -> Recorder:
    rec = Recorder.open(path, "replay", RERECORD, cfg.scrubber(secrets=[TOKEN]))
    cfg.configure(rec.normalizer)
    return rec


def test_config_refuses_switching_scrubbing_off_and_unknown_keys() -> None:
    with pytest.raises(ValueError, match="cannot be switched off"):
        RecordingConfig.from_mapping({"scrub": False})
    with pytest.raises(ValueError, match="unknown key.*scrub_feilds"):
        RecordingConfig.from_mapping({"scrub_feilds": ["x"]})
    with pytest.raises(ValueError, match="invalid JSON path"):
        RecordingConfig(ignore_json_paths=("$[[",))
    with pytest.raises(ValueError, match="scrub_patterns"):
        RecordingConfig(scrub_patterns=("(unclosed",))
    base = RecordingConfig.coerce({"scrub_fields": "robot_pin", "allowed_hosts": ["a.example"]})
    more = base.merged({"scrub_fields": ["robot_pin", "serial"], "ignore_query_params": ["n"]})
    assert more.scrub_fields == ("robot_pin", "serial") and more.allowed_hosts == ("a.example",)
    assert more.ignore_query_params == ("n",) and base.ignore_query_params == ()
    # Built-in secret rules are always there, whatever the config adds.
    assert more.scrubber().is_secret_field("password") and more.scrubber().enabled


def test_ignored_body_path_and_query_param_match_while_the_value_stays_visible(
    tmp_path: Path, demo: SimServer
) -> None:
    cfg = RecordingConfig(ignore_json_paths=("$.meta.stamp",), ignore_query_params=("nonce",))

    def work(s: Any, url: str, stamp: str = "ts-100", nonce: str = "n1") -> Any:
        return s.post(f"{url}/echo?nonce={nonce}&page=2",
                      json={"meta": {"stamp": stamp}, "x": 1}).json()

    path = record(tmp_path, demo, cfg, work)
    doc = read_document(path)
    assert doc["http"][0]["request"]["body"]["json"]["meta"]["stamp"] == "ts-100"  # not scrubbed
    url = demo.url
    demo.stop()
    rec = replay(path, cfg)
    with rec.active():
        got = work(make_session(headers=headers(), retries=0), url, "ts-999", "n2")
    assert got["got"]["meta"]["stamp"] == "ts-100"  # the recorded answer, visible to the test
    assert got["args"] == {"nonce": "n1", "page": "2"}
    assert rec.close().unused == []
    # Without the rules the same requests do not match; with a changed kept field neither.
    strict = replay(path, RecordingConfig())
    with strict.active(), pytest.raises(RecordingMismatch, match="stamp"):
        work(make_session(headers=headers(), retries=0), url, "ts-999", "n1")
    other = replay(path, cfg)
    with other.active(), pytest.raises(RecordingMismatch, match="page"):
        make_session(headers=headers(), retries=0).post(
            f"{url}/echo?nonce=n1&page=3", json={"meta": {"stamp": "x"}, "x": 1})


def test_placeholders_are_numbered_per_secret_value_and_a_handed_out_secret_matches(
    tmp_path: Path, demo: SimServer
) -> None:
    issued = "issued-secret-5f1e2d3c4b"
    other = "other-secret-99aa88bb77"

    def work(s: Any, url: str) -> list[Any]:
        first = s.post(f"{url}/echo", json={"password": issued, "note": "a"}).json()
        handed = first["got"]["password"]  # what the service handed back
        second = s.post(f"{url}/echo?token={handed}", json={"password": other}).json()
        return [handed, second]

    path = record(tmp_path, demo, RecordingConfig(), work)
    assert scan_for_secrets([path], [issued, other, TOKEN]) == []
    doc = read_document(path)
    first, second = doc["http"]
    p_issued = first["request"]["body"]["json"]["password"]
    p_other = second["request"]["body"]["json"]["password"]
    assert PLACEHOLDER_RE.fullmatch(p_issued) and PLACEHOLDER_RE.fullmatch(p_other)
    assert p_issued != p_other  # distinct secrets stay distinguishable
    assert first["response"]["body"]["json"]["got"]["password"] == p_issued
    assert p_issued.replace("<", "%3C").replace(">", "%3E") in second["request"]["uri"] or \
        p_issued in second["request"]["uri"]
    url = demo.url
    demo.stop()
    rec = replay(path, RecordingConfig())
    with rec.active():
        handed, answer = work(make_session(headers=headers(), retries=0), url)
    assert handed == p_issued and answer["args"]["token"] == p_issued
    assert rec.close().unused == []


def test_scrub_hooks_run_on_each_stored_interaction(tmp_path: Path, demo: SimServer) -> None:
    seen: list[str] = []

    def hook(transport: str, entry: dict[str, Any]) -> dict[str, Any] | None:
        seen.append(transport)
        if entry["request"]["uri"].endswith("/gz"):
            return None  # leave it out
        entry["response"]["headers"]["Server"] = "redacted"
        return entry

    cfg = RecordingConfig(scrub_hooks=(hook,), scrub_patterns=(r"serial-[0-9]{4}",))

    def work(s: Any, url: str) -> None:
        s.get(f"{url}/gz")
        s.post(f"{url}/echo", json={"note": "robot serial-1234"})

    path = record(tmp_path, demo, cfg, work)
    doc = read_document(path)
    assert seen == ["http", "http"]
    assert [e["request"]["uri"].rsplit("/", 1)[-1] for e in doc["http"]] == ["echo"]
    echo = doc["http"][0]
    assert echo["response"]["headers"]["Server"] == "redacted"
    assert PLACEHOLDER_RE.fullmatch(echo["request"]["body"]["json"]["note"].split()[-1])
    assert "serial-1234" not in (path / "recording.yaml").read_text()


def test_a_failed_attempt_is_written_beside_the_good_recording(
    tmp_path: Path, demo: SimServer
) -> None:
    def good(s: Any, url: str) -> None:
        s.get(f"{url}/addon/cam/i/0/img")  # a blob
        s.post(f"{url}/echo", json={"run": "good"})

    path = record(tmp_path, demo, RecordingConfig(), good)
    before = {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    rec = Recorder.open(path, "record", RERECORD, RecordingConfig().scrubber([TOKEN]))
    with rec.http():
        make_session(headers=headers(), retries=0).post(f"{demo.url}/echo", json={"run": "bad"})
    written = rec.bundle.save(rec.scrubber, failed=True)
    assert written == path / "recording.failed.yaml"
    after = {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    assert {k: v for k, v in after.items() if k.name != "recording.failed.yaml"} == before
    assert read_document(written)["http"][0]["request"]["body"]["json"] == {"run": "bad"}
    # The good recording still replays; a later good save removes the failed attempt.
    demo_url = demo.url
    rep = replay(path, RecordingConfig())
    with rep.active():
        make_session(headers=headers(), retries=0).post(f"{demo_url}/echo", json={"run": "good"})
    rec2 = Recorder.open(path, "record", RERECORD, RecordingConfig().scrubber([TOKEN]))
    with rec2.http():
        make_session(headers=headers(), retries=0).post(f"{demo.url}/echo", json={"run": "new"})
    rec2.close()
    assert not written.exists() and not (path / "blobs").exists()


def test_a_failed_attempt_alone_is_never_replayed_and_is_named(
    tmp_path: Path, demo: SimServer
) -> None:
    path = recording_path(tmp_path, NODEID)
    rec = Recorder.open(path, "record", RERECORD, RecordingConfig().scrubber([TOKEN]))
    with rec.http():
        make_session(headers=headers(), retries=0).post(f"{demo.url}/echo", json={"a": 1})
    rec.bundle.save(rec.scrubber, failed=True)
    with pytest.raises(RecordingMissing) as info:
        Recorder.open(path, "replay", RERECORD, RecordingConfig().scrubber([TOKEN]))
    assert str(path / "recording.failed.yaml") in str(info.value)
    assert "never replayed" in str(info.value)


def test_numbering_and_collapsing_with_a_custom_placeholder() -> None:
    from pytest_robofixtures.recording import Scrubber

    s = Scrubber(secrets=["alpha-secret", "beta-secret"], placeholder="[REDACTED]")
    with s.numbering():
        text = s.text("alpha-secret beta-secret alpha-secret")
        assert s.data({"password": "gamma-secret"}) == {"password": "[REDACTED]:3"}
    assert text == "[REDACTED]:1 [REDACTED]:2 [REDACTED]:1"
    assert s.text(text) == "[REDACTED] [REDACTED] [REDACTED]"  # matching ignores numbers
    assert s.data({"password": "[REDACTED]:2"}) == {"password": "[REDACTED]"}


def test_a_custom_matcher_makes_an_unordered_list_match(tmp_path: Path, demo: SimServer) -> None:
    def unordered(body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("tags"), list):
            body["tags"] = sorted(body["tags"])
        return body

    cfg = RecordingConfig(match_hooks=(unordered,))
    path = record(tmp_path, demo, cfg,
                  lambda s, url: s.post(f"{url}/echo", json={"tags": ["b", "a"]}))
    url = demo.url
    demo.stop()
    rec = replay(path, cfg)
    with rec.active():
        got = make_session(headers=headers(), retries=0).post(
            f"{url}/echo", json={"tags": ["a", "b"]}).json()
    assert got["got"]["tags"] == ["b", "a"]  # the recorded answer
    plain = replay(path, RecordingConfig())
    with plain.active(), pytest.raises(RecordingMismatch, match="tags"):
        make_session(headers=headers(), retries=0).post(f"{url}/echo", json={"tags": ["a", "b"]})
