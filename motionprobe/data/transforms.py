"""Clip preprocessing on uint8 frames: resize, crop, light augmentation.

The C3D protocol (Tran et al. 2015) resizes every frame to 128×171 (H×W, whatever the aspect) and
crops 112×112: at the center for evaluation, at random for training. ``resize_mode="short_side"`` is
the variant of ResNet-style video models: scale so the short side is ``resize[0]``, keeping the
aspect, then crop.

The transform works in two steps so the frame cache can store the first: the resize to
`target_size` (deterministic, per frame, what `motionprobe data cache` writes) and `finish` (crop,
optional flip, channels first). A clip read from the cache and one decoded on the fly therefore come
out equal. Videos are resized by the decoder while it converts to RGB (data/video.py: ~20× faster than
resizing afterwards); `resize_frames` / `resize` do the same job for frames that are already tensors.

Horizontal flipping is off by default: it turns "moves right" into "moves left", and classes defined
by a direction (the embedded benchmark has four) would be mislabelled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

RESIZE_MODES = ("fixed", "short_side")  # the choices of data.resize_mode
MAX_SIDE = 4096  # the largest frame side accepted (data.crop_size, data.resize)
_CHUNK = 32  # frames resized at a time: bounds the float buffer for long videos


@dataclass(frozen=True)
class ClipTransform:
    resize: tuple[int, int] = (128, 171)
    crop: int = 112
    resize_mode: str = "fixed"
    training: bool = False
    hflip: bool = False

    def __post_init__(self) -> None:
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(f"resize_mode must be one of {', '.join(RESIZE_MODES)}, got {self.resize_mode!r}")
        if self.crop > min(self.resize):
            raise ValueError(f"crop {self.crop} is larger than the resized frame {self.resize}")

    def preprocessing_key(self) -> dict:
        """What the cached frames depend on (not crop or augmentation: those happen after the cache)."""
        return {"resize": list(self.resize), "resize_mode": self.resize_mode}

    def to_dict(self) -> dict:
        return asdict(self)

    def target_size(self, height: int, width: int) -> tuple[int, int]:
        if self.resize_mode == "fixed":
            return self.resize
        short = self.resize[0]
        if height <= width:
            return short, max(short, round(width * short / height))
        return max(short, round(height * short / width)), short

    def resize_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 (T, H, W, 3) → uint8 (T, h, w, 3) at `target_size`."""
        return resize(frames, self.target_size(frames.shape[1], frames.shape[2]))

    def finish(self, frames: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Resized uint8 (T, h, w, 3) → cropped uint8 clip (3, T, crop, crop)."""
        if self.training:
            frames = random_crop(frames, self.crop, generator)
            if self.hflip and torch.rand((), generator=generator).item() < 0.5:
                frames = frames.flip(2)
        else:
            frames = center_crop(frames, self.crop)
        return frames.permute(3, 0, 1, 2).contiguous()

    def __call__(self, frames: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.finish(self.resize_frames(frames), generator)


def resize(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear, antialiased resize of uint8 (T, H, W, 3) frames; each frame independently."""
    if frames.dtype != torch.uint8 or frames.dim() != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames (T, H, W, 3), got {frames.dtype} {tuple(frames.shape)}")
    if tuple(frames.shape[1:3]) == tuple(size):
        return frames
    out = []
    for chunk in frames.split(_CHUNK):
        x = chunk.permute(0, 3, 1, 2).float()
        y = F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False, antialias=True)
        out.append(y.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1))
    return torch.cat(out).contiguous()


def center_crop(frames: torch.Tensor, size: int) -> torch.Tensor:
    """The central size×size window of (T, H, W, C) frames (rounding toward the top left)."""
    h, w = frames.shape[1:3]
    top, left = (h - size) // 2, (w - size) // 2
    return frames[:, top:top + size, left:left + size]


def random_crop(frames: torch.Tensor, size: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """One size×size window of (T, H, W, C) frames, the same for every frame of the clip."""
    h, w = frames.shape[1:3]
    top = int(torch.randint(0, h - size + 1, (1,), generator=generator).item())
    left = int(torch.randint(0, w - size + 1, (1,), generator=generator).item())
    return frames[:, top:top + size, left:left + size]
