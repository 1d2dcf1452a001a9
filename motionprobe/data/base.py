"""The clip-dataset contract shared by every layout.

An item is a dict: `clip` uint8 tensor (3, T, H, W) RGB, `label` int (`UNLABELLED`, -1, for a
dataset without classes), `id` str (unique per clip, stable across runs: the analysis keys its
results by it). Datasets hold uint8 so batches stay small;
`to_float` turns a batch into the [0, 1] floats models expect.

Skipping bad items: `load(i)` raises `SkipClip(reason)` for an item it cannot produce (an unreadable
video, one too short under the ``skip`` policy). `__getitem__` then records `dataset.skipped[id] =
reason` and returns a *skipped item* `{"clip": None, "label", "id", "skipped": reason}` instead of
failing the job. Loaders drop those with `collate_clips` (which also reports them in
`batch["skipped"]`, so a loop with worker processes still learns what was skipped) or `clips_only`.
A batch can come out empty (every item skipped): loops skip batches whose `id` list is empty.

Strided reads (the sped-up temporal probes and the stride curve): a dataset that can read item i's clip
at `factor` times its stride defines `read_clip(i, factor) -> StridedRead | None`; `read_at` asks it
(or, at factor 2, an older `fast_clip(i)`), and None means the item has no such read.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch.utils.data import Dataset

UNLABELLED = -1  # the label of every item of an unlabelled dataset (classes == [], metadata["labelled"] False)


class SkipClip(Exception):
    """Raised by `load(i)` for an item that cannot be produced; the message says why."""


class ClipDataset(Dataset):
    """Base class: subclasses set `classes`, `labels`, `ids`, `metadata` and implement `load(i)`."""

    classes: list[str]
    labels: list[int]
    ids: list[str]
    metadata: dict[str, Any]

    @property
    def skipped(self) -> dict[str, str]:
        """Items skipped so far in this process: id → reason."""
        return self.__dict__.setdefault("_skipped", {})

    def __len__(self) -> int:
        return len(self.labels)

    def load(self, index: int) -> torch.Tensor:
        raise NotImplementedError

    def __getitem__(self, index: int) -> dict[str, Any]:
        try:
            clip = self.load(index)
        except SkipClip as e:
            self.skipped[self.ids[index]] = str(e)
            return {"clip": None, "label": self.labels[index], "id": self.ids[index], "skipped": str(e)}
        return {"clip": clip, "label": self.labels[index], "id": self.ids[index]}


class StridedRead(NamedTuple):
    """Item i's clip read at a multiple of its stride: uint8 (3, T, H, W), and whether the window ran past
    the video's last frame, so that the short-video policy (loop, pad) filled it."""

    clip: torch.Tensor
    past_end: bool = False


def read_at(dataset: Any, index: int, factor: int) -> StridedRead | None:
    """Item `index` read at `factor` times its stride, or None where the dataset cannot read it so."""
    if hasattr(dataset, "read_clip"):
        return dataset.read_clip(index, factor)
    if factor == 2 and hasattr(dataset, "fast_clip"):
        clip = dataset.fast_clip(index)
        return None if clip is None else StridedRead(clip)
    return None


def to_float(clip: torch.Tensor) -> torch.Tensor:
    """uint8 clips → float32 in [0, 1] (any leading shape)."""
    return clip.float().div_(255.0) if clip.dtype == torch.uint8 else clip.float()


def is_skipped(item: dict[str, Any]) -> bool:
    return item.get("clip") is None


def clips_only(batch: list[dict[str, Any]]) -> torch.Tensor:
    """Collate that drops labels, ids and skipped items: what the label-free generator training loads."""
    clips = [item["clip"] for item in batch if not is_skipped(item)]
    return torch.stack(clips) if clips else torch.empty(0, dtype=torch.uint8)


def collate_clips(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Collate dict items, dropping skipped ones: {"clip" (B,3,T,H,W), "label" (B,), "id", "skipped"}.

    `skipped` lists {"id", "reason"} for the items dropped from this batch; B may be 0.
    """
    kept = [item for item in batch if not is_skipped(item)]
    skipped = [{"id": item["id"], "reason": item.get("skipped", "")} for item in batch if is_skipped(item)]
    clips = torch.stack([item["clip"] for item in kept]) if kept else torch.empty(0, dtype=torch.uint8)
    labels = torch.tensor([item["label"] for item in kept], dtype=torch.long)
    return {"clip": clips, "label": labels, "id": [item["id"] for item in kept], "skipped": skipped}
