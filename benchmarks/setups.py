"""The analyses the benchmarks measure, built one way for `make bench`, the smoke test and the GPU check.

A setup is what `motionprobe.analysis.analyze` is given: a dataset, a model built for the classes that
dataset reports (never a typed count: the embedded benchmark has grown from 10 classes to 12 once
already), a generator per k and the plan's settings from a preset. The callers differ only in how many
clips, candidates and rounds they use, so whatever breaks `make bench` breaks the smoke test first.

    tiny   the `tiny` preset as `make demo` analyses: the embedded benchmark's test clips (drawn on load),
           C3D at 1/8 width on 32×32×16, a perceptual generator per k = 1, 2, 4, 8 and the pixel one at
           k = 1, 48 candidates
    paper  the `paper` preset on UCF101-sized videos (320×240 MPEG-4 AVI in UCF101's layout) read through
           the frame cache: C3D at 112×112×16, the 9-block generator
    i3d    the same videos for Inception-I3D at 16×224×224 (short side 256, centre crop 224), the
           generator at 224×224

>>> setup = tiny_setup(clips=12)                                             # doctest: +SKIP
>>> nets = setup.networks()                                                  # doctest: +SKIP
>>> work = Work(setup, nets)                                                 # doctest: +SKIP
>>> rows = work.measure(lambda: setup.analyze("runs/bench", nets))           # doctest: +SKIP
>>> work.flops(rows) / 12 / 1e9                                              # GFLOP per clip  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from motionprobe.analysis import analyze
from motionprobe.config import AnalysisConfig, Config, preset
from motionprobe.data import build_dataset
from motionprobe.data.base import read_at
from motionprobe.data.synthetic import SyntheticMotionDataset
from motionprobe.generator import build_generator
from motionprobe.models.registry import build_model

from .flops import counted_by_torch

ANALYSIS_SETTINGS = {f.name for f in fields(AnalysisConfig)}  # what `analyze` takes in its settings
VIDEO_CLASSES = ("Drift", "Pulse")
UCF101_FRAME = (240, 320)  # height, width of a UCF101 video
VIDEO_FRAMES = 48  # enough for the centred 16-frame clip; decoding happens once, when the cache is built


class FirstClips:
    """The first `n` clips of a dataset, with the attributes `analyze` reads (the embedded benchmark
    interleaves its classes: any len(classes) consecutive clips hold every class once)."""

    def __init__(self, base: Any, n: int):
        if not 0 < n <= len(base):
            raise ValueError(f"expected 1..{len(base)} clips, got {n}")
        self.base, self.n = base, n
        self.classes, self.metadata = base.classes, base.metadata
        self.ids, self.labels = base.ids[:n], base.labels[:n]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.base[i]

    def read_clip(self, i: int, factor: int):
        """Clip i read at `factor` times its stride (the sped-up probes, the stride curve), where the dataset can."""
        return read_at(self.base, i, factor)


class RandomClips:
    """`n` seeded random uint8 clips (3, T, S, S) spread over `num_classes` labels: what a model's speed
    needs and nothing it must decode (the GPU check runs where PyAV may be absent)."""

    def __init__(self, n: int, num_frames: int, size: int, num_classes: int, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.clips = torch.randint(0, 256, (n, 3, num_frames, size, size), dtype=torch.uint8, generator=g)
        self.classes = [f"class{c:03d}" for c in range(num_classes)]
        self.labels = [i % num_classes for i in range(n)]
        self.ids = [f"random/{i:06d}" for i in range(n)]
        self.metadata = {"dataset": "random", "split": "test", "seed": seed}

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        return {"clip": self.clips[i], "label": self.labels[i], "id": self.ids[i]}


@dataclass
class Networks:
    model: nn.Module
    generators: dict[int, nn.Module]
    pixel_generators: dict[int, nn.Module]

    def named(self) -> dict[str, nn.Module]:
        return {"model": self.model, **{f"generator k={k}": g for k, g in self.generators.items()},
                **{f"pixel generator k={k}": g for k, g in self.pixel_generators.items()}}

    def to(self, device: str | torch.device) -> Networks:
        for net in self.named().values():
            net.to(device)
        return self


class Work:
    """The work an analysis did, counted as it ran: clips through each network (forward pre-hooks), and each
    network's FLOPs per clip from torch's FlopCounterMode on the meta device (shapes only: nothing runs).

    Counting what ran, rather than predicting it from the plan, keeps the FLOPs right whatever the engine
    evaluates (probes, replicated candidates, another plan).
    """

    def __init__(self, setup: AnalysisSetup, nets: Networks):
        self.flops_per_row = setup.flops_per_row()
        self.rows: dict[str, int] = dict.fromkeys(self.flops_per_row, 0)
        self.counting = False  # only calls inside `measure` count (not warm-ups or component timings)
        self._handles = [net.register_forward_pre_hook(self._counter(name)) for name, net in nets.named().items()]

    def _counter(self, name: str) -> Callable:
        def count(_module: nn.Module, args: tuple) -> None:
            if self.counting:
                self.rows[name] += int(args[0].shape[0])
        return count

    def measure(self, fn: Callable[[], Any]) -> dict[str, int]:
        """Run `fn` and return the clips each network processed during it."""
        self.rows = dict.fromkeys(self.rows, 0)
        self.counting = True
        try:
            fn()
        finally:
            self.counting = False
        return dict(self.rows)

    def flops(self, rows: dict[str, int]) -> float:
        return float(sum(n * self.flops_per_row[name] for name, n in rows.items()))

    def summary(self, rows: dict[str, int], clips: int) -> dict[str, Any]:
        return {"inputs_per_clip": {name: round(n / clips, 2) for name, n in rows.items()},
                "gflop_per_input": {name: round(f / 1e9, 4) for name, f in self.flops_per_row.items()},
                "gflop_per_clip": round(self.flops(rows) / clips / 1e9, 3)}


@dataclass
class AnalysisSetup:
    """One analysis as `analyze` runs it: the preset, a fresh dataset per call, the k's and the pool."""

    name: str
    cfg: Config
    make_dataset: Callable[[], Any]
    ks: tuple[int, ...]
    candidates: int | str
    pixel_ks: tuple[int, ...] = ()
    probe_draws: int | None = None  # draws of each random temporal probe; None: analyze's default
    num_classes: int = field(init=False)

    def __post_init__(self) -> None:
        self.num_classes = len(self.make_dataset().classes)

    @property
    def size(self) -> int:
        return self.cfg.data.crop_size

    def networks(self) -> Networks:
        """The model (for this dataset's classes) and generators, seeded; built on torch's current default device."""
        torch.manual_seed(self.cfg.seed)
        model = build_model(self.cfg.model, self.cfg.data, self.num_classes).eval()
        generators = {k: build_generator(k, self.cfg.generator, self.cfg.data.num_frames).eval() for k in self.ks}
        pixel = {k: build_generator(k, self.cfg.generator, self.cfg.data.num_frames).eval() for k in self.pixel_ks}
        return Networks(model, generators, pixel)

    def analyze(self, out: str | Path, networks: Networks, device: str = "cpu", **extra: Any) -> dict:
        """`analyze` into `out` with the preset's analysis settings; `extra` adds keywords (a feature switched on)."""
        a = self.cfg.analysis
        if self.probe_draws is not None:
            extra = {"probe_draws": self.probe_draws, **extra}
        settings = replace(a, ks=tuple(self.ks), candidates=self.candidates,
                           **{name: extra.pop(name) for name in list(extra) if name in ANALYSIS_SETTINGS})
        return analyze(networks.model, self.make_dataset(), out, settings, generators=networks.generators,
                       pixel_generators=networks.pixel_generators, seed=self.cfg.seed,
                       num_frames=self.cfg.data.num_frames, device=device, progress=False, **extra)

    def flops_per_row(self) -> dict[str, int]:
        """FLOPs of one clip through the model and through each generator's network (FlopCounterMode, meta device)."""
        t, s = self.cfg.data.num_frames, self.size
        with torch.device("meta"):
            nets = self.networks()
            flops = {"model": counted_by_torch(nets.model, torch.empty(1, 3, t, s, s))}
            for name, g in nets.named().items():
                if name != "model":
                    flops[name] = counted_by_torch(g.net, torch.empty(1, g.in_channels, s, s))
        return flops


def synthetic_test_split(cfg: Config) -> SyntheticMotionDataset:
    """The embedded benchmark's test split as `build_dataset(cfg.data, "test", seed=cfg.seed)` builds it, without the layout
    registry, which imports every video layout and so PyAV (the GPU check runs where it may be absent)."""
    return SyntheticMotionDataset("test", per_class=cfg.data.test_per_class, size=cfg.data.crop_size,
                                  num_frames=cfg.data.num_frames, seed=cfg.seed)


def tiny_setup(clips: int, *, ks: tuple[int, ...] | None = None, candidates: int | str | None = None,
               shard_size: int | None = None, pixel_ks: tuple[int, ...] = (1,),
               probe_draws: int | None = None) -> AnalysisSetup:
    """The `tiny` preset's analysis (as `make demo` runs it: a generator per k, the pixel one at k = 1) of the
    embedded benchmark's first `clips` test clips; `ks`, `candidates`, `shard_size` replace the preset's."""
    cfg = preset("tiny")
    if shard_size is not None:
        cfg = cfg.evolve(analysis={"shard_size": shard_size})
    return AnalysisSetup("tiny", cfg, lambda: FirstClips(synthetic_test_split(cfg), clips),
                         ks=tuple(ks or cfg.analysis.ks), candidates=candidates or cfg.analysis.candidates,
                         pixel_ks=pixel_ks, probe_draws=probe_draws)


def paper_config() -> Config:
    cfg = preset("paper")
    cfg = cfg.evolve(data={"dataset": "ucf101"})
    return cfg


def i3d_config() -> Config:
    """The paper preset with Inception-I3D at DeepMind's Kinetics protocol: short side 256, centre crop 224."""
    cfg = paper_config()
    cfg = cfg.evolve(model={"arch": "i3d"})
    cfg = cfg.evolve(data={"crop_size": 224, "resize": (256, 256), "resize_mode": "short_side"})
    return cfg


def video_setup(name: str, cfg: Config, root: Path, clips: int, ks: tuple[int, ...], candidates: int | str,
                probe_draws: int | None = None) -> AnalysisSetup:
    """`cfg` (paper_config or i3d_config) on the UCF101-layout videos under `root` (`write_videos`), read
    through a frame cache built here for its transform; the first `clips` test clips."""
    from motionprobe.data.cache import CacheTask, build_cache
    from motionprobe.data.layouts.dataset import transform_for

    cfg = cfg.evolve(data={"root": str(root)})
    decoded = build_dataset(cfg.data, "test", training=False, seed=cfg.seed)
    cache = root / f"cache-{name}"
    tasks = [CacheTask(str(decoded.root / r.path), r.path) for r in decoded.records]
    build_cache(tasks, cache, transform_for(cfg.data, training=False), root=str(root), workers=1, progress=False)
    cfg = cfg.evolve(data={"cache": str(cache)})
    return AnalysisSetup(name, cfg, lambda: FirstClips(build_dataset(cfg.data, "test", training=False), clips),
                         ks=ks, candidates=candidates, probe_draws=probe_draws)


def videos_for(clips: int) -> int:
    """Videos per class for `clips` test clips (one clip per video)."""
    return math.ceil(clips / len(VIDEO_CLASSES))


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


def write_videos(root: Path, per_class: int, frames: int = VIDEO_FRAMES, height: int = UCF101_FRAME[0],
                 width: int = UCF101_FRAME[1]) -> None:
    """`per_class` test videos per class under root/UCF-101 (MPEG-4 part 2 AVI, as `motionprobe data
    export-synthetic` writes them), with UCF101's list files."""
    from motionprobe.data.export import encode_avi
    from motionprobe.io import atomic_write_bytes, atomic_write_text

    test_lines = []
    for c, name in enumerate(VIDEO_CLASSES):
        for j in range(per_class):
            rel = f"{name}/v_{name}_g{j + 1:02d}_c01.avi"
            atomic_write_bytes(root / "UCF-101" / rel, encode_avi(moving_pattern(frames, height, width, 10 * c + j)))
            test_lines.append(rel)
    lists = root / "ucfTrainTestlist"
    atomic_write_text(lists / "classInd.txt", "".join(f"{i + 1} {n}\n" for i, n in enumerate(VIDEO_CLASSES)))
    atomic_write_text(lists / "testlist01.txt", "".join(f"{line}\n" for line in test_lines))
    atomic_write_text(lists / "trainlist01.txt", "".join(f"{line} {VIDEO_CLASSES.index(line.split('/')[0]) + 1}\n"
                                                          for line in test_lines))
