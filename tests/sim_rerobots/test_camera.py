"""The simulated camera: real JPEGs, moving content, configurable size, deterministic frames."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from PIL import Image

from pytest_robofixtures.sim.camera import FrameSource


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_default_frames_are_320x240_rgb_jpeg_and_move() -> None:
    cam = FrameSource()
    first, second = cam.next_jpeg(), cam.next_jpeg()
    assert first[:3] == b"\xff\xd8\xff" and first[-2:] == b"\xff\xd9"
    img = decode(first)
    assert (img.format, img.mode, img.size) == ("JPEG", "RGB", (320, 240))
    diff = np.abs(np.asarray(img, dtype=int) - np.asarray(decode(second), dtype=int))
    assert diff.mean() > 1  # the content moved, not just JPEG noise
    assert cam.frames_made == 2


def test_size_is_configurable_and_frames_are_deterministic() -> None:
    a, b = FrameSource(64, 48, name="a"), FrameSource(64, 48, name="a")
    assert decode(a.jpeg(5)).size == (64, 48)
    assert a.jpeg(5) == b.jpeg(5)
    assert a.jpeg(5) != a.jpeg(6)
    assert FrameSource(64, 48, hue=40).jpeg(0) != a.jpeg(0)  # cameras look different
    with pytest.raises(ValueError):
        FrameSource(8, 8)


def test_next_jpeg_is_thread_safe() -> None:
    cam = FrameSource(32, 32)
    threads = [threading.Thread(target=lambda: [cam.next_jpeg() for _ in range(10)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert cam.frames_made == 40
