"""(c) Loading an evaluation clip from the frame cache vs decoding it from its video (paper transform).

A few videos at UCF101's size (320×240, 25 fps, MPEG-4 part 2 in AVI, a keyframe every 12 frames, as
`motionprobe data export-synthetic` writes them; setups.write_videos) are laid out as UCF101 in a temporary
folder and cached with `build_cache`. Then the same dataset (paper preset: resize to 128×171, centre crop 112, 16
frames) loads every test clip, alternately decoding (seek, decode, colour-convert and resize with
PyAV) and from the cache (a memory-mapped .npy slice; `cache_passes` loads of every clip per timed call,
since one pass takes milliseconds, too short to time on a shared machine). The two give the same clips;
the largest pixel difference is reported.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from motionprobe.config import preset
from motionprobe.data import build_dataset
from motionprobe.data.cache import CacheTask, build_cache
from motionprobe.data.layouts.dataset import transform_for

from .common import Figure, alternate, median, spread
from .setups import UCF101_FRAME, write_videos

TARGET = 10.0


@dataclass(frozen=True)
class Sizes:
    per_class: int
    frames: int  # UCF101 videos are 7.2 s (~180 frames at 25 fps) on average
    rounds: int
    cache_passes: int  # loads of every clip per timed call from the cache: one pass takes milliseconds


SIZES = {"full": Sizes(per_class=3, frames=180, rounds=3, cache_passes=20),
         "quick": Sizes(per_class=1, frames=40, rounds=1, cache_passes=2)}


def run(quick: bool = False) -> list[Figure]:
    sizes = SIZES["quick" if quick else "full"]
    height, width = UCF101_FRAME
    with tempfile.TemporaryDirectory(prefix="motionprobe-bench-") as tmp:
        root = Path(tmp) / "ucf"
        write_videos(root, sizes.per_class, sizes.frames, height, width)
        cfg = preset("paper")
        cfg = cfg.evolve(data={"dataset": "ucf101", "root": str(root)})
        decoded = build_dataset(cfg.data, "test", training=False, seed=cfg.seed)
        tasks = [CacheTask(str(decoded.root / r.path), r.path) for r in decoded.records]
        build_cache(tasks, Path(tmp) / "cache", transform_for(cfg.data, training=False), root=str(root), workers=1,
                    progress=False)
        cfg = cfg.evolve(data={"cache": str(Path(tmp) / "cache")})
        cached = build_dataset(cfg.data, "test", training=False, seed=cfg.seed)
        n = len(decoded)

        def load_all(dataset, passes: int = 1) -> list[torch.Tensor]:
            return [dataset[i]["clip"] for _ in range(passes) for i in range(n)]

        times = alternate({"decode": lambda: load_all(decoded),
                           "cache": lambda: load_all(cached, sizes.cache_passes)}, sizes.rounds)
        times["cache"] = [t / sizes.cache_passes for t in times["cache"]]  # seconds per pass, as decode's
        worst = max(int((a.int() - b.int()).abs().max()) for a, b in zip(load_all(decoded), load_all(cached), strict=True))
        clip_shape = list(cached[0]["clip"].shape)
    return [Figure(key="cache_vs_decode", title="load a clip: frame cache vs decoding the video (paper transform)",
                   ratio=median(times["decode"]) / median(times["cache"]), target=TARGET, rule="at_least",
                   detail={"decode_clips_per_s": round(n / median(times["decode"]), 1),
                           "cache_clips_per_s": round(n / median(times["cache"]), 1),
                           "round_ratios": spread(times["decode"], times["cache"]), "rounds": sizes.rounds,
                           "videos": n, "cache_passes_per_call": sizes.cache_passes,
                           "video": f"{width}x{height}, {sizes.frames} frames, mpeg4 avi",
                           "clip_shape": clip_shape, "max_abs_pixel_diff": worst})]
