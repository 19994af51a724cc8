"""Inventory: listing recordings, orphans, stale ones and safe deletion."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import Recorder, Scrubber, recording_path
from pytest_robofixtures.recording.inventory import (
    delete_recording,
    human_size,
    list_recordings,
    older_than,
    orphans,
)
from pytest_robofixtures.sim._wsgi import SimServer

from .conftest import RERECORD, TOKEN, headers

ROOT = Path(__file__).resolve().parents[2]


def record(root: Path, nodeid: str, demo: SimServer, polls: int, failed: bool = False) -> Path:
    path = recording_path(root, nodeid)
    rec = Recorder.open(path, "record", RERECORD, Scrubber(secrets=[TOKEN]),
                        metadata={"nodeid": nodeid})
    s = make_session(headers=headers(), retries=0)
    with rec.http():
        for _ in range(polls):
            s.post(f"{demo.url}/echo", json={"same": True})
        s.get(f"{demo.url}/addon/cam/i/0/img")
    if failed:
        rec.bundle.save(rec.scrubber, failed=True)
    else:
        rec.close()
    return path


def test_listing_counts_sizes_dates_and_orphans(tmp_path: Path, demo: SimServer) -> None:
    a = record(tmp_path, "tests/test_a.py::test_one", demo, 3)
    b = record(tmp_path, "tests/test_a.py::test_two[x]", demo, 1)
    record(tmp_path, "tests/test_a.py::test_two[x]", demo, 2, failed=True)
    infos = list_recordings(tmp_path)
    assert [i.directory for i in infos] == [a, b]
    one, two = infos
    assert one.counts["http"] == 4  # three identical POSTs are stored once, counted thrice
    assert one.nodeid == "tests/test_a.py::test_one" and not one.failed_attempt
    assert two.failed_attempt and two.has_recording and two.counts["http"] == 2
    on_disk = sum(p.stat().st_size for p in a.rglob("*") if p.is_file())
    assert one.size == on_disk and one.size > 1000  # the camera blob counts
    assert one.recorded_at is not None
    assert abs((dt.datetime.now(dt.timezone.utc) - one.recorded_at).total_seconds()) < 3600
    assert "http 4" in one.line(tmp_path) and "tests/test_a.py::test_one" in one.line(tmp_path)
    assert "[+failed attempt]" in two.line(tmp_path)
    assert orphans(infos, ["tests/test_a.py::test_one"]) == [two]
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=10)
    assert older_than(infos, 5, now=later) == infos and older_than(infos, 30, now=later) == []
    assert human_size(512) == "512 B" and human_size(12_600) == "12.3 KiB"


def test_committed_examples_are_listed_with_their_tests() -> None:
    infos = list_recordings(ROOT / "cassettes")
    assert len(infos) >= 6 and all(i.problem is None for i in infos)
    for info in infos:
        assert info.nodeid is not None and info.nodeid.startswith("examples/")
        assert info.directory.name == info.nodeid.split("::")[-1]
        assert sum(info.counts.values()) > 0 and info.recorded_at is not None


def test_delete_is_confined_to_the_recording(tmp_path: Path, demo: SimServer) -> None:
    root = tmp_path / "cassettes"
    path = record(root, "tests/test_b.py::test_gone", demo, 1)
    keep = record(root, "tests/test_b.py::test_kept", demo, 1)
    with pytest.raises(ValueError, match="not inside"):
        delete_recording(path, tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="not inside"):
        delete_recording(root, root)
    with pytest.raises(ValueError, match="holds no recording"):
        delete_recording(path.parent, root)
    link = root / "link"
    link.symlink_to(keep, target_is_directory=True)
    with pytest.raises(ValueError, match="symlink"):
        delete_recording(link, root)
    link.unlink()
    removed = delete_recording(path, root)
    assert path / "recording.yaml" in removed and not path.exists()
    assert (keep / "recording.yaml").is_file() and path.parent.is_dir()
    # A file that is not the recording's stays, and so does its directory.
    (keep / "notes.txt").write_text("mine")
    delete_recording(keep, root)
    assert (keep / "notes.txt").is_file() and not (keep / "recording.yaml").exists()
    assert [i.directory for i in list_recordings(root)] == []
