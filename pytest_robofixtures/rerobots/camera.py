"""The camera helper of an instance (``instance.camera``): activate the cam add-on, take frames.

A :class:`Frame` keeps the JPEG bytes as the server sent them and decodes them on demand into a
PIL image or a NumPy ``uint8`` array of shape (height, width, 3).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .errors import Error

if TYPE_CHECKING:
    from .instance import Instance


@dataclass(frozen=True)
class Frame:
    """One camera image: ``.jpeg`` bytes, decoded lazily to ``.image`` and ``.array``."""

    jpeg: bytes
    camera_id: int = 0
    instance_id: str | None = None
    taken_at: float | None = None
    format: str = "JPEG"

    @cached_property
    def image(self) -> Image.Image:
        """The frame as an RGB PIL image."""
        # not ``with ... as img``: for Python 3.10 Pillow's ``__enter__`` (typing.Self) is Any
        img = Image.open(io.BytesIO(self.jpeg))
        with img:
            return img.convert("RGB")

    @cached_property
    def array(self) -> np.ndarray:
        """The frame as a NumPy ``uint8`` array of shape (H, W, 3)."""
        return np.asarray(self.image, dtype=np.uint8)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(height, width, 3)."""
        width, height = self.image.size
        return (height, width, 3)

    def save(self, path: str) -> None:
        """Write the JPEG bytes unchanged to ``path``."""
        with open(path, "wb") as fp:
            fp.write(self.jpeg)


class Camera:
    """The cam add-on of one instance."""

    def __init__(self, instance: Instance) -> None:
        self._instance = instance

    def status(self) -> str:
        """The add-on status: ``notfound``, ``starting`` or ``active``."""
        return str(self._instance.status_addon_cam().get("status"))

    def activate(self, wait: bool = True, timeout: float = 60) -> str:
        """Activate the cam add-on; with ``wait``, poll its status until it is ``active``."""
        return str(self._instance.activate_addon("cam", wait=wait, timeout=timeout).get("status"))

    def deactivate(self) -> None:
        """Deactivate the cam add-on."""
        self._instance.deactivate_addon_cam()

    def snapshot(self, camera_id: int = 0) -> Frame:
        """Take one frame from camera ``camera_id``."""
        payload = self._instance.get_snapshot_cam(camera_id=camera_id)
        if not payload.get("success"):
            raise Error(
                f"camera {camera_id} of instance {self._instance.id} gave no image: "
                f"{payload.get('message', payload)}",
                payload=payload,
            )
        data = payload.get("data")
        if not isinstance(data, bytes):
            raise Error(
                f"camera {camera_id} of instance {self._instance.id} sent data of type "
                f"{type(data).__name__}, expected base64 JPEG",
                payload={k: v for k, v in payload.items() if k != "data"},
            )
        frame = Frame(
            jpeg=data,
            camera_id=camera_id,
            instance_id=self._instance.id,
            taken_at=self._instance.clock.time(),
            format=str(payload.get("format", "JPEG")),
        )
        if self._instance.on_frame is not None:
            self._instance.on_frame(frame)
        return frame


__all__ = ["Camera", "Frame"]
