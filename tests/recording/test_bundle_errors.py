"""Missing, corrupt and truncated recordings give clear errors naming the file and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import (
    Recorder,
    RecordingCorrupt,
    RecordingMissing,
    Scrubber,
    recording_path,
)
from pytest_robofixtures.sim._wsgi import SimServer

from .conftest import RERECORD, headers

NODEID = "tests/test_cam.py::test_snapshot"


@pytest.fixture
def bundle(tmp_path: Path, demo: SimServer) -> Path:
    path = recording_path(tmp_path, NODEID)
    rec = Recorder.open(path, "record", RERECORD, Scrubber())
    s = make_session(headers=headers(), retries=0)
    with rec.http():
        for i in range(3):
            s.post(f"{demo.url}/echo", json={"i": i})
        s.get(f"{demo.url}/addon/cam/i/0/img")
    rec.close()
    return path


def open_replay(path: Path) -> Recorder:
    return Recorder.open(path, "replay", RERECORD, Scrubber())


def test_missing_recording_names_file_and_command(tmp_path: Path) -> None:
    path = recording_path(tmp_path, NODEID)
    with pytest.raises(RecordingMissing) as info:
        open_replay(path)
    assert str(path / "recording.yaml") in str(info.value)
    assert f"To record it, run: {RERECORD}" in str(info.value)


def corrupt_message(path: Path) -> str:
    with pytest.raises(RecordingCorrupt) as info:
        open_replay(path)
    message = str(info.value)
    assert str(path / "recording.yaml") in message and RERECORD in message
    return message


def test_truncated_file_is_detected(bundle: Path) -> None:
    f = bundle / "recording.yaml"
    lines = f.read_text().splitlines(keepends=True)
    f.write_text("".join(lines[: len(lines) // 2]))  # may still be valid YAML
    message = corrupt_message(bundle)
    assert "truncated" in message or "invalid YAML" in message


def test_truncated_at_a_line_boundary_that_is_valid_yaml(bundle: Path) -> None:
    f = bundle / "recording.yaml"
    text = f.read_text()
    f.write_text(text[: text.index("\nssh:") + 1])
    yaml.safe_load(f.read_text())  # still parses
    assert "truncated" in corrupt_message(bundle)


def test_bad_yaml(bundle: Path) -> None:
    (bundle / "recording.yaml").write_text("format_version: 1\nhttp: [\n  - {request: \n")
    assert "invalid YAML at line" in corrupt_message(bundle)


def test_empty_file(bundle: Path) -> None:
    (bundle / "recording.yaml").write_text("")
    assert "empty" in corrupt_message(bundle)


def test_missing_format_version(bundle: Path) -> None:
    f = bundle / "recording.yaml"
    f.write_text(f.read_text().replace("format_version: 2\n", ""))
    assert "no format_version" in corrupt_message(bundle)


def test_newer_format_version(bundle: Path) -> None:
    f = bundle / "recording.yaml"
    f.write_text(f.read_text().replace("format_version: 2\n", "format_version: 99\n"))
    assert "format_version 99 is newer" in corrupt_message(bundle)


def test_unsafe_yaml_tags_are_refused(bundle: Path) -> None:
    f = bundle / "recording.yaml"
    f.write_text("!!python/object/apply:os.system ['true']\n")
    assert "invalid YAML" in corrupt_message(bundle)


def test_missing_blob_is_reported_when_opening(bundle: Path) -> None:
    blob = next((bundle / "blobs").iterdir())
    blob.unlink()
    assert f"blob {blob} is missing" in corrupt_message(bundle)


def test_altered_blob(bundle: Path, demo: SimServer) -> None:
    blob = next((bundle / "blobs").iterdir())
    blob.write_bytes(blob.read_bytes()[:100])
    rec = open_replay(bundle)
    with rec.http(), pytest.raises(RecordingCorrupt, match="does not match its sha256"):
        make_session(headers=headers()).get(f"{demo.url}/addon/cam/i/0/img")


def test_wrong_structure(bundle: Path) -> None:
    (bundle / "recording.yaml").write_text(
        "format_version: 1\nhttp:\n- request: 3\nend_of_recording: true\n"
    )
    assert "unexpected structure" in corrupt_message(bundle)
