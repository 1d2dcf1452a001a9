"""Clips as pictures (Pillow): labelled strips of frames with coloured boxes, and animated GIFs.

A strip shows rows of T frames side by side (one row per clip: the real clip, a generated one, its
motion); an animation shows, at time t, frame t of every row next to each other. Small frames are
enlarged (nearest neighbour, so pixels stay visible). Files are written atomically.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..io import atomic_write_bytes, png_bytes

GAP = 4
LABEL_WIDTH = 190  # pixels left of a strip's rows for their labels
MIN_FRAME = 64  # frames are enlarged until their short side is at least this (strips); twice that in GIFs
GIF_MS = 160  # per frame: 16 frames ≈ 2.6 s, slow enough to follow one object
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
RIGHT, WRONG, SELECTED = (0, 170, 60), (220, 30, 30), (255, 190, 0)


def font(size: int = 12) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def to_frames(clip: torch.Tensor) -> np.ndarray:
    """A clip (3, T, H, W), float in [0, 1] or uint8, as uint8 frames (T, H, W, 3)."""
    clip = clip.detach().cpu()
    if clip.dtype != torch.uint8:
        clip = (clip.float().clamp(0, 1) * 255).round().to(torch.uint8)
    return clip.permute(1, 2, 3, 0).contiguous().numpy()


def motion_magnitude(clip: torch.Tensor) -> torch.Tensor:
    """|x_t − x_{t−1}| per pixel (max over colour channels), (T, H, W) float; frame 0 has no predecessor: 0."""
    clip = clip.detach().cpu().float()
    if clip.max() > 1.5:  # uint8 range
        clip = clip / 255.0
    diff = (clip[:, 1:] - clip[:, :-1]).abs().amax(dim=0)
    return torch.cat([torch.zeros_like(diff[:1]), diff], dim=0)


def motion_frames(magnitude: torch.Tensor, scale: float) -> np.ndarray:
    """Motion magnitudes (T, H, W) as grey frames (T, H, W, 3): white = `scale` or more, black = still.

    Two clips drawn with the same `scale` are comparable (a generated clip's motion next to the real one's).
    """
    grey = (magnitude / max(scale, 1e-6)).clamp(0, 1).mul(255).round().to(torch.uint8).numpy()
    return np.repeat(grey[..., None], 3, axis=-1)


@dataclass
class Row:
    """One row of a strip: a label and T frames; `boxes` maps frame index → RGB box colour."""

    label: str
    frames: np.ndarray  # (T, H, W, 3) uint8
    boxes: dict[int, tuple[int, int, int]] = field(default_factory=dict)


def enlargement(height: int, width: int, minimum: int = MIN_FRAME) -> int:
    """Integer factor bringing the short side to at least `minimum` (1 for frames already that large)."""
    return max(1, -(-minimum // max(1, min(height, width))))


def _frame_image(frame: np.ndarray, factor: int, box: tuple[int, int, int] | None) -> Image.Image:
    image = Image.fromarray(frame).resize((frame.shape[1] * factor, frame.shape[0] * factor), Image.NEAREST)
    if box is not None:
        thickness = max(3, image.width // 20)
        ImageDraw.Draw(image).rectangle([0, 0, image.width - 1, image.height - 1], outline=box, width=thickness)
    return image


def _text_lines(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, size: int, width: int) -> None:
    """Text wrapped at `width` pixels, drawn from `xy` downwards."""
    f = font(size)
    x, y = xy
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=f) > width:
            draw.text((x, y), line, fill=INK, font=f)
            y += size + 3
            line = word
        else:
            line = candidate
    if line:
        draw.text((x, y), line, fill=INK, font=f)


def strip(rows: list[Row], title: str = "") -> Image.Image:
    """Rows of frames, labelled on the left, frame numbers on top, `title` above everything."""
    t, h, w, _ = rows[0].frames.shape
    factor = enlargement(h, w)
    fh, fw = h * factor, w * factor
    title_h = 44 if title else 0
    top = title_h + 18  # frame numbers
    width = LABEL_WIDTH + t * (fw + GAP)
    height = top + len(rows) * (fh + GAP)
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    if title:
        _text_lines(draw, (6, 4), title, 13, width - 12)
    for j in range(t):
        draw.text((LABEL_WIDTH + j * (fw + GAP) + fw // 2, title_h + 2), str(j), fill=INK, font=font(11), anchor="mt")
    for i, row in enumerate(rows):
        y = top + i * (fh + GAP)
        _text_lines(draw, (6, y + 4), row.label, 12, LABEL_WIDTH - 12)
        for j in range(t):
            image.paste(_frame_image(row.frames[j], factor, row.boxes.get(j)), (LABEL_WIDTH + j * (fw + GAP), y))
    return image


def animation(rows: list[Row], title: str = "") -> list[Image.Image]:
    """One image per time step t: frame t of every row side by side, each under its label.

    A frame counter makes consecutive images differ, so a GIF keeps exactly T frames (Pillow merges
    identical consecutive frames, which would happen for a replicated clip).
    """
    t, h, w, _ = rows[0].frames.shape
    factor = enlargement(h, w, 2 * MIN_FRAME)
    fh, fw = h * factor, w * factor
    cell = max(fw, 150)
    title_h = 40 if title else 0
    label_h = 34
    width = len(rows) * (cell + GAP) + GAP
    height = title_h + label_h + fh + 22
    images = []
    for j in range(t):
        image = Image.new("RGB", (width, height), BACKGROUND)
        draw = ImageDraw.Draw(image)
        if title:
            _text_lines(draw, (6, 4), title, 12, width - 12)
        for i, row in enumerate(rows):
            x = GAP + i * (cell + GAP)
            _text_lines(draw, (x, title_h + 2), row.label, 11, cell)
            image.paste(_frame_image(row.frames[j], factor, row.boxes.get(j)), (x + (cell - fw) // 2, title_h + label_h))
        draw.text((width // 2, height - 4), f"frame {j}", fill=INK, font=font(11), anchor="mb")
        images.append(image)
    return images


def write_png(image: Image.Image, path: str | Path) -> Path:
    atomic_write_bytes(path, png_bytes(image))
    return Path(path)


def write_gif(images: list[Image.Image], path: str | Path, duration_ms: int = GIF_MS) -> Path:
    """An animated GIF that loops forever."""
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)
