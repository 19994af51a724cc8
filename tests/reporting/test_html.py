from __future__ import annotations

import base64
import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from pytest_robofixtures.reporting.html import (
    RunSummary,
    figure_html,
    measurements_html,
    run_summary_html,
    section_html,
)
from pytest_robofixtures.reporting.measurements import Measurement


def parse(fragment: str) -> ET.Element:
    """Our fragments are well-formed: they parse as XML inside one wrapper element."""
    return ET.fromstring(f"<div>{fragment}</div>")


def text_of(el: ET.Element) -> str:
    return " ".join("".join(el.itertext()).split())


def test_run_summary_says_mode_counts_waiting_and_infra_errors() -> None:
    summary = RunSummary.from_stats(
        "sim",
        {"provisioned": 5, "torn_down": 4, "leaked": ["rapyuta.deployment dep-1 (dep-talker)"],
         "kept": [], "waited": 125.4},
        infra_errors=[("tests/test_a.py::test_<stuck>", "ProvisioningTimeout: dep-1 stayed "
                       "Provisioning/Pending for 60 s")],
    )
    root = parse(run_summary_html(summary))
    text = text_of(root)
    assert "mode sim" in text
    assert "provisioned 5, torn down 4, leaked 1" in text
    assert "waited 2 min 05 s" in text
    assert "rapyuta.deployment dep-1 (dep-talker)" in text and "robofixtures reap" in text
    assert "1 infra error (not your code)" in text
    assert "tests/test_a.py::test_<stuck>: ProvisioningTimeout" in text  # escaped, not markup
    assert "kept" not in text


def test_clean_run_summary() -> None:
    text = text_of(parse(run_summary_html(RunSummary("replay", 2, 2, waited=0.04))))
    assert "mode replay" in text and "leaked 0" in text and "no infra errors" in text
    assert "waited 0.0 s" in text


def test_figure_is_an_inline_data_uri_that_decodes_to_the_picture() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (46, 157, 79)).save(buf, "PNG")
    png = buf.getvalue()
    root = parse(figure_html(png, "png", alt='timeline "a"', caption="resources over time"))
    img = root.find(".//img")
    assert img is not None and img.get("alt") == 'timeline "a"'
    src = img.get("src", "")
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == png
    assert text_of(root) == "resources over time"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    assert "data:image/svg+xml;base64," in figure_html(svg, "svg")
    with pytest.raises(ValueError, match="unsupported"):
        figure_html(b"", "gif")


def test_measurements_table() -> None:
    root = parse(measurements_html([Measurement("battery_v", 10.9, "V", 11.5, 13.0),
                                    Measurement("time_to_ready", 42.0, "s", high=60)]))
    rows = [[text_of(td) for td in tr] for tr in root.iter("tr")]
    assert rows == [["measurement", "value", "unit", "limits", "verdict"],
                    ["battery_v", "10.9", "V", "11.5 .. 13 V", "FAIL"],
                    ["time_to_ready", "42", "s", "<= 60 s", "pass"]]
    assert measurements_html([]) == ""


def test_sections_are_open_details_blocks() -> None:
    root = parse(section_html("robo: ssh transcript", "$ echo <hi> && true"))
    details = root.find("details")
    assert details is not None and details.get("open") is not None
    assert [text_of(el) for el in root.iter() if el.tag in ("summary", "pre")] == [
        "robo: ssh transcript", "$ echo <hi> && true"]
    closed = parse(section_html("t", "x", open_=False)).find("details")
    assert closed is not None and closed.get("open") is None


def test_timeline_html_embeds_the_picture() -> None:
    pytest.importorskip("matplotlib")
    from pytest_robofixtures.reporting.html import timeline_html
    from pytest_robofixtures.reporting.timeline import timeline_from_events

    data = timeline_from_events([(0.0, "roc vnir", "connected"), (2.0, "roc vnir", "torn down")],
                                title="t.py::test_x")
    root = parse(timeline_html(data, "   0.000s  roc vnir  connected"))
    img = root.find(".//img")
    assert img is not None and img.get("alt") == "timeline of t.py::test_x"
    svg = base64.b64decode(img.get("src", "").split(",", 1)[1])
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"


FALLBACK = """
import sys
sys.modules["matplotlib"] = None
from pytest_robofixtures.reporting.html import timeline_html
from pytest_robofixtures.reporting.picture import save_timeline
from pytest_robofixtures.reporting.timeline import TimelineData
print(save_timeline(TimelineData(), sys.argv[1]))
print(timeline_html(TimelineData(), "0.000s  roc vnir  connected"))
print(repr(timeline_html(TimelineData())))
"""


def test_without_matplotlib_the_text_timeline_is_shown_instead(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", FALLBACK, str(tmp_path)], capture_output=True,
                         text=True, check=True, timeout=120).stdout.splitlines()
    assert out[0] == "None" and list(tmp_path.iterdir()) == []
    section = parse(out[1]).find("details")
    pre = section.find("pre") if section is not None else None
    assert pre is not None and pre.text == "0.000s  roc vnir  connected"
    assert out[2] == "''"


def test_save_timeline_writes_the_file(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from pytest_robofixtures.reporting.picture import save_timeline
    from pytest_robofixtures.reporting.timeline import TimelineData

    path = save_timeline(TimelineData(title="x"), tmp_path / "a" / "b", "png")
    assert path == tmp_path / "a" / "b" / "timeline.png"
    with Image.open(path) as img:
        assert img.format == "PNG"
