"""Drawing on float frames (H, W, 3) in [0, 1]: bilinear sampling and sprites pasted on a torus.

A sprite is an RGB picture with an alpha mask, drawn by inverse mapping: every frame pixel asks where it
falls in the sprite (after the sprite's rotation and scale), so one function draws a moving, turning
or growing object. Positions wrap around the frame's edges, as in the embedded benchmark: an object
leaving on the right comes back on the left, so its position in any one frame is uniform whatever its
direction of motion, and a single frame cannot tell directions apart.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def to_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def crop_resized(image: Image.Image, box: tuple[float, float, float, float], size: tuple[int, int]) -> np.ndarray:
    """`box` (x0, y0, x1, y1, source pixels) of `image` resized to `size` (height, width) with an area filter."""
    h, w = size
    return to_array(image.resize((w, h), Image.Resampling.BOX, box=box))


def bilinear(picture: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """`picture` (h, w, c) at fractional coordinates; outside it, zero (so a sprite's alpha fades at its edge)."""
    h, w = picture.shape[:2]
    padded = np.zeros((h + 2, w + 2, picture.shape[2]), dtype=np.float32)
    padded[1:-1, 1:-1] = picture
    ys, xs = np.clip(ys + 1, 0, h + 0.999), np.clip(xs + 1, 0, w + 0.999)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h + 1), np.minimum(x0 + 1, w + 1)
    fy, fx = (ys - y0)[..., None], (xs - x0)[..., None]
    top = padded[y0, x0] * (1 - fx) + padded[y0, x1] * fx
    bottom = padded[y1, x0] * (1 - fx) + padded[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def shifted(picture: np.ndarray, dy: float, dx: float, size: tuple[int, int]) -> np.ndarray:
    """The `size` window of `picture` whose top-left corner is at (dy, dx) >= 0: a camera pan by fractions of a pixel."""
    h, w = size
    y0, x0 = int(dy), int(dx)
    fy, fx = dy - y0, dx - x0
    win = picture[y0:y0 + h + 1, x0:x0 + w + 1]
    top = win[:h, :w] * (1 - fx) + win[:h, 1:w + 1] * fx
    bottom = win[1:h + 1, :w] * (1 - fx) + win[1:h + 1, 1:w + 1] * fx
    return top * (1 - fy) + bottom * fy


def torus_offsets(size: tuple[int, int], cx: float, cy: float) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel's offset from (cx, cy) the short way round a frame whose edges wrap."""
    h, w = size
    xs, ys = np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)
    return ((xs - cx + w / 2) % w - w / 2)[None, :].repeat(h, 0), ((ys - cy + h / 2) % h - h / 2)[:, None].repeat(w, 1)


def _around(centre: float, reach: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """The pixel indices within `reach` of `centre` on a wrapping axis, and their offsets from it."""
    if 2 * reach + 1 >= length:
        idx = np.arange(length)
        return idx, ((idx - centre + length / 2) % length - length / 2).astype(np.float32)
    first = int(np.floor(centre)) - reach
    steps = np.arange(first, first + 2 * reach + 2)
    return steps % length, (steps - centre).astype(np.float32)


def paste(frame: np.ndarray, sprite: np.ndarray, cx: float, cy: float, angle: float = 0.0, scale: float = 1.0,
          opacity: float = 1.0) -> None:
    """Blend `sprite` (s_h, s_w, 4: RGB and alpha) into `frame` in place, centred at (cx, cy) on the torus,
    turned by `angle` (radians, clockwise on screen) and magnified by `scale`. Only the pixels the sprite
    can reach are computed."""
    sh, sw = sprite.shape[:2]
    reach = int(np.ceil(scale * np.hypot(sh, sw) / 2)) + 1
    rows, oy = _around(cy, reach, frame.shape[0])
    cols, ox = _around(cx, reach, frame.shape[1])
    dx, dy = ox[None, :], oy[:, None]
    cos, sin = np.cos(angle), np.sin(angle)
    u = (cos * dx + sin * dy) / scale  # the inverse rotation: where this pixel falls in the upright sprite
    v = (-sin * dx + cos * dy) / scale
    sampled = bilinear(sprite, v + (sh - 1) / 2, u + (sw - 1) / 2)
    alpha = opacity * np.clip(sampled[..., 3:4], 0.0, 1.0)
    window = np.ix_(rows, cols)
    frame[window] = frame[window] * (1.0 - alpha) + alpha * sampled[..., :3]


def disk_alpha(size: int, soft: float = 1.0) -> np.ndarray:
    """An antialiased disk filling a size × size square."""
    c = (size - 1) / 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    r = np.hypot(xs - c, ys - c)
    return np.clip((size / 2 - r) / soft, 0.0, 1.0)


def with_alpha(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.concatenate([rgb, alpha[..., None]], axis=-1).astype(np.float32)


def to_uint8(frames: np.ndarray) -> np.ndarray:
    return np.round(np.clip(frames, 0.0, 1.0) * 255.0).astype(np.uint8)
