"""A folder per class: <root>/<class>/<video files>, split by a fixed hash-seeded ratio.

    <root>/jump/a.mp4, <root>/jump/b.avi, <root>/run/c.mkv ...     classes: sorted folder names
    <root>/train/<class>/..., <root>/test/<class>/... (or val/)  already split: used as is

Without train/ and test/ folders, `test_fraction` (default 0.3) of each class's videos are held out
for the test split. Which ones is decided by a hash of each file's path, not by --seed: a model
trained with one seed and evaluated with another must never see its training videos in the test
split, and adding videos later does not reshuffle the existing ones. `test_fraction = 0` uses every
video in both splits (evaluation of a plain collection).

Worked example: a class folder with 10 videos and test_fraction 0.3 gives 3 test and 7 train; with 1
video it goes to train; with 2 videos, one each (a class in both splits whenever it can be).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ...config import Config
from ...errors import UserError
from .. import register_layout
from ..video import VIDEO_EXTENSIONS
from .dataset import VideoClipDataset, VideoRecord, check_split, make_dataset
from .paths import FileTree

SPLIT_FOLDERS = {"train": ("train",), "test": ("test", "val")}


def class_videos(root: Path) -> dict[str, list[str]]:
    """Class folder name → its video files (paths relative to root), classes with no video left out."""
    out: dict[str, list[str]] = {}
    for rel in sorted(FileTree(root, VIDEO_EXTENSIONS).files):
        parts = rel.split("/")
        if len(parts) >= 2:
            out.setdefault(parts[0], []).append(rel)
    return out


def held_out_count(n: int, fraction: float) -> int:
    """Videos of an n-video class held out for test (see the module's worked example)."""
    if fraction == 0 or n < 2:
        return 0
    return min(max(1, round(n * fraction)), n - 1)


def ratio_split(videos: list[str], fraction: float) -> dict[str, list[str]]:
    if fraction == 0:
        return {"train": list(videos), "test": list(videos)}
    ordered = sorted(videos, key=lambda rel: hashlib.sha1(rel.encode("utf-8")).hexdigest())
    k = held_out_count(len(videos), fraction)
    return {"test": sorted(ordered[:k]), "train": sorted(ordered[k:])}


def _split_folder(root: Path, split: str) -> Path | None:
    """<root>/train or <root>/test|val when the collection comes already split, else None."""
    if not (root / "train").is_dir():
        return None
    found = next((root / n for n in SPLIT_FOLDERS[split] if (root / n).is_dir()), None)
    if found is None:
        raise UserError(f"--root: {root} has a train/ folder but no {' or '.join(SPLIT_FOLDERS[split])}/ folder")
    return found


@register_layout("folder")
def build(cfg: Config, split: str, training: bool) -> VideoClipDataset:
    check_split(split)
    root = Path(cfg.data.root)
    if not root.is_dir():
        raise UserError(f"--root: {root} is not a folder (the folder layout expects <root>/<class>/<videos>)")
    fraction = cfg.data.test_fraction
    if not 0 <= fraction < 1:
        raise UserError(f"test_fraction: expected a number in [0, 1), got {fraction}")
    split_root = _split_folder(root, split)
    if split_root is not None:
        train_classes = class_videos(root / "train")
        classes = sorted(set(train_classes) | set(class_videos(split_root)))
        chosen = {c: [f"{split_root.name}/{rel}" for rel in v] for c, v in class_videos(split_root).items()}
    else:
        per_class = class_videos(root)
        classes = sorted(per_class)
        chosen = {c: ratio_split(v, fraction)[split] for c, v in per_class.items()}
    if not classes:
        raise UserError(f"--root: {root} has no <class>/<video> files ({', '.join(VIDEO_EXTENSIONS)})")
    label_of = {c: i for i, c in enumerate(classes)}
    records = [VideoRecord(rel, label_of[c]) for c in classes for rel in chosen.get(c, [])]
    return make_dataset(cfg, split, training, root=root, records=records, classes=classes)
