from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import pytest_robofixtures.export.mcap
import pytest_robofixtures.export.timing
import pytest_robofixtures.reporting.html
import pytest_robofixtures.reporting.measurements
import pytest_robofixtures.reporting.picture
import pytest_robofixtures.reporting.timeline
print(sorted(m for m in ("pytest", "matplotlib", "mcap") if m in sys.modules))
"""


def test_report_modules_import_neither_pytest_nor_the_optional_libraries() -> None:
    # matplotlib and mcap load only when a picture is drawn or a file exported; the library
    # parts never need pytest.
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"
