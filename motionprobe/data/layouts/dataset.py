"""The one dataset class every video layout shares: a list of (path, label) records plus the samplers.

A layout module only reads its annotation files into `VideoRecord`s and calls `make_dataset`. Items:

- evaluation: `clips_per_video` items per video (one: the centered clip), id "<relative path>#<k>";
- training: one item per video, a fresh random clip each time it is loaded, id "<relative path>#0".

Unreadable videos (and, under the ``skip`` policy, too-short ones) raise `SkipClip` in `load`, which
the base class turns into a skipped item (see data/base.py). Videos listed by the annotations but
absent on disk are left out when the dataset is built and listed in `metadata["missing"]`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...config import Config
from ...errors import UserError
from ..base import ClipDataset, SkipClip
from ..cache import FrameCache
from ..sampling import ClipSampling, TooShort, clip_indices, random_start, spaced_starts
from ..transforms import ClipTransform
from ..video import VideoError, VideoFile

SPLITS = ("train", "test")
log = logging.getLogger("motionprobe.data")


@dataclass(frozen=True)
class VideoRecord:
    path: str  # relative to the dataset root, POSIX separators
    label: int


class VideoClipDataset(ClipDataset):
    def __init__(self, root: Path, records: Sequence[VideoRecord], classes: Sequence[str], *,
                 sampling: ClipSampling, transform: ClipTransform, cache: FrameCache | None = None,
                 metadata: dict[str, Any] | None = None):
        self.root = Path(root)
        self.records = list(records)
        self.classes = list(classes)
        self.sampling = sampling
        self.transform = transform
        self.training = transform.training
        self.cache = cache
        self.clips_per_video = 1 if self.training else sampling.clips_per_video
        per = self.clips_per_video
        self.labels = [r.label for r in self.records for _ in range(per)]
        self.ids = [f"{r.path}#{k}" for r in self.records for k in range(per)]
        self.metadata = dict(metadata or {})

    def _clip(self, video_frames: int, k: int) -> list[int]:
        if self.training:
            start = random_start(video_frames, self.sampling.span)
        else:
            start = spaced_starts(video_frames, self.sampling.span, self.clips_per_video)[k]
        return clip_indices(start, video_frames, self.sampling)

    def load(self, index: int) -> torch.Tensor:
        record = self.records[index // self.clips_per_video]
        k = index % self.clips_per_video
        source = self.root / record.path
        try:
            cached = self.cache.get(source, record.path) if self.cache is not None else None
            if cached is not None:
                indices = self._clip(len(cached), k)
                frames = torch.from_numpy(np.ascontiguousarray(cached[indices]))
            else:
                with VideoFile(source) as video:
                    indices = self._clip(video.num_frames, k)
                    size = self.transform.target_size(*video.size)
                    frames = torch.from_numpy(video.read(indices, size))
        except VideoError as e:
            raise SkipClip(f"{record.path}: {e.reason}") from None
        except TooShort as e:
            raise SkipClip(f"{record.path}: {e} (short-video policy 'skip')") from None
        return self.transform.finish(frames)


def transform_for(cfg: Config, training: bool) -> ClipTransform:
    d = cfg.data
    try:
        return ClipTransform(resize=tuple(d.resize), crop=d.crop_size, resize_mode=d.resize_mode,
                             training=training, hflip=d.hflip)
    except ValueError as e:
        raise UserError(f"data config (resize/crop_size/resize_mode): {e}") from None


def sampling_for(cfg: Config) -> ClipSampling:
    d = cfg.data
    try:
        return ClipSampling(num_frames=d.num_frames, stride=d.frame_stride, clips_per_video=d.clips_per_video,
                            policy=d.short_video_policy)
    except ValueError as e:
        raise UserError(f"data config (num_frames/frame_stride/clips_per_video/short_video_policy): {e}") from None


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def make_dataset(cfg: Config, split: str, training: bool, *, root: Path, records: Sequence[VideoRecord],
                 classes: Sequence[str], missing: Sequence[str] = (), sources: Sequence[Path] = (),
                 extra: dict[str, Any] | None = None) -> VideoClipDataset:
    """Wrap a layout's records: the sampler and transform from `cfg.data`, the cache when `cfg.data.cache`.

    `extra` adds to the metadata (e.g. the planted kinds of an exported benchmark)."""
    name = cfg.data.dataset
    if missing:
        log.warning("%s %s: %d of %d listed videos are missing under %s (first: %s); they are left out",
                    name, split, len(missing), len(missing) + len(records), root, missing[0])
    if not records:
        looked = f" ({len(missing)} listed, none found)" if missing else ""
        raise UserError(f"--root: {name} {split} split has no videos under {root}{looked}")
    transform = transform_for(cfg, training)
    cache = FrameCache(cfg.data.cache, transform) if cfg.data.cache else None
    metadata = {"dataset": name, "root": str(root), "split": split, "split_number": cfg.data.split,
                "videos": len(records), "missing": list(missing), "annotations": [str(s) for s in sources],
                **(extra or {})}
    return VideoClipDataset(root, records, classes, sampling=sampling_for(cfg), transform=transform, cache=cache,
                            metadata=metadata)
