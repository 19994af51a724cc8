"""Mirror of ``rapyuta_io.utils.error``."""

from __future__ import annotations

from ..errors import *  # noqa: F403
from ..errors import __all__ as __all__  # noqa: PLE0605
