"""pytest entry point (options, markers, fixtures). Being built; see DESIGN.md."""

from __future__ import annotations
