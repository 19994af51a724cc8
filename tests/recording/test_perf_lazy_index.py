"""The lazily built HTTP match index and deferred id learning give eager results."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from pytest_robofixtures.recording import Bundle, Scrubber
from pytest_robofixtures.recording.http import _UNSET, BundleCassette, DeferredNormalizer
from pytest_robofixtures.recording.match import Normalizer

from .conftest import RERECORD

CLIENT_ID = str(uuid.UUID(int=1))
RESOURCE_ID = str(uuid.UUID(int=2))


def saved_bundle(tmp_path: Path) -> Bundle:
    bundle = Bundle(tmp_path / "b", RERECORD)
    exchanges = [
        ("POST", "http://api.test/things", {"name": "a", "request_id": CLIENT_ID},
         {"id": RESOURCE_ID}),
        ("GET", f"http://api.test/things/{RESOURCE_ID}", None, {"id": RESOURCE_ID, "n": 1}),
        ("PUT", f"http://api.test/things/{RESOURCE_ID}", {"ref": RESOURCE_ID, "tag": CLIENT_ID},
         {"ok": True}),
    ]
    for method, uri, req, resp in exchanges:
        bundle.http.append({
            "request": {"method": method, "uri": uri, "headers": {},
                        "body": json.dumps(req).encode() if req is not None else None},
            "response": {"status": {"code": 200, "message": "OK"},
                         "headers": {"Content-Type": ["application/json"]},
                         "body": json.dumps(resp).encode()},
        })
    bundle.save(Scrubber())
    return Bundle.load(bundle.directory, RERECORD)


def test_deferred_learning_gives_the_eager_ids(tmp_path: Path) -> None:
    bundle = saved_bundle(tmp_path)
    eager = Normalizer()
    BundleCassette(bundle, "replay", Scrubber(), eager)
    deferred = DeferredNormalizer()
    BundleCassette(bundle, "replay", Scrubber(), deferred)
    assert deferred.known_ids == set() and deferred._pending
    deferred.flush()
    assert (deferred.known_ids, deferred.client_ids) == (eager.known_ids, eager.client_ids)
    assert RESOURCE_ID in eager.known_ids and CLIENT_ID in eager.client_ids


def test_later_learning_runs_after_the_deferred_one(tmp_path: Path) -> None:
    # A ROC replayer learning after the cassette must see the HTTP ids first, as eagerly.
    bundle = saved_bundle(tmp_path)
    roc_request, roc_response = {"object": RESOURCE_ID}, {"id": str(uuid.UUID(int=3))}
    eager = Normalizer()
    BundleCassette(bundle, "replay", Scrubber(), eager)
    eager.collect_ids(roc_request, roc_response)
    deferred = DeferredNormalizer()
    BundleCassette(bundle, "replay", Scrubber(), deferred)
    deferred.collect_ids(roc_request, roc_response)
    assert (deferred.known_ids, deferred.client_ids) == (eager.known_ids, eager.client_ids)


def test_a_get_only_replay_never_learns_and_bodies_are_formed_on_demand(tmp_path: Path) -> None:
    bundle = saved_bundle(tmp_path)
    normalizer = DeferredNormalizer()
    cassette = BundleCassette(bundle, "replay", Scrubber(), normalizer)
    index = cassette._index
    assert index is not None
    url_key = cassette.matcher.url_key("GET", f"http://api.test/things/{RESOURCE_ID}")
    found = index.next(url_key, cassette.matcher.live_body_form(None))
    assert found is not None and found[0] == 1
    assert normalizer._pending, "a GET without a body needed no learning"
    assert index._bodies[0] is _UNSET and index._bodies[2] is _UNSET  # only the GET's formed
    live_put = json.dumps({"ref": RESOURCE_ID, "tag": str(uuid.uuid4())}).encode()
    put_key = cassette.matcher.url_key("PUT", f"http://api.test/things/{RESOURCE_ID}")
    found = index.next(put_key, cassette.matcher.live_body_form(live_put))
    assert found is not None and found[0] == 2  # a fresh client uuid still matches
    assert not normalizer._pending
    assert index.unused() == [0]
