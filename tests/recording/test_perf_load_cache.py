"""The parsed-recording cache: same result as parsing, keyed by content, never trusted blindly."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from pytest_robofixtures.recording import Bundle, RecordingCorrupt, Scrubber
from pytest_robofixtures.recording.loadcache import ENV_VAR, ParseCache

from .conftest import RERECORD

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "cassettes" / "examples").rglob("recording.yaml"))


def state(bundle: Bundle) -> dict[str, Any]:
    return {k: getattr(bundle, k) for k in
            ("metadata", "clock", "names", "http", "ssh", "roc_calls", "roc_feeds")}


def entries(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.iterdir() if not p.name.startswith(".")) \
        if cache_dir.is_dir() else []


def small_bundle(directory: Path) -> Bundle:
    bundle = Bundle(directory, RERECORD)
    bundle.metadata = {"nodeid": "tests/test_c.py::test_c"}
    bundle.http.append({
        "request": {"method": "POST", "uri": "http://api.test/things", "headers": {},
                    "body": b'{"name": "a"}'},
        "response": {"status": {"code": 201, "message": "Created"},
                     "headers": {"Content-Type": ["application/json"]},
                     "body": b'{"id": "t-1", "name": "a"}'},
    })
    bundle.roc_calls.append({"seq": 1, "object": "arm", "method": "move",
                             "params": {"x": 1, "raw": b"\x00\x01"}, "result": {"ok": True}})
    bundle.save(Scrubber())
    return bundle


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_committed_examples_load_the_same_with_and_without_the_cache(
    path: Path, tmp_path: Path
) -> None:
    plain = Bundle.load(path.parent, RERECORD, cache=ParseCache(None))
    cache = ParseCache(tmp_path / "cache")
    cold = Bundle.load(path.parent, RERECORD, cache=cache)
    assert len(entries(tmp_path / "cache")) == 1
    warm = Bundle.load(path.parent, RERECORD, cache=cache)
    assert state(cold) == state(plain)
    assert state(warm) == state(plain)


def test_committed_examples_exist() -> None:
    assert len(EXAMPLES) >= 5


def test_entry_is_named_by_the_sha256_of_the_yaml_and_an_edit_misses(tmp_path: Path) -> None:
    bundle = small_bundle(tmp_path / "b")
    cache_dir = tmp_path / "cache"
    cache = ParseCache(cache_dir)
    Bundle.load(bundle.directory, RERECORD, cache=cache)
    digest = hashlib.sha256(bundle.path.read_bytes()).hexdigest()
    [entry] = entries(cache_dir)
    assert entry.name.startswith(digest)
    text = bundle.path.read_text().replace("name: a", "name: b")
    bundle.path.write_text(text)
    edited = Bundle.load(bundle.directory, RERECORD, cache=cache)
    assert edited.http[0]["request"]["body"] == {"json": {"name": "b"}}
    assert len(entries(cache_dir)) == 2


def test_a_damaged_or_foreign_entry_is_a_miss_and_is_rewritten(tmp_path: Path) -> None:
    bundle = small_bundle(tmp_path / "b")
    other = small_bundle(tmp_path / "other")
    other.path.write_text(other.path.read_text().replace("move", "grip"))
    cache_dir = tmp_path / "cache"
    cache = ParseCache(cache_dir)
    expected = state(Bundle.load(bundle.directory, RERECORD, cache=ParseCache(None)))
    Bundle.load(bundle.directory, RERECORD, cache=cache)
    [entry] = entries(cache_dir)
    for damage in (entry.read_bytes()[:40], b"not marshal at all"):
        entry.write_bytes(damage)
        assert state(Bundle.load(bundle.directory, RERECORD, cache=cache)) == expected
    # The entry of another file put under this file's name: its digest does not match.
    Bundle.load(other.directory, RERECORD, cache=cache)
    foreign = next(p for p in entries(cache_dir) if p != entry)
    entry.write_bytes(foreign.read_bytes())
    loaded = Bundle.load(bundle.directory, RERECORD, cache=cache)
    assert state(loaded) == expected and loaded.roc_calls[0]["method"] == "move"


def test_only_documents_that_pass_the_checks_are_cached(tmp_path: Path) -> None:
    bundle = small_bundle(tmp_path / "b")
    cache_dir = tmp_path / "cache"
    cache = ParseCache(cache_dir)
    text = bundle.path.read_text().replace("end_of_recording: true", "end_of_recording: false")
    bundle.path.write_text(text)
    for _ in range(2):
        with pytest.raises(RecordingCorrupt, match="truncated"):
            Bundle.load(bundle.directory, RERECORD, cache=cache)
    assert entries(cache_dir) == []
    bundle.path.write_text(text.replace("method: POST", "method: 7"))
    bundle.path.write_text(bundle.path.read_text().replace("end_of_recording: false",
                                                           "end_of_recording: true"))
    with pytest.raises(RecordingCorrupt, match="method must be a string"):
        Bundle.load(bundle.directory, RERECORD, cache=cache)
    assert entries(cache_dir) == []


def test_a_missing_blob_is_found_on_a_cache_hit_too(tmp_path: Path) -> None:
    bundle = Bundle(tmp_path / "b", RERECORD)
    bundle.http.append({
        "request": {"method": "GET", "uri": "http://api.test/img", "headers": {}, "body": None},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {},
                     "body": bytes(range(256)) * 4},
    })
    bundle.save(Scrubber())
    cache = ParseCache(tmp_path / "cache")
    Bundle.load(bundle.directory, RERECORD, cache=cache)
    [blob] = list(bundle.blobs_dir.iterdir())
    blob.unlink()
    with pytest.raises(RecordingCorrupt, match="is missing"):
        Bundle.load(bundle.directory, RERECORD, cache=cache)


def test_an_unusable_cache_directory_never_breaks_loading(tmp_path: Path) -> None:
    bundle = small_bundle(tmp_path / "b")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    loaded = Bundle.load(bundle.directory, RERECORD, cache=ParseCache(blocker / "cache"))
    assert loaded.metadata["nodeid"] == "tests/test_c.py::test_c"


def test_a_document_marshal_cannot_hold_is_loaded_but_not_cached(tmp_path: Path) -> None:
    bundle = small_bundle(tmp_path / "b")
    text = bundle.path.read_text().replace("metadata:\n", "metadata:\n  edited: 2024-05-01\n", 1)
    bundle.path.write_text(text)
    cache_dir = tmp_path / "cache"
    loaded = Bundle.load(bundle.directory, RERECORD, cache=ParseCache(cache_dir))
    assert str(loaded.metadata["edited"]) == "2024-05-01"
    assert entries(cache_dir) == []


def test_the_environment_chooses_or_disables_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = small_bundle(tmp_path / "b")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env-cache"))
    Bundle.load(bundle.directory, RERECORD)
    assert len(entries(tmp_path / "env-cache")) == 1
    monkeypatch.setenv(ENV_VAR, "off")
    assert ParseCache.default().directory is None
    monkeypatch.delenv(ENV_VAR)
    # Without a default set by the plugin (this run's plugin set one beside its journal).
    from pytest_robofixtures.recording import loadcache

    monkeypatch.setattr(loadcache, "_default_dir", None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ParseCache.default().directory == tmp_path / "xdg" / "pytest-robofixtures" / "parsed"
