"""Mirror of ``rapyuta_io.utils.objdict``."""

from __future__ import annotations

from .._model import ObjDict, to_dict, to_objdict

__all__ = ["ObjDict", "to_dict", "to_objdict"]
