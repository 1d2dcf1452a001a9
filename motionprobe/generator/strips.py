"""Sample strips for watching a generator train: per clip, three rows of T frames —
the given frames at their positions (grey elsewhere), the generated clip, the real clip."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

GAP = 2  # pixels between frames and between clips
GREY = 0.5


def strip_image(given: Tensor, indices: Tensor, generated: Tensor, real: Tensor) -> np.ndarray:
    """uint8 (height, width, 3) image; inputs are [0, 1] floats: given (B, 3, k, H, W), indices (B, k),
    generated and real (B, 3, T, H, W)."""
    b, _, t, h, w = real.shape
    placed = torch.full_like(real, GREY)
    for i in range(b):
        placed[i, :, indices[i].cpu()] = given[i].to(placed)
    rows = []
    for i in range(b):
        for clip in (placed[i], generated[i], real[i]):
            frames = clip.detach().float().cpu().clamp(0, 1).permute(1, 2, 3, 0).numpy()  # T, H, W, 3
            row = np.ones((h, t * (w + GAP) - GAP, 3), dtype=np.float32)
            for j in range(t):
                row[:, j * (w + GAP): j * (w + GAP) + w] = frames[j]
            rows += [row, np.ones((GAP // 2, row.shape[1], 3), dtype=np.float32)]
        rows.append(np.ones((GAP * 2, rows[-1].shape[1], 3), dtype=np.float32))
    image = np.concatenate(rows[:-1], axis=0)
    scale = max(1, 64 // h)  # small benchmark frames are enlarged so they can be seen
    image = image.repeat(scale, axis=0).repeat(scale, axis=1)
    return (image * 255).round().astype(np.uint8)
