"""Recording and replay of every transport a fixture uses, in one bundle per test or scope.

The plugin composes this package (it never imports pytest or the sandbox). Typical use::

    from pytest_robofixtures.recording import Recorder, Scrubber, recording_path, network_guard

    path = recording_path(rootdir / "cassettes", item.nodeid)          # a directory
    scrubber = Scrubber(secrets=[os.environ.get("RIO_AUTH_TOKEN"), ...])  # extends defaults
    rec = Recorder.open(path, "replay" if replaying else "record",
                        rerecord_command=f"pytest {item.nodeid} --robo-sim",
                        scrubber=scrubber,
                        metadata={"nodeid": item.nodeid, "mode": "sim",
                                  "endpoints": {"rapyuta": url}})     # record only
    urls = rec.endpoints                       # replay: the URLs used when recording
    with rec.active():                         # vcrpy + rec.clock as default clock + guard
        name = rec.names.new("net")            # robo-<run>-<worker>-<n>-net / recorded name
        ssh_factory = rec.ssh_factory(real_ssh_factory)   # replay: ignores the argument
        transport = rec.roc_transport(lambda: ZmqTransport(...))  # replay: factory not called
        feed = rec.roc_feed(lambda: ZmqFeed(...), name="status")
        ...                                    # run the fixture / test
    report = rec.close()   # record: scrub + atomic write; replay: report.unused

Layout (format 2: everything that varies per run, such as ports, run ids, timestamps, host
keys, poll repetitions and interaction times, is in the single ``clock`` line; format 1 still
loads; a failed attempt goes to ``recording.failed.yaml`` beside the good one):
``<bundle>/recording.yaml`` (``format_version``, ``metadata``, ``clock``, ``names``,
``http``, ``ssh``, ``roc`` and a closing ``end_of_recording`` marker that detects truncation) and
``<bundle>/blobs/<sha256>.<jpg|png|bin>`` for binary payloads (camera JPEGs inside JSON, SSH
downloads, binary bodies).

Replay matching: HTTP on method, scheme, host, port, path, query and the JSON body compared
structurally, after scrubbing (both sides) and normalizing volatile fields and client-made uuids;
SSH on host, port, user, operation and command/path; ROC on object, method and params. Identical
requests are served in recorded order and the last answer repeats once they are used up.
Anything else raises :class:`RecordingMismatch` naming the file, the request, the nearest
recorded one, what differs and the re-record command.

In replay, pass the (dummy) credentials the clients use as ``Scrubber`` secrets too, so a
credential that ends up in a URL or body matches the recorded ``<scrubbed>`` placeholder.
HTTP contexts nest LIFO: the innermost active recorder records.
"""

from __future__ import annotations

from .bundle import FORMAT_VERSION, Bundle
from .config import RecordingConfig
from .drift import DriftFinding, compare_bundle
from .errors import (
    NetworkBlocked,
    RecordingCorrupt,
    RecordingError,
    RecordingMismatch,
    RecordingMissing,
)
from .guard import compile_allowed_hosts, is_loopback, network_guard
from .http import BundleCassette
from .inventory import RecordingInfo, delete_recording, list_recordings, older_than, orphans
from .match import Normalizer
from .names import NameFactory, new_run_id, worker_id
from .paths import RECORDING_FILE, recording_path
from .recorder import CloseReport, Recorder
from .roc import RecordingRocFeed, RecordingRocTransport, ReplayRocFeed, ReplayRocTransport
from .scrub import PLACEHOLDER, Finding, Scrubber, scan_for_secrets
from .ssh import (
    RecordingSSHSession,
    ReplaySSHSession,
    SSHFactory,
    recording_ssh_factory,
    replay_ssh_factory,
)

__all__ = [
    "FORMAT_VERSION", "PLACEHOLDER", "RECORDING_FILE", "Bundle", "BundleCassette", "CloseReport",
    "DriftFinding", "RecordingConfig", "RecordingInfo", "compare_bundle", "compile_allowed_hosts",
    "delete_recording", "list_recordings", "older_than", "orphans",
    "Finding", "NameFactory", "NetworkBlocked", "Normalizer", "Recorder", "RecordingCorrupt",
    "RecordingError", "RecordingMismatch", "RecordingMissing", "RecordingRocFeed",
    "RecordingRocTransport", "RecordingSSHSession", "ReplayRocFeed", "ReplayRocTransport",
    "ReplaySSHSession", "SSHFactory", "Scrubber", "is_loopback", "network_guard", "new_run_id",
    "recording_path", "recording_ssh_factory", "replay_ssh_factory", "scan_for_secrets",
    "worker_id",
]
