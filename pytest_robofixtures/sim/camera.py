"""Simulated cameras: real JPEG frames, made with Pillow, that change from one frame to the next.

A :class:`FrameSource` draws a colour gradient, a disc that moves along a Lissajous path, a bar
that sweeps across the bottom, and a caption with the camera name and frame number, then encodes
it as a baseline RGB JPEG. Frames are deterministic: frame ``n`` of a source is always the same
picture, so recordings of the sandbox diff cleanly.
"""

from __future__ import annotations

import io
import math
import threading

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["FrameSource"]


class FrameSource:
    """A camera producing RGB JPEG frames of ``width`` x ``height`` with moving content."""

    def __init__(
        self, width: int = 320, height: int = 240, name: str = "cam0", hue: int = 0,
        quality: int = 85,
    ) -> None:
        if width < 16 or height < 16:
            raise ValueError("frames must be at least 16x16")
        self.width = width
        self.height = height
        self.name = name
        self.quality = quality
        self._count = 0
        self._lock = threading.Lock()
        # A fixed background per camera (the hue tells cameras apart).
        x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
        y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
        r = (40 + 120 * x + 0 * y + hue) % 256
        g = (60 + 100 * y + 0 * x + 2 * hue) % 256
        b = (90 + 60 * (1 - x) * y + 3 * hue) % 256
        self._background = np.stack(np.broadcast_arrays(r, g, b), axis=-1).astype(np.uint8)
        self._font = ImageFont.load_default()

    @property
    def frames_made(self) -> int:
        """How many frames this source has produced."""
        return self._count

    def image(self, n: int) -> Image.Image:
        """Frame number ``n`` as a PIL RGB image."""
        img = Image.fromarray(self._background, "RGB")
        draw = ImageDraw.Draw(img)
        w, h = self.width, self.height
        radius = max(4, min(w, h) // 8)
        t = n * 0.35
        cx = w / 2 + (w / 2 - radius - 2) * math.sin(t)
        cy = h / 2 + (h / 2 - radius - 2) * math.sin(1.7 * t + 0.5)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius),
                     fill=(250, 220, 40), outline=(20, 20, 20), width=2)
        bar_w = max(4, w // 10)
        bx = (n * 7) % (w + bar_w) - bar_w
        draw.rectangle((bx, h - h // 12, bx + bar_w, h - 1), fill=(230, 40, 40))
        draw.rectangle((0, 0, w - 1, 14), fill=(0, 0, 0))
        draw.text((3, 2), f"{self.name} frame {n}", fill=(255, 255, 255), font=self._font)
        return img

    def jpeg(self, n: int) -> bytes:
        """Frame number ``n`` encoded as JPEG bytes."""
        buf = io.BytesIO()
        self.image(n).save(buf, format="JPEG", quality=self.quality)
        return buf.getvalue()

    def next_jpeg(self) -> bytes:
        """The next frame as JPEG bytes (thread-safe; each call advances the counter)."""
        with self._lock:
            n = self._count
            self._count += 1
        return self.jpeg(n)
