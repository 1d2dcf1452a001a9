"""Tiny real video files for the data tests, with the frame number readable from every frame.

Frame i is a flat colour (R, G, B) = (16 + 16·(i mod 14), 16 + 16·(i div 14), 128) plus a fixed ±8
texture: the number survives codec loss (levels 16 apart), resizing and cropping, since it is read from
the channel means. MPEG-4 part 2 goes in .avi (as UCF101 and HMDB51 ship), H.264 in .mp4 (Kinetics).
"""

from __future__ import annotations

import fractions
from pathlib import Path

import av
import numpy as np
import torch

from motionprobe.config import Config, preset

CODECS = {".avi": "mpeg4", ".mp4": "libx264", ".mkv": "libx264"}


def frame_pixels(i: int, height: int = 30, width: int = 40) -> np.ndarray:
    texture = np.random.default_rng(7).integers(-8, 9, (height, width, 1))
    base = np.array([16 + 16 * (i % 14), 16 + 16 * (i // 14), 128])
    return np.clip(base + texture, 0, 255).astype(np.uint8)


def write_video(path: Path, frames: int = 20, width: int = 40, height: int = 30, gop: int = 5,
                pts: list[int] | None = None) -> Path:
    """Encode `frames` numbered frames; `pts` (milliseconds) makes a variable-frame-rate file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = CODECS[path.suffix]
    options = {"qmin": "1", "qmax": "2"} if codec == "mpeg4" else {"crf": "8", "bf": "2"}
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=25, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.gop_size = gop
        if pts is not None:
            stream.codec_context.time_base = fractions.Fraction(1, 1000)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(frame_pixels(i, height, width), format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[i], fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def frame_numbers(frames: torch.Tensor | np.ndarray, layout: str = "THWC") -> list[int]:
    """Read back the frame numbers of decoded frames (T, H, W, 3) or a clip (3, T, H, W)."""
    x = torch.as_tensor(np.asarray(frames)).float()
    if layout == "CTHW":
        x = x.permute(1, 2, 3, 0)
    means = x.mean(dim=(1, 2))
    r = torch.round((means[:, 0] - 16) / 16).long()
    g = torch.round((means[:, 1] - 16) / 16).long()
    return (r + 14 * g).tolist()


def video_cfg(dataset: str, root: Path, **data) -> Config:
    """A small config for the file layouts: 40×30 videos, no resize, 24-pixel crops, 8-frame clips."""
    cfg = preset("tiny")
    cfg.data.dataset, cfg.data.root = dataset, str(root)
    cfg.data.resize, cfg.data.crop_size, cfg.data.num_frames = (30, 40), 24, 8
    for key, value in data.items():
        setattr(cfg.data, key, value)
    return cfg
