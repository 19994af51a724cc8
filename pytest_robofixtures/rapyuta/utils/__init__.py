"""Mirror of ``rapyuta_io.utils``: the exceptions and ObjDict helpers user code imports."""

from __future__ import annotations

from .._model import ObjDict, to_dict, to_objdict
from ..errors import *  # noqa: F403
from ..errors import __all__ as _errors

__all__ = ["ObjDict", "to_dict", "to_objdict", *_errors]
