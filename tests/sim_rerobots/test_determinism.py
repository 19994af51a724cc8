"""Ids random per start unless seeded; seeded runs give byte-identical camera frames."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from pytest_robofixtures.sim._wsgi import SimServer
from pytest_robofixtures.sim.rerobots import SEEDED_DEPLOYMENTS, RerobotsSim
from pytest_robofixtures.sim.sshd import generate_host_key, public_key_line

from .conftest import TOKEN, Sandbox

NULL_A = SEEDED_DEPLOYMENTS[1]["id"]
# Our own public key: no RSA key generation per instance (keys are random anyway, not ids).
KEY = public_key_line(generate_host_key())


def _run(
    tmp: Path, seed: int | None, snapshots: int = 3, pause: float = 0.0
) -> tuple[list[str], list[bytes]]:
    """One sandbox start: instances, a reservation, a token, cam snapshots: what it handed out."""
    app = RerobotsSim(token=TOKEN, delay=0.05, scratch_root=tmp, seed=seed)
    with SimServer(app) as server:
        box = Sandbox(app, server)
        try:
            ids = [box.new(NULL_A, sshkey=KEY)["id"], box.new("null", sshkey=KEY)["id"]]
            info = box.wait_status(ids[0], "READY")
            # What a recording would show besides ids: host keys and timestamps.
            ids += [info["hostkeys"][0], info["starttime"]]
            reply = box.post(f"/new/{NULL_A}", json={"reserve": True, "sshkey": KEY}).json()
            ids.append(reply["id"])
            ids.append(box.post("/_admin/tokens").json()["token"])
            assert box.post(f"/addon/cam/{ids[0]}").status_code == 200
            frames: list[bytes] = []
            while len(frames) < snapshots:
                body = box.get(f"/addon/cam/{ids[0]}/1/img").json()
                if body["success"]:
                    frames.append(base64.b64decode(body["data"]))
                    time.sleep(pause)
        finally:
            box.http.close()
    return ids, frames


def test_without_a_seed_ids_are_fresh_on_every_start(tmp_path: Path) -> None:
    first, _ = _run(tmp_path / "a", None, snapshots=1)
    second, _ = _run(tmp_path / "b", None, snapshots=1)
    assert len(set(first)) == 6 and not set(first) & set(second)


def test_a_seed_reproduces_ids_keys_times_and_camera_frames_byte_for_byte(tmp_path: Path) -> None:
    ids_a, frames_a = _run(tmp_path / "a", 11)
    # Slower snapshots in the second run: the frame counter decides the picture, not the clock.
    ids_b, frames_b = _run(tmp_path / "b", 11, pause=0.2)
    assert ids_a == ids_b
    assert frames_a == frames_b
    assert len(set(frames_a)) == len(frames_a)  # and the picture moves from frame to frame
    ids_c, _ = _run(tmp_path / "c", 12, snapshots=1)
    # Another seed: other ids and keys (timestamps start at the same epoch, one per event).
    assert not {x for x in ids_c if x[:4] != "2024"} & set(ids_a)
