"""(c) Loading an evaluation clip from the frame cache vs decoding it from its video (paper transform).

A few videos at UCF101's size (320×240, 25 fps, MPEG-4 part 2 in AVI, a keyframe every 12 frames, as
`motionprobe data export-synthetic` writes them) are laid out as UCF101 in a temporary folder and cached
with `build_cache`. Then the same dataset (paper preset: resize to 128×171, centre crop 112, 16
frames) loads every test clip, alternately decoding (seek, decode, colour-convert and resize with
PyAV) and from the cache (a memory-mapped .npy slice). The two give the same clips; the largest pixel
difference is reported.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from motionprobe.config import preset
from motionprobe.data import build_dataset
from motionprobe.data.cache import CacheTask, build_cache
from motionprobe.data.export import encode_avi
from motionprobe.data.layouts.dataset import transform_for
from motionprobe.io import atomic_write_bytes, atomic_write_text

from .common import Figure, alternate, median, spread

TARGET = 10.0
CLASSES = ("Drift", "Pulse")


def moving_pattern(frames: int, height: int, width: int, seed: int) -> np.ndarray:
    """uint8 (T, H, W, 3): a textured background drifting sideways plus a bright disk crossing it."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(40, 200, size=(height // 8 + 1, width // 8 + 2, 3)).repeat(8, 0).repeat(8, 1)
    yy, xx = np.mgrid[:height, :width]
    out = np.empty((frames, height, width, 3), dtype=np.uint8)
    for t in range(frames):
        shift = t % 8
        frame = texture[:height, shift:shift + width].astype(np.float32)
        disk = (yy - height / 2) ** 2 + (xx - (t * 7) % width) ** 2 < (height / 6) ** 2
        frame[disk] = (255, 230, 60)
        out[t] = frame
    return out


def write_videos(root: Path, per_class: int, frames: int, height: int, width: int) -> None:
    """`per_class` test videos per class under root/UCF-101, with UCF101's list files."""
    test_lines = []
    for c, name in enumerate(CLASSES):
        for j in range(per_class):
            rel = f"{name}/v_{name}_g{j + 1:02d}_c01.avi"
            atomic_write_bytes(root / "UCF-101" / rel, encode_avi(moving_pattern(frames, height, width, 10 * c + j)))
            test_lines.append(rel)
    lists = root / "ucfTrainTestlist"
    atomic_write_text(lists / "classInd.txt", "".join(f"{i + 1} {n}\n" for i, n in enumerate(CLASSES)))
    atomic_write_text(lists / "testlist01.txt", "".join(f"{line}\n" for line in test_lines))
    atomic_write_text(lists / "trainlist01.txt", "".join(f"{line} {CLASSES.index(line.split('/')[0]) + 1}\n"
                                                          for line in test_lines))


def run(quick: bool = False) -> Figure:
    # UCF101 videos are 320×240 and 7.2 s (~180 frames at 25 fps) on average.
    per_class, frames, (height, width), rounds = (1, 40, (120, 160), 1) if quick else (3, 180, (240, 320), 3)
    with tempfile.TemporaryDirectory(prefix="motionprobe-bench-") as tmp:
        root = Path(tmp) / "ucf"
        write_videos(root, per_class, frames, height, width)
        cfg = preset("paper")
        cfg.data.dataset, cfg.data.root = "ucf101", str(root)
        decoded = build_dataset(cfg, "test", training=False)
        tasks = [CacheTask(str(decoded.root / r.path), r.path) for r in decoded.records]
        build_cache(tasks, Path(tmp) / "cache", transform_for(cfg, training=False), root=str(root), workers=1,
                    progress=False)
        cfg.data.cache = str(Path(tmp) / "cache")
        cached = build_dataset(cfg, "test", training=False)
        n = len(decoded)

        def load_all(dataset) -> list[torch.Tensor]:
            return [dataset[i]["clip"] for i in range(n)]

        times = alternate({"decode": lambda: load_all(decoded), "cache": lambda: load_all(cached)}, rounds)
        worst = max(int((a.int() - b.int()).abs().max()) for a, b in zip(load_all(decoded), load_all(cached), strict=True))
        clip_shape = list(cached[0]["clip"].shape)
    return Figure(key="cache_vs_decode", title="load a clip: frame cache vs decoding the video (paper transform)",
                  ratio=median(times["decode"]) / median(times["cache"]), target=TARGET, rule="at_least",
                  detail={"decode_clips_per_s": round(n / median(times["decode"]), 1),
                          "cache_clips_per_s": round(n / median(times["cache"]), 1),
                          "round_ratios": spread(times["decode"], times["cache"]), "rounds": rounds, "videos": n,
                          "video": f"{width}x{height}, {frames} frames, mpeg4 avi", "clip_shape": clip_shape,
                          "max_abs_pixel_diff": worst})
