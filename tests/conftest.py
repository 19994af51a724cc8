"""Shared test configuration: every test runs against real servers on loopback."""

from __future__ import annotations
