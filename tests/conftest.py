"""Shared test configuration: every test runs against real servers on loopback."""

from __future__ import annotations

import os
import tempfile

# In-process pytester runs drop the modules an inner run imported first; matplotlib (drawn by
# the plugin in inner runs) breaks when imported twice, so import it here, once per process.
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.backends.backend_agg  # noqa: E402, F401
import matplotlib.backends.backend_svg  # noqa: E402, F401
import matplotlib.figure  # noqa: E402, F401
import matplotlib.lines  # noqa: E402, F401
import matplotlib.patches  # noqa: E402, F401

# The tests (and the pytest runs they start) keep the parsed-recording cache out of $HOME.
os.environ.setdefault("ROBOFIXTURES_CACHE_DIR", tempfile.mkdtemp(prefix="robo-test-cache-"))
