"""Planted-truth datasets written as real video files in a real layout, with their truth file.

They are the project's test of generalisation: the embedded benchmark (motionprobe/data/synthetic.py) is
what the defaults were tuned on; these differ from it, and from each other, in content, frame size, video
length, codec and file layout. One is for tuning, the other is held out and reported once:

    photo (tuning)    photographed cut-outs over photographed textures, panning camera; 64 × 48; 24–48 frames;
                      UCF101 layout, MPEG-4 .avi; 11 classes (3 appearance, 4 motion, 2 keyframe, 2 implied);
                      50 training and 14 test videos a class
    glyph (held out)  printed characters on cluttered noisy gradients, shaking camera; 40 × 56; 10–40 frames
                      (3 in 10 shorter than a clip); HMDB51 layout, H.264 .mp4; 13 classes (4 appearance,
                      4 motion, 3 keyframe, 2 implied); 40 training, 12 test and 2 unused videos a class

    python -m benchmarks.planted_sets photo --out /data/planted/photo     # or glyph; --seed, --train-per-class ...

They live here, beside the benchmark that reads them, rather than in the package: they are fixtures for
measuring motionprobe, and the photo set needs scikit-learn's sample photographs (the `bench` extra),
which motionprobe itself does not. Each video is drawn from its own generator seeded by (seed, set, split,
class, index), so a set is deterministic from its seed and any video can be drawn alone. Its truth.json
records per video its split, class, kind, length, key frames, and the start and velocity of the class's
object (its centre at frame t is start + velocity · t, wrapped around the frame), plus what else was drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import glyph, photo

Render = Callable[..., tuple[np.ndarray, dict]]  # (label, generator, length=None) → uint8 (T, H, W, 3), planted


@dataclass(frozen=True)
class PlantedSet:
    name: str
    code: int  # enters every video's seed, so two sets never share draws
    classes: tuple[str, ...]
    kinds: dict[str, str]
    truth: dict[str, str]
    render: Render
    size: tuple[int, int]  # height, width
    layout: str  # a motionprobe --dataset that reads what `write` makes
    train_per_class: int
    test_per_class: int
    unused_per_class: int = 0  # videos the split files list as unused (HMDB51's tag 0)


SETS = {
    "photo": PlantedSet("photo", 1, photo.CLASSES, photo.KIND, photo.TRUTH, photo.render, photo.SIZE, "ucf101",
                        train_per_class=50, test_per_class=14),
    "glyph": PlantedSet("glyph", 2, glyph.CLASSES, glyph.KIND, glyph.TRUTH, glyph.render, glyph.SIZE, "hmdb51",
                        train_per_class=40, test_per_class=12, unused_per_class=2),
}
SPLIT_CODES = {"train": 1, "test": 2, "unused": 3}


def draw(planted: PlantedSet, seed: int, split: str, label: int, index: int,
         length: int | None = None) -> tuple[np.ndarray, dict]:
    """Video `index` of class `label` in `split`: its frames and what was planted in it (`length` frames: tests)."""
    rng = np.random.default_rng([seed, planted.code, SPLIT_CODES[split], label, index])
    return planted.render(label, rng, length)
