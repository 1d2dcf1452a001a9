"""The one dataset class every video layout shares: a list of (path, label) records plus the samplers.

A layout module only reads its annotation files into `VideoRecord`s and calls `make_dataset`. Items:

- evaluation: `clips_per_video` items per video (one: the centered clip), id "<relative path>#<k>";
- training: one item per video, a fresh random clip each time it is loaded, id "<relative path>#0".

A record may restrict its video to a range of frames (`first_frame..last_frame`, both included):
clips are then cut from inside that range (see data/sampling.py) and its ids read
"<path>@<first>-<last>#<k>", so two ranges of one video are two distinct items.

Unreadable videos (and, under the ``skip`` policy, too-short ones) raise `SkipClip` in `load`, which
the base class turns into a skipped item (see data/base.py). Videos listed by the annotations but
absent on disk are left out when the dataset is built and listed in `metadata["missing"]`. The same
video listed twice with the same label is used once and counted (`metadata["duplicates"]`); listed
with two labels, it is an error naming both lines.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ...errors import ConfigError, UserError
from ..base import UNLABELLED, ClipDataset, SkipClip, StridedRead
from ..cache import FrameCache
from ..sampling import (
    POLICIES,
    ClipSampling,
    TooShort,
    clip_indices,
    distinct_clips,
    frame_range,
    random_start,
    spaced_starts,
)
from ..transforms import RESIZE_MODES, ClipTransform
from ..truth import truth_metadata
from ..video import VideoError, VideoFile

if TYPE_CHECKING:
    from ...config import DataConfig

SPLITS = ("train", "test")
log = logging.getLogger("motionprobe.data")


@dataclass(frozen=True)
class VideoRecord:
    """One annotated video. `source` ("file:line") says where it was read, for error messages."""

    path: str  # relative to the dataset root, POSIX separators
    label: int  # UNLABELLED (-1) in an unlabelled dataset
    first_frame: int = 0  # clips stay inside first_frame..last_frame (both included)
    last_frame: int | None = None  # None: to the video's last frame
    source: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """What names the item: the path, plus the frame range when there is one."""
        if self.first_frame == 0 and self.last_frame is None:
            return self.path
        return f"{self.path}@{self.first_frame}-{'end' if self.last_frame is None else self.last_frame}"


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
        self.ids = [f"{r.key}#{k}" for r in self.records for k in range(per)]
        self.metadata = dict(metadata or {})
        self._warned_repeats = False

    def _clip(self, record: VideoRecord, video_frames: int, k: int) -> list[int]:
        """Frame numbers of item k's clip, inside the record's frame range."""
        try:
            first, count = frame_range(record.first_frame, record.last_frame, video_frames)
        except ValueError as e:
            raise SkipClip(f"{record.path}: {e}") from None
        if self.training:
            start = random_start(count, self.sampling.span)
        else:
            self._warn_if_repeated(record, count)
            start = spaced_starts(count, self.sampling.span, self.clips_per_video)[k]
        return [first + i for i in clip_indices(start, count, self.sampling)]

    def _warn_if_repeated(self, record: VideoRecord, count: int) -> None:
        """One line per dataset when a video has fewer distinct clips than the clips asked of it."""
        distinct = distinct_clips(count, self.sampling.span)
        if self.clips_per_video > distinct and not self._warned_repeats:
            self._warned_repeats = True
            log.warning("%s %s: %d clips per video asked, but %s has %d frames, so only %d distinct clip(s); "
                        "its clips repeat (and so may other short videos' clips: warned once)",
                        self.metadata.get("dataset"), self.metadata.get("split"), self.clips_per_video,
                        record.key, count, distinct)

    def _strided(self, record: VideoRecord, video_frames: int, k: int, factor: int) -> tuple[list[int], bool]:
        """Item k's clip read at `factor` times its stride: every (factor · stride)-th frame of a window centred
        where the clip is (moved inside the video at its ends), and whether that window ran past the video,
        so that the short-video policy filled it (loop, pad; `skip` raises TooShort)."""
        clip = self._clip(record, video_frames, k)  # first: an annotated range outside the video is a SkipClip
        first, count = frame_range(record.first_frame, record.last_frame, video_frames)
        sampling = ClipSampling(self.sampling.num_frames, self.sampling.stride * factor, policy=self.sampling.policy)
        if count < sampling.span:
            return [first + i for i in clip_indices(0, count, sampling)], True
        centre = (clip[0] + clip[-1]) / 2 - first
        start = min(max(0, round(centre - (sampling.span - 1) / 2)), count - sampling.span)
        return [first + start + sampling.stride * j for j in range(self.sampling.num_frames)], False

    def load(self, index: int) -> torch.Tensor:
        return self._read(index, self._clip)

    def read_clip(self, index: int, factor: int) -> StridedRead | None:
        """Item `index` read at `factor` times its stride (the sped-up probes, the stride curve); a video shorter
        than that window follows the short-video policy and says so (`past_end`); None under `skip`."""
        past: list[bool] = []

        def frames_of(record: VideoRecord, video_frames: int, k: int) -> list[int]:
            indices, ran_past = self._strided(record, video_frames, k, factor)
            past.append(ran_past)
            return indices

        try:
            clip = self._read(index, frames_of)
        except SkipClip:
            return None
        return StridedRead(clip, past[0])

    def fast_clip(self, index: int) -> torch.Tensor | None:
        """Item `index` at double speed (the `fast` temporal probe): `read_clip(index, 2)`'s clip."""
        read = self.read_clip(index, 2)
        return None if read is None else read.clip

    def _read(self, index: int, frames_of) -> torch.Tensor | None:
        record = self.records[index // self.clips_per_video]
        k = index % self.clips_per_video
        source = self.root / record.path
        try:
            cached = self.cache.get(source, record.path) if self.cache is not None else None
            if cached is not None:
                indices = frames_of(record, len(cached), k)
                if indices is None:
                    return None
                frames = torch.from_numpy(np.ascontiguousarray(cached[indices]))
            else:
                with VideoFile(source) as video:
                    indices = frames_of(record, video.num_frames, k)
                    if indices is None:
                        return None
                    size = self.transform.target_size(*video.size)
                    frames = torch.from_numpy(video.read(indices, size))
        except VideoError as e:
            raise SkipClip(f"{record.path}: {e.reason}") from None
        except TooShort as e:
            raise SkipClip(f"{record.path}: {e} (short-video policy 'skip')") from None
        return self.transform.finish(frames)


def transform_for(data: DataConfig, training: bool, hflip: bool | None = None) -> ClipTransform:
    """The clip transform of `data`; `hflip` overrides the config's flip (False where flips are unsafe)."""
    d = data
    if d.resize_mode not in RESIZE_MODES:
        raise ConfigError("data.resize_mode", f"expected one of {', '.join(RESIZE_MODES)}, got {d.resize_mode!r}")
    try:
        return ClipTransform(resize=tuple(d.resize), crop=d.crop_size, resize_mode=d.resize_mode,
                             training=training, hflip=d.hflip if hflip is None else hflip)
    except ValueError as e:
        raise ConfigError("data.crop_size", str(e)) from None


def sampling_for(data: DataConfig) -> ClipSampling:
    d = data
    for path, value in (("data.num_frames", d.num_frames), ("data.frame_stride", d.frame_stride),
                        ("data.clips_per_video", d.clips_per_video)):
        if not isinstance(value, int) or value < 1:
            raise ConfigError(path, f"expected a positive integer, got {value!r}")
    if d.short_video_policy not in POLICIES:
        raise ConfigError("data.short_video_policy", f"expected one of {', '.join(POLICIES)}, "
                                                     f"got {d.short_video_policy!r}")
    return ClipSampling(num_frames=d.num_frames, stride=d.frame_stride, clips_per_video=d.clips_per_video,
                        policy=d.short_video_policy)


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def dedupe(records: Sequence[VideoRecord], classes: Sequence[str]) -> tuple[list[VideoRecord], list[VideoRecord]]:
    """The records with repeats removed (the first of each kept), and the repeats removed.

    A repeat is the same video and frame range; with another label it is an error naming both lines:
    `test.txt:7: 'clips/a.avi' is listed again with label 1 (run); test.txt:2 gives label 0 (jump)`.
    """
    first: dict[str, VideoRecord] = {}
    kept, repeats = [], []
    for record in records:
        seen = first.get(record.key)
        if seen is None:
            first[record.key] = record
            kept.append(record)
        elif seen.label == record.label:
            repeats.append(record)
        else:
            raise UserError(f"{record.source or record.path}: {record.key!r} is listed again with label "
                            f"{_label_name(record.label, classes)}; {seen.source or 'an earlier entry'} gives label "
                            f"{_label_name(seen.label, classes)}")
    return kept, repeats


def _label_name(label: int, classes: Sequence[str]) -> str:
    return f"{label} ({classes[label]})" if 0 <= label < len(classes) else str(label)


def make_dataset(data: DataConfig, split: str, training: bool, *, root: Path, records: Sequence[VideoRecord],
                 classes: Sequence[str], missing: Sequence[str] = (), sources: Sequence[Path] = (),
                 extra: dict[str, Any] | None = None, skipped_links: Sequence[str] = (),
                 hflip_safe: bool = True) -> VideoClipDataset:
    """Wrap a layout's records: the sampler and transform from `data`, the cache when `data.cache`.

    `classes == []` makes an unlabelled dataset (every label UNLABELLED). `skipped_links` are the
    folder links the file walk skipped (cycles, revisits). `hflip_safe=False` marks a dataset whose
    classes a left-right flip changes: training with `data.hflip` on is then refused. `extra` adds to
    the metadata. A planted-truth file (`data.truth`, or a truth.json beside the data: data/truth.py) adds
    its kinds, whatever the layout."""
    name = data.dataset
    labelled = bool(classes)
    if not labelled and any(r.label != UNLABELLED for r in records):
        raise ValueError("an unlabelled dataset's records must all have label UNLABELLED")
    missing = list(dict.fromkeys(missing))
    records, repeats = dedupe(records, classes)
    if repeats:
        log.warning("%s %s: %d repeated annotation entries are left out, each video is used once (first: %s at %s)",
                    name, split, len(repeats), repeats[0].key, repeats[0].source or "?")
    if skipped_links:
        log.warning("%s %s: skipped %d folder link(s) that lead back into the dataset or to a folder already "
                    "read (first: %s)", name, split, len(skipped_links), skipped_links[0])
    if missing:
        log.warning("%s %s: %d of %d listed videos are missing under %s (first: %s); they are left out",
                    name, split, len(missing), len(missing) + len(records), root, missing[0])
    if not records:
        looked = f" ({len(missing)} listed, none found)" if missing else ""
        raise ConfigError("data.root", f"{name} {split} split has no videos under {root}{looked}")
    flips = training and data.hflip
    if flips and not hflip_safe:
        raise ConfigError("data.hflip", f"{name} has classes that a left-right flip turns into other classes "
                                        "(e.g. 'Pushing something from left to right'); turn flipping off")
    transform = transform_for(data, training, hflip=data.hflip and hflip_safe)
    cache = FrameCache(data.cache, transform) if data.cache else None
    metadata = {"dataset": name, "root": str(root), "split": split, "split_number": data.split,
                "labelled": labelled, "videos": len(records), "missing": missing, "duplicates": len(repeats),
                "skipped_links": list(skipped_links), "hflip_safe": hflip_safe,
                "annotations": [str(s) for s in sources], **(extra or {}),
                **truth_metadata(data.truth, data.root, Path(root), classes)}
    return VideoClipDataset(root, records, classes, sampling=sampling_for(data), transform=transform, cache=cache,
                            metadata=metadata)

