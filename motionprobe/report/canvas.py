"""Clips as pictures (Pillow): labelled strips of frames with coloured boxes, and animated GIFs.

A strip shows rows of T frames side by side (one row per clip: the real clip, a generated one, its
motion); an animation shows, at time t, frame t of every row next to each other. Small frames (the
benchmark's 32×32) are enlarged by an integer factor, nearest neighbour, so pixels stay visible; real
video frames are shrunk to a readable size that fits the page, aspect ratio kept (`display_size`).
Files are written atomically.
"""

from __future__ import annotations

import functools
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
MAX_FRAME = 128  # larger frames are shrunk to this height in strips; twice that in GIFs
MAX_STRIP_WIDTH = 2400  # a strip's T frames and labels fit in this many pixels (a page shows it whole)
MAX_GIF_CELL = 360  # widest frame in an animation
GIF_MS = 160  # per frame: a clip plays slowly enough to follow one object
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
RIGHT, WRONG, SELECTED = (0, 170, 60), (220, 30, 30), (255, 190, 0)


@functools.lru_cache(maxsize=16)
def font(size: int = 12) -> ImageFont.ImageFont:
    """DejaVu Sans, which matplotlib ships: Pillow's own default font draws only ASCII, and class names,
    dashes and minus signs are not."""
    from matplotlib import font_manager

    try:
        return ImageFont.truetype(font_manager.findfont("DejaVu Sans", fallback_to_default=True), size)
    except OSError:
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
    """One row of a strip: a label and T frames; `boxes` maps frame index → RGB box colour, `marks` frame
    index → a short text drawn in the frame's corner (e.g. which original frame a probe shows there)."""

    label: str
    frames: np.ndarray  # (T, H, W, 3) uint8
    boxes: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    marks: dict[int, str] = field(default_factory=dict)


def display_size(height: int, width: int, *, minimum: int = MIN_FRAME, max_height: int = MAX_FRAME,
                 max_width: int | None = None) -> tuple[int, int]:
    """(height, width) a frame is drawn at, aspect ratio kept.

    A frame whose short side is under `minimum` is enlarged by the integer factor that brings it there
    (pixels stay square and visible); a larger one is shrunk until its height is at most `max_height`
    and its width at most `max_width`.

    >>> display_size(32, 32)            # the embedded benchmark's frames: ×2
    (64, 64)
    >>> display_size(240, 320, max_width=134)   # a QVGA video frame in a 16-frame strip
    (100, 134)
    """
    max_width = max_width or 4 * max_height
    factor = -(-minimum // max(1, min(height, width)))
    if factor > 1:
        factor = max(1, min(factor, max_width // max(1, width), max_height // max(1, height)))
        return height * factor, width * factor
    scale = min(1.0, max_height / height, max_width / width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def strip_frame_size(height: int, width: int, frames: int) -> tuple[int, int]:
    """The size of each of a strip's `frames` frames: all of them fit in MAX_STRIP_WIDTH beside the labels."""
    budget = max(16, (MAX_STRIP_WIDTH - LABEL_WIDTH) // max(1, frames) - GAP)
    return display_size(height, width, max_width=budget)


def _frame_image(frame: np.ndarray, size: tuple[int, int], box: tuple[int, int, int] | None,
                 mark: str | None = None) -> Image.Image:
    """A frame at `size` (h, w): enlarged with nearest neighbour, shrunk with Lanczos; boxed; `mark` in a corner."""
    h, w = size
    image = Image.fromarray(frame)
    if (h, w) != frame.shape[:2]:
        image = image.resize((w, h), Image.NEAREST if h >= frame.shape[0] else Image.LANCZOS)
    draw = ImageDraw.Draw(image)
    if mark:
        f = font(max(9, min(14, h // 6)))
        left, top, right, bottom = draw.textbbox((3, 2), mark, font=f)
        draw.rectangle([left - 2, top - 1, right + 2, bottom + 1], fill=BACKGROUND)
        draw.text((3, 2), mark, fill=INK, font=f)
    if box is not None:
        thickness = max(3, image.width // 20)
        draw.rectangle([0, 0, image.width - 1, image.height - 1], outline=box, width=thickness)
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
    fh, fw = strip_frame_size(h, w, t)
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
            image.paste(_frame_image(row.frames[j], (fh, fw), row.boxes.get(j), row.marks.get(j)),
                        (LABEL_WIDTH + j * (fw + GAP), y))
    return image


def animation(rows: list[Row], title: str = "") -> list[Image.Image]:
    """One image per time step t: frame t of every row side by side, each under its label.

    A frame counter makes consecutive images differ, so a GIF keeps exactly T frames (Pillow merges
    identical consecutive frames, which would happen for a replicated clip).
    """
    t, h, w, _ = rows[0].frames.shape
    fh, fw = display_size(h, w, minimum=2 * MIN_FRAME, max_height=2 * MAX_FRAME, max_width=MAX_GIF_CELL)
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
            image.paste(_frame_image(row.frames[j], (fh, fw), row.boxes.get(j), row.marks.get(j)),
                        (x + (cell - fw) // 2, title_h + label_h))
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
