"""``rerobots.instances`` of 0.11.0 under our name: ``from ...rerobots.instances import Instance``.

So that porting code written for ``rerobots`` is a textual replacement of the package name.
"""

from __future__ import annotations

from .api import APIClient
from .instance import Instance

__all__ = ["APIClient", "Instance"]
