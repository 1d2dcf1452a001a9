"""Clip accuracy of a video model on a dataset: overall, per class, per planted kind, confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from .data import ClipDataset, to_float
from .data.base import collate_clips
from .io import atomic_write_json, atomic_write_text, csv_text
from .models import VideoModel


@dataclass
class Evaluation:
    classes: list[str]
    confusion: list[list[int]]  # rows: true class, columns: predicted class
    kinds: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # clip id → why it could not be read

    @property
    def n(self) -> int:
        return sum(map(sum, self.confusion))

    @property
    def accuracy(self) -> float:
        return sum(self.confusion[i][i] for i in range(len(self.classes))) / max(1, self.n)

    def per_class(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for i, name in enumerate(self.classes):
            total = sum(self.confusion[i])
            out[name] = self.confusion[i][i] / total if total else None
        return out

    def per_kind(self) -> dict[str, float]:
        """Accuracy over the clips of each planted kind (synthetic benchmark)."""
        hits: dict[str, list[int]] = {}
        for i, name in enumerate(self.classes):
            kind = self.kinds.get(name)
            if kind is None:
                continue
            h = hits.setdefault(kind, [0, 0])
            h[0] += self.confusion[i][i]
            h[1] += sum(self.confusion[i])
        return {k: c / t for k, (c, t) in hits.items() if t}

    def to_dict(self) -> dict:
        return {"n_clips": self.n, "skipped": {"count": len(self.skipped), "items": self.skipped},
                "clip_accuracy": self.accuracy, "per_kind": self.per_kind(),
                "per_class": self.per_class(), "classes": self.classes, "confusion": self.confusion}


def batches(dataset: ClipDataset, batch_size: int) -> DataLoader:
    """Batches in order; unreadable clips are dropped from their batch and recorded in `dataset.skipped`."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0, collate_fn=collate_clips)


@torch.inference_mode()
def evaluate(model: VideoModel, dataset: ClipDataset, batch_size: int = 32, device: str = "cpu",
             progress: bool = True) -> Evaluation:
    model.eval()
    n = len(dataset.classes)
    confusion = torch.zeros(n, n, dtype=torch.long)
    for batch in tqdm(batches(dataset, batch_size), desc="evaluate", unit="batch", disable=not progress, leave=False):
        if not batch["id"]:
            continue
        logits = model(to_float(batch["clip"].to(device)))
        pred = logits.argmax(1).cpu()
        confusion.index_put_((batch["label"], pred), torch.ones_like(pred), accumulate=True)
    return Evaluation(list(dataset.classes), confusion.tolist(), dict(dataset.metadata.get("kinds", {})),
                      skipped=dict(dataset.skipped))


def write_evaluation(folder: Path, ev: Evaluation, **provenance) -> None:
    """eval.json, per_class.csv and confusion.csv in `folder`."""
    atomic_write_json(folder / "eval.json", {**ev.to_dict(), "provenance": provenance})
    per_class = [[name, ev.kinds.get(name, ""), sum(ev.confusion[i]), "" if acc is None else f"{acc:.6f}"]
                 for i, (name, acc) in enumerate(ev.per_class().items())]
    atomic_write_text(folder / "per_class.csv", csv_text(["class", "kind", "n_clips", "accuracy"], per_class, "\r\n"))
    confusion = [[name, *row] for name, row in zip(ev.classes, ev.confusion, strict=True)]
    atomic_write_text(folder / "confusion.csv", csv_text(["true\\predicted", *ev.classes], confusion, "\r\n"))
