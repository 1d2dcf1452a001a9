"""The embedded motion benchmark: procedurally drawn clips whose planted truth is known per class.

Four kinds of class, all on a textured background that pans with a random, class-independent
camera motion, with pixel noise:

- *appearance* (red, green, blue): the object's colour decides (its shape is random: disk, square or
  triangle); it drifts in a random direction at a random speed that does not depend on the class.
  Any single frame shows the class.
- *motion* (drift_right, drift_left, drift_up, drift_down): every class draws the same object (a grey
  cross, 4-fold symmetric) at a uniformly random position. Positions wrap around the frame (a torus),
  so every frame's position is uniform whatever the direction: a single frame is at chance inside the
  group; only how the cross moves decides.
- *key-frame* (flash_yellow, flash_cyan, flash_magenta): a grey ring drifts at random; in 2 consecutive
  frames at a random place in the clip it becomes a large square of the class's colour. Which frame is
  kept matters; motion does not.
- *implied motion* (trail_right, trail_left): a small grey disk moves left or right, drawing a fading
  trail behind it. The model learns the motion, yet every frame shows the direction in the trail:
  replicating one frame freezes the disk (a clip unlike any the model saw), while a generator that
  reads the trail can restore the motion. This is the paper's case against naive frame replication:
  the naive analysis blames motion that one frame implies.

Clip `i` of a split is drawn from its own generator seeded by (seed, split, i): deterministic, and
any clip can be drawn alone. Classes are interleaved (clip i has class i mod C), so any prefix is
balanced. `kinds=` draws a subset of the kinds (the others' classes are left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from .base import ClipDataset, StridedRead
from .registry import register_layout

if TYPE_CHECKING:
    from ..config import DataConfig

APPEARANCE = ("red", "green", "blue")
MOTION = ("drift_right", "drift_left", "drift_up", "drift_down")
KEYFRAME = ("flash_yellow", "flash_cyan", "flash_magenta")
IMPLIED = ("trail_right", "trail_left")
COLORS = {"red": (1.0, 0.15, 0.15), "green": (0.15, 1.0, 0.15), "blue": (0.2, 0.3, 1.0),
          "flash_yellow": (1.0, 1.0, 0.1), "flash_cyan": (0.1, 1.0, 1.0), "flash_magenta": (1.0, 0.1, 1.0)}
SHAPES = ("disk", "square", "triangle")
CLASSES = APPEARANCE + MOTION + KEYFRAME + IMPLIED
KIND = {**{c: "appearance" for c in APPEARANCE}, **{c: "motion" for c in MOTION},
        **{c: "keyframe" for c in KEYFRAME}, **{c: "implied" for c in IMPLIED}}
DIRECTIONS = {"drift_right": (1.0, 0.0), "drift_left": (-1.0, 0.0), "drift_up": (0.0, -1.0), "drift_down": (0.0, 1.0),
              "trail_right": (1.0, 0.0), "trail_left": (-1.0, 0.0)}
KEY_FRAMES_PER_CLIP = 2
_SPLIT_CODE = {"train": 1, "test": 2}
MEMO_BYTES = 256 * 2**20

TRUTH = {
    "appearance": "the object's colour decides; any single frame shows the class; motion is class-independent",
    "motion": "same appearance distribution within the group; only the direction of motion decides; "
              "a single frame is at chance inside the group",
    "keyframe": f"the class shows in only {KEY_FRAMES_PER_CLIP} consecutive frames of 16; "
                "which frame is kept matters, motion does not",
    "implied": "only the direction of motion decides, but every frame implies it (a fading trail behind "
               "the object): motion the model uses, yet recoverable from a single frame",
}


@dataclass
class ClipInfo:
    """What was planted in one clip (for tests and pictures)."""

    label: int
    kind: str
    velocity: tuple[float, float]
    key_frames: tuple[int, ...]


def _shape_mask(name: str, dx: np.ndarray, dy: np.ndarray, r: float) -> np.ndarray:
    if name == "disk":
        return dx**2 + dy**2 <= r**2
    if name == "square":
        return np.maximum(np.abs(dx), np.abs(dy)) <= 0.82 * r
    if name == "triangle":
        return (dy >= -r) & (dy <= 0.8 * r) & (np.abs(dx) <= (dy + r) * 0.55)
    if name == "cross":
        return ((np.abs(dx) <= r / 3) & (np.abs(dy) <= r)) | ((np.abs(dy) <= r / 3) & (np.abs(dx) <= r))
    if name == "ring":
        d2 = dx**2 + dy**2
        return (d2 <= r**2) & (d2 >= (0.55 * r) ** 2)
    raise ValueError(name)


def _draw_trail(frame: np.ndarray, dx: np.ndarray, dy: np.ndarray, velocity: np.ndarray, r: float,
                color: np.ndarray) -> None:
    """Blend a tapering trail, fading with distance, behind an object moving with `velocity` (in place)."""
    ux, uy = velocity / np.linalg.norm(velocity)
    behind = -(dx * ux + dy * uy)  # distance behind the object's centre along its motion
    across = np.abs(dx * uy - dy * ux)
    length = 2.2 * r
    fade = 1.0 - behind / length
    inside = (behind > 0) & (fade > 0) & (across <= 0.45 * r * (0.4 + 0.6 * fade))
    alpha = np.where(inside, 0.7 * fade, 0.0)[None].astype(np.float32)
    frame *= 1.0 - alpha
    frame += alpha * color[:, None, None]


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth low-contrast background, twice the frame size so it can pan (wrapping)."""
    grey = rng.uniform(0.2, 0.45, size=(1, 8, 8))
    coarse = (grey + rng.uniform(-0.04, 0.04, size=(3, 8, 8))).astype(np.float32)
    big = torch.nn.functional.interpolate(torch.from_numpy(coarse)[None], size=(2 * size, 2 * size),
                                          mode="bicubic", align_corners=False)[0]
    return big.clamp(0, 1).numpy()


def render_clip(label: int, rng: np.random.Generator, size: int = 32, num_frames: int = 16,
                keep: range | None = None) -> tuple[np.ndarray, ClipInfo]:
    """Draw one clip of class `CLASSES[label]` as float32 (3, T, size, size) in [0, 1].

    `keep` draws only those frames of the T (the same pixels as drawing all T and keeping them): a read at a
    large stride draws 1/stride of its window."""
    keep = range(num_frames) if keep is None else keep
    name = CLASSES[label]
    kind = KIND[name]
    scale = size / 32.0
    r = 6.0 * scale
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)

    background = _texture(rng, size)
    pan_angle = rng.uniform(0, 2 * np.pi)
    pan = rng.uniform(0.0, 1.0) * scale * np.array([np.cos(pan_angle), np.sin(pan_angle)])
    bx0, by0 = rng.uniform(0, size, 2)

    x0, y0 = rng.uniform(0, size, 2)
    if kind in ("motion", "implied"):
        speed = rng.uniform(1.5, 2.5) * scale
        velocity = speed * np.array(DIRECTIONS[name])
    else:
        angle = rng.uniform(0, 2 * np.pi)
        velocity = rng.uniform(0.0, 1.5) * scale * np.array([np.cos(angle), np.sin(angle)])
    if kind == "appearance":
        color = np.array(COLORS[name], dtype=np.float32) * rng.uniform(0.8, 1.0)
    else:
        color = np.full(3, rng.uniform(0.6, 0.95), dtype=np.float32)
    key_start = int(rng.integers(0, num_frames - KEY_FRAMES_PER_CLIP + 1)) if kind == "keyframe" else -1
    key_frames = tuple(range(key_start, key_start + KEY_FRAMES_PER_CLIP)) if kind == "keyframe" else ()
    shape = {"appearance": SHAPES[int(rng.integers(len(SHAPES)))], "motion": "cross", "keyframe": "ring",
             "implied": "disk"}[kind]
    head = 0.45 if kind == "implied" else 1.0  # the trail's head is smaller than the other objects

    clip = np.empty((3, len(keep), size, size), dtype=np.float32)
    for j, t in enumerate(keep):
        bx, by = (np.array([bx0, by0]) + pan * t) % size
        ix, iy = int(bx), int(by)
        frame = background[:, iy:iy + size, ix:ix + size].copy()
        cx, cy = (np.array([x0, y0]) + velocity * t) % size
        # Offsets on the torus: the object wraps around the edges instead of leaving the frame.
        dx = (xx - cx + size / 2) % size - size / 2
        dy = (yy - cy + size / 2) % size - size / 2
        if t in key_frames:
            flash = np.maximum(np.abs(dx), np.abs(dy)) <= 1.4 * r
            frame[:, flash] = np.array(COLORS[name], dtype=np.float32)[:, None]
        else:
            if kind == "implied":
                _draw_trail(frame, dx, dy, velocity, r, color)
            frame[:, _shape_mask(shape, dx, dy, head * r)] = color[:, None]
        clip[:, j] = frame
    clip += rng.normal(0.0, 0.03, (3, num_frames, size, size)).astype(np.float32)[:, keep]
    info = ClipInfo(label=label, kind=kind, velocity=(float(velocity[0]), float(velocity[1])), key_frames=key_frames)
    return np.clip(clip, 0.0, 1.0), info


class SyntheticMotionDataset(ClipDataset):
    """The embedded benchmark; `metadata["kinds"]` maps each class to its planted kind."""

    def __init__(self, split: str = "train", per_class: int = 60, size: int = 32, num_frames: int = 16, seed: int = 0,
                 kinds: tuple[str, ...] | None = None):
        if split not in _SPLIT_CODE:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        unknown = set(kinds or ()) - set(TRUTH)
        if unknown or kinds == ():
            raise ValueError(f"kinds must be some of {', '.join(TRUTH)}, got {', '.join(sorted(unknown)) or 'none'}")
        self.split, self.size, self.num_frames, self.seed = split, size, num_frames, seed
        # A subset of the kinds keeps the order of CLASSES; with all of them, labels index CLASSES itself.
        self.classes = [c for c in CLASSES if kinds is None or KIND[c] in kinds]
        self._global = [CLASSES.index(c) for c in self.classes]
        n = per_class * len(self.classes)
        self.labels = [i % len(self.classes) for i in range(n)]
        self.ids = [f"synthetic/{split}/{i:06d}" for i in range(n)]
        # Small clips are kept once drawn (the tiny preset's training set is ~30 MB): epochs after the
        # first cost no drawing. Large ones are redrawn, which keeps memory flat.
        self._memoize = n * 3 * num_frames * size * size <= MEMO_BYTES
        self._memo: dict[int, torch.Tensor] = {}
        present = {KIND[c] for c in self.classes}
        self.metadata = {"dataset": "synthetic", "split": split, "seed": seed, "size": size,
                         "kinds": {c: KIND[c] for c in self.classes},
                         "truth": {k: v for k, v in TRUTH.items() if k in present},
                         "key_frames_per_clip": KEY_FRAMES_PER_CLIP}

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, _SPLIT_CODE[self.split], index])

    def render(self, index: int) -> tuple[np.ndarray, ClipInfo]:
        """The clip and what was planted in it; `info.label` indexes this dataset's classes."""
        clip, info = render_clip(self._global[self.labels[index]], self._rng(index), self.size, self.num_frames)
        info.label = self.labels[index]
        return clip, info

    def info(self, index: int) -> ClipInfo:
        return self.render(index)[1]

    def read_clip(self, index: int, factor: int) -> StridedRead:
        """Clip `index`'s class drawn over `factor` times the frames, every `factor`-th frame kept: the clip read
        at `factor` times its stride (the sped-up probes, the stride curve). The benchmark has no videos to read
        longer windows from, so the window is drawn: the clip's own generator draws the same object, camera,
        speed and direction, and places the key-frame flash (2 consecutive frames) anywhere in the longer
        window, where a read at stride ≥ 3 can step over it. Never runs past an end."""
        window = factor * self.num_frames
        clip, _ = render_clip(self._global[self.labels[index]], self._rng(index), self.size, window,
                              keep=range(0, window, factor))
        return StridedRead(torch.from_numpy(np.round(clip * 255.0).astype(np.uint8)))

    def fast_clip(self, index: int) -> torch.Tensor:
        """Clip `index` at double speed (the `fast` probe): `read_clip(index, 2)`."""
        return self.read_clip(index, 2).clip

    def load(self, index: int) -> torch.Tensor:
        cached = self._memo.get(index)
        if cached is None:
            clip, _ = self.render(index)
            cached = torch.from_numpy(np.round(clip * 255.0).astype(np.uint8))
            if self._memoize:
                self._memo[index] = cached
        return cached


@register_layout("synthetic")
def _build(data: DataConfig, split: str, training: bool, seed: int = 0) -> SyntheticMotionDataset:
    per_class = data.train_per_class if split == "train" else data.test_per_class
    return SyntheticMotionDataset(split, per_class=per_class, size=data.crop_size,
                                  num_frames=data.num_frames, seed=seed)
