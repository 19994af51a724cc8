"""A ROC object shared over ZeroMQ: call it, read it, wait for its status updates."""

from __future__ import annotations

import pytest


@pytest.mark.roc_object("vnir", timeout=5.0)
def test_shutter_opens_and_status_follows(roc_object):
    roc_object.openShutter()
    assert roc_object.wait_for_status("instruments.vnir.shutter", lambda v: v == "open",
                                      timeout=10) == "open"
    summary = roc_object.capture(3)
    assert summary["frames"] == 3 and roc_object.fps > 0
    roc_object.closeShutter()
    roc_object.wait_for_status("instruments.vnir.shutter", lambda v: v == "closed", timeout=10)
    with pytest.raises(RuntimeError, match="shutter is closed"):
        roc_object.capture()
