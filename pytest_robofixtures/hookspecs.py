"""Hooks other plugins and conftests can implement (``pytest_robofixtures_*``).

Registered with ``pluginmanager.add_hookspecs``, like pytest-xdist's ``newhooks``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .kinds.base import Registry
    from .settings import RoboSettings


@pytest.hookspec(historic=True)
def pytest_robofixtures_configure(config: pytest.Config, settings: RoboSettings,
                                  registry: Registry) -> None:
    """Called once the plugin is configured: register resource kinds, read the settings."""


def pytest_robofixtures_resource_created(nodeid: str, kind: str, name: str, ident: str) -> None:
    """A resource was created (its id known) for test ``nodeid``."""


def pytest_robofixtures_resource_deleted(nodeid: str, kind: str, name: str, ident: str) -> None:
    """A resource was torn down for test ``nodeid``."""


@pytest.hookspec(firstresult=True)
def pytest_robofixtures_report_section(item: pytest.Item, title: str, text: str) -> Any:
    """A report section is about to be added: return a replacement text, or None to keep it."""


def pytest_robofixtures_progress(worker: str, line: str) -> None:
    """A long wait in an xdist worker changed state (the main process shows it)."""
