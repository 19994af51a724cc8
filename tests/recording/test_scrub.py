"""Secrets never reach a recording: defaults, extensions, every section, and the scanner."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import (
    Recorder,
    Scrubber,
    recording_path,
    scan_for_secrets,
)
from pytest_robofixtures.recording.scrub import PLACEHOLDER_RE
from pytest_robofixtures.sim._wsgi import SimServer

from .conftest import OVPN, PROJECT, RERECORD, TOKEN, all_files, headers

NODEID = "tests/test_secrets.py::test_provision"
DEVICE_TOKEN = "devtok-2b7e151628aed2a6abf71588"


def ovpn_secrets() -> list[str]:
    return ["OVPNPRIVATEKEYMATERIAL0123456789abcdef", "TLSAUTHSTATICKEY0123456789abcdef0123"]


def record_everything(root: Path, demo: SimServer, extra: Scrubber | None = None) -> Path:
    path = recording_path(root, NODEID)
    rec = Recorder.open(path, "record", RERECORD,
                        extra or Scrubber(secrets=[TOKEN, PROJECT]),
                        metadata={"nodeid": NODEID, "mode": "live"})
    s = make_session(headers=headers(), retries=0)
    with rec.http():
        s.post(f"{demo.url}/things", json={"name": "n1"})  # response carries sshkey (PEM)
        s.post(f"{demo.url}/vpn/inst-1")  # response carries ovpn
        s.put(f"{demo.url}/echo?token={TOKEN}&page=2", json={
            "password": "hunter2-long-password",
            "_devices": [{"uuid": "d1", "_auth_token": DEVICE_TOKEN}],
            "note": f"copied token {TOKEN} into a note",
        })
    rec.close()
    return path


def test_no_known_secret_reaches_any_written_file(
    tmp_path: Path, demo: SimServer, private_key: str
) -> None:
    path = record_everything(tmp_path, demo)
    key_body = private_key.splitlines()[1:-1]
    findings = scan_for_secrets(
        [path], [TOKEN, PROJECT, DEVICE_TOKEN, "hunter2-long-password", *ovpn_secrets(),
                 *key_body[:3]])
    assert findings == [], "\n".join(map(str, findings))
    text = (path / "recording.yaml").read_text()
    doc = yaml.safe_load(text)
    first, vpn, echo = doc["http"]
    # One numbered placeholder per distinct secret value, the same wherever it appears.
    auth = first["request"]["headers"]["Authorization"]
    assert PLACEHOLDER_RE.fullmatch(auth)
    assert PLACEHOLDER_RE.fullmatch(first["request"]["headers"]["project"])
    assert first["request"]["headers"]["project"] != auth
    assert PLACEHOLDER_RE.fullmatch(first["response"]["body"]["json"]["sshkey"])
    assert PLACEHOLDER_RE.fullmatch(vpn["response"]["body"]["json"]["ovpn"])
    assert f"token={auth}" in echo["request"]["uri"].replace("%3C", "<").replace("%3E", ">")
    body = echo["request"]["body"]["json"]
    assert PLACEHOLDER_RE.fullmatch(body["password"])
    assert PLACEHOLDER_RE.fullmatch(body["_devices"])
    assert body["note"] == f"copied token {auth} into a note"
    # the echoed response is scrubbed as well, with the same placeholder for the same value
    assert echo["response"]["body"]["json"]["got"]["password"] == body["password"]


def test_scrubbed_requests_still_match_in_replay(tmp_path: Path, demo: SimServer) -> None:
    path = record_everything(tmp_path, demo)
    demo.stop()
    rec = Recorder.open(path, "replay", RERECORD, Scrubber(secrets=[TOKEN]))
    s = make_session(headers=headers(), retries=0)
    with rec.active():
        got = s.put(f"{demo.url}/echo?token={TOKEN}&page=2", json={
            "password": "another-password-at-replay",
            "_devices": [{"uuid": "d1", "_auth_token": "other"}],
            "note": f"copied token {TOKEN} into a note",
        }).json()
    assert got["args"]["page"] == "2"


def test_the_scanner_finds_what_it_is_asked_for(tmp_path: Path, private_key: str) -> None:
    f = tmp_path / "report.txt"
    assert private_key.endswith("\n")
    f.write_text(f"ok\nleak {TOKEN} here\n{private_key}<key>\nABCDEFGHIJKLMNOPQRSTUVWXYZ\n</key>\n")
    kinds = sorted((x.kind, x.line) for x in scan_for_secrets([tmp_path], [TOKEN]))
    vpn_line = 3 + len(private_key.splitlines())
    assert kinds == [("private-key", 3), ("token", 2), ("vpn-key", vpn_line)]
    assert TOKEN not in str(scan_for_secrets([f], [TOKEN])[0])  # findings mask the token


def test_text_scrubbing_of_keys_and_vpn_blocks(private_key: str) -> None:
    s = Scrubber()
    out = s.text(f"before\n{private_key}after")
    assert out == "before\n<scrubbed:private-key>\nafter"  # the PEM ends with a newline
    truncated = private_key[: len(private_key) // 2]
    assert s.text("x " + truncated) == "x <scrubbed:private-key>"
    openssh = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
               "-----END OPENSSH PRIVATE KEY-----")
    assert s.text(openssh) == "<scrubbed:private-key>"
    vpn = s.text(OVPN)
    assert "<key>\n<scrubbed>\n</key>" in vpn and "<tls-auth>\n<scrubbed>\n</tls-auth>" in vpn
    assert "MIIBpublicCA" in vpn  # the CA certificate is public
    assert s.text("Authorization: Bearer abcdefghijklmnop") == "Authorization: Bearer <scrubbed>"


def test_user_fields_and_patterns_extend_the_defaults() -> None:
    s = Scrubber(fields=["robot_pin"], patterns=[r"PIN-\d{4}"], headers=["X-Robot"])
    data = s.data({"robot_pin": "1234", "password": "pw-secret", "msg": "use PIN-9876 now",
                   "nested": [{"client_secret": "cs"}], "safe": "value"})
    assert data == {"robot_pin": "<scrubbed>", "password": "<scrubbed>",
                    "msg": "use <scrubbed> now", "nested": [{"client_secret": "<scrubbed>"}],
                    "safe": "value"}
    assert s.header_values({"X-Robot": "r", "Authorization": "Bearer x", "Accept": "*/*"}) == {
        "X-Robot": "<scrubbed>", "Authorization": "<scrubbed>", "Accept": "*/*"}


def test_secret_found_in_a_field_is_scrubbed_everywhere() -> None:
    s = Scrubber()
    s.learn({"instance": {"sshkey": "generated-key-material-123"}})
    assert s.text("ssh -i generated-key-material-123") == "ssh -i <scrubbed>"


def test_scrubbing_can_be_disabled_explicitly() -> None:
    s = Scrubber(secrets=[TOKEN], enabled=False)
    assert s.text(TOKEN) == TOKEN and s.data({"password": "p"}) == {"password": "p"}


@pytest.mark.parametrize("name", ["access_token", "accessToken", "X-Api-Key", "_auth_token"])
def test_field_name_variants(name: str) -> None:
    assert Scrubber().data({name: "v"}) == {name: "<scrubbed>"}


def test_every_file_in_the_bundle_is_scanned(tmp_path: Path, demo: SimServer) -> None:
    path = record_everything(tmp_path, demo)
    assert {p.name for p in all_files(path)} == {"recording.yaml"}
    assert not re.search(r"BEGIN [A-Z ]*PRIVATE KEY", (path / "recording.yaml").read_text())


def test_a_copy_scrubs_the_same_and_learns_on_its_own() -> None:
    original = Scrubber(secrets=["tok-AAAA-1111"], fields=["robot_code"])
    first, second = original.copy(), original.copy()
    first.add_secret("learned-BBBB-2222")
    text = "tok-AAAA-1111 and learned-BBBB-2222"
    assert first.text(text) == "<scrubbed> and <scrubbed>"
    assert second.text(text) == "<scrubbed> and learned-BBBB-2222"
    assert original.text(text) == "<scrubbed> and learned-BBBB-2222"
    scrubbed = second.data({"robot_code": "x", "name": "n"})
    assert scrubbed == {"robot_code": "<scrubbed>", "name": "n"}
    with first.numbering():
        assert first.text(text) == "<scrubbed:1> and <scrubbed:2>"
    assert second.text("tok-AAAA-1111") == "<scrubbed>"
