"""The fragments inside a real pytest-html report (the way the plugin will attach them)."""

from __future__ import annotations

import base64
import html
import json
import re
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("pytest_html")
pytest.importorskip("matplotlib")

CONFTEST = '''
import pytest
import pytest_html
from pytest_robofixtures.reporting.html import (
    RunSummary, measurements_html, run_summary_html, timeline_html)
from pytest_robofixtures.reporting.measurements import Measurement
from pytest_robofixtures.reporting.timeline import timeline_from_events


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        data = timeline_from_events(
            [(0.0, "rerobots e3e70682", "created e3e70682"), (0.1, "rerobots e3e70682", "READY"),
             (2.0, "rerobots e3e70682", "torn down")], title=item.nodeid)
        report.extras = [*getattr(report, "extras", []),
                         pytest_html.extras.html(timeline_html(data)),
                         pytest_html.extras.html(measurements_html(
                             [Measurement("battery_v", 10.9, "V", 11.5, 13.0)]))]


def pytest_html_results_summary(prefix, summary, postfix):
    prefix.append(run_summary_html(RunSummary("sim", 1, 1, waited=0.1)))
'''


def test_picture_measurements_and_summary_appear_in_the_report(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_one="def test_passes():\n    assert True\n")
    result = pytester.runpytest("--html=report.html", "--self-contained-html")
    result.assert_outcomes(passed=1)
    page = (pytester.path / "report.html").read_text()
    assert "mode <b>sim</b>" in page  # the summary block, as markup (not escaped)
    blob = re.search(r'data-jsonblob="([^"]*)"', page)
    assert blob is not None
    tests = json.loads(html.unescape(blob.group(1)))["tests"]
    extras = [e for run in tests["test_one.py::test_passes"] for e in run.get("extras", [])]
    contents = [str(e.get("content", "")) for e in extras]
    figure = next(c for c in contents if "data:image/svg+xml;base64," in c)
    encoded = re.search(r'base64,([^"]+)', figure)
    assert encoded is not None
    svg = base64.b64decode(encoded.group(1))
    assert "rerobots e3e70682" in "".join(ET.fromstring(svg).itertext())
    assert any("battery_v" in c and "FAIL" in c for c in contents)
