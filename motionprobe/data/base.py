"""The clip-dataset contract shared by every layout.

An item is a dict: `clip` uint8 tensor (3, T, H, W) RGB, `label` int, `id` str (unique per clip,
stable across runs: the analysis keys its results by it). Datasets hold uint8 so batches stay small;
`to_float` turns a batch into the [0, 1] floats models expect.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset


class ClipDataset(Dataset):
    """Base class: subclasses set `classes`, `labels`, `ids`, `metadata` and implement `load(i)`."""

    classes: list[str]
    labels: list[int]
    ids: list[str]
    metadata: dict[str, Any]

    def __len__(self) -> int:
        return len(self.labels)

    def load(self, index: int) -> torch.Tensor:
        raise NotImplementedError

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"clip": self.load(index), "label": self.labels[index], "id": self.ids[index]}


def to_float(clip: torch.Tensor) -> torch.Tensor:
    """uint8 clips → float32 in [0, 1] (any leading shape)."""
    return clip.float().div_(255.0) if clip.dtype == torch.uint8 else clip.float()


def clips_only(batch: list[dict[str, Any]]) -> torch.Tensor:
    """Collate that drops labels and ids: what the label-free generator training loads."""
    return torch.stack([item["clip"] for item in batch])
