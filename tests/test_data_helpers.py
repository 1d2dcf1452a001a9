"""Tiny real video files for the data tests, with the frame number readable from every frame.

Frame i is a flat colour (R, G, B) = (16 + 16·(i mod 14), 16 + 16·(i div 14), 128) plus a fixed ±8
texture: the number survives codec loss (levels 16 apart), resizing and cropping, since it is read from
the channel means. MPEG-4 part 2 goes in .avi (as UCF101 and HMDB51 ship), H.264 in .mp4 (Kinetics),
VP9 in .webm (Something-Something v2); `codec="libx265"` writes HEVC (this libx265 crashes the process
on frames narrower than 64 pixels, so HEVC tests use wider ones).
"""

from __future__ import annotations

import fractions
from pathlib import Path

import av
import numpy as np
import torch

from motionprobe.config import Config, preset

CODECS = {".avi": "mpeg4", ".mp4": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9"}
OPTIONS = {"mpeg4": {"qmin": "1", "qmax": "2"}, "libx264": {"crf": "8", "bf": "2"},
           "libx265": {"crf": "8", "x265-params": "log-level=none"},
           "libvpx-vp9": {"crf": "4", "b:v": "0", "deadline": "realtime", "cpu-used": "8"}}


def frame_pixels(i: int, height: int = 30, width: int = 40) -> np.ndarray:
    texture = np.random.default_rng(7).integers(-8, 9, (height, width, 1))
    base = np.array([16 + 16 * (i % 14), 16 + 16 * (i // 14), 128])
    return np.clip(base + texture, 0, 255).astype(np.uint8)


def write_video(path: Path, frames: int = 20, width: int = 40, height: int = 30, gop: int = 5,
                pts: list[int] | None = None, codec: str | None = None, pictures=None,
                rotation: int | None = None, hflip: bool = False, sar: fractions.Fraction | None = None) -> Path:
    """Encode `frames` numbered frames; `pts` (milliseconds) makes a variable-frame-rate file.

    `pictures(i)` replaces the numbered frames with its own (height, width, 3) uint8 pictures;
    `rotation` (degrees counter-clockwise, PyAV's convention) and `hflip` write a display matrix;
    `sar` a sample aspect ratio (non-square pixels)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = codec or CODECS[path.suffix]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=25, options=OPTIONS[codec])
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.gop_size = gop
        if sar is not None:
            stream.codec_context.sample_aspect_ratio = sar
        if rotation is not None or hflip:
            stream.set_display_rotation(rotation or 0, hflip=hflip)
        if pts is not None:
            stream.codec_context.time_base = fractions.Fraction(1, 1000)
        for i in range(frames):
            picture = pictures(i) if pictures is not None else frame_pixels(i, height, width)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
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
    cfg = cfg.evolve(data={"dataset": dataset, "root": str(root)})
    cfg = cfg.evolve(data={"resize": (30, 40), "crop_size": 24, "num_frames": 8})
    for key, value in data.items():
        cfg = cfg.evolve(data={key: value})
    return cfg
