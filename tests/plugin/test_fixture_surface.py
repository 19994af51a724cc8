"""Fixture surface of issue 12: add-ons active before the test starts."""

from __future__ import annotations

import pytest

from .conftest import REPLAY, SIM


def test_workspace_starts_with_every_addon_active(project: pytest.Pytester) -> None:
    project.makepyfile(test_addons="""
        import pytest

        @pytest.mark.rerobots_instance(workspace_types=["fixed_misty2"],
                                       addons=["cam", "mistyproxy"])
        def test_addons(rerobots_instance):
            # No wait in the test: both were active, with their URLs, before it started.
            misty = rerobots_instance.status_addon_mistyproxy()
            assert misty["status"] == "active", misty
            assert misty.get("url"), misty
            assert rerobots_instance.status_addon_cam()["status"] == "active"
            assert rerobots_instance.camera.snapshot().jpeg[:2] == b"\\xff\\xd8"
    """)
    project.runpytest(*SIM).assert_outcomes(passed=1)
    project.runpytest(*REPLAY).assert_outcomes(passed=1)
