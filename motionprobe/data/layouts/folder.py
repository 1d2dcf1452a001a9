"""A folder per class: <root>/<class>/<video files>, split by a fixed hash-seeded ratio; or a plain folder of videos.

    <root>/jump/a.mp4, <root>/jump/b.avi, <root>/run/c.mkv ...     classes: sorted folder names
    <root>/train/<class>/..., <root>/test/<class>/... (or val/)  already split: used as is
    <root>/a.mp4, <root>/b.avi ...                               unlabelled: no classes, every label -1

Without train/ and test/ folders, `test_fraction` (default 0.3) of each class's videos are held out
for the test split. Which ones is decided by a hash of each file's path, not by the run's seed: a
model trained with one seed and evaluated with another must never see its training videos in the
test split, and adding videos later does not reshuffle the existing ones. `test_fraction = 0` uses
every video in both splits (evaluation of a plain collection).

Videos directly in the root, with no class folders, make an unlabelled dataset (`UNLABELLED`
labels, `classes == []`, `metadata["labelled"]` False): both splits are the whole folder, for what
needs no labels (generator training, looking at clips). Loose videos beside class folders are
refused: either half would be read wrongly.

Worked example: a class folder with 10 videos and test_fraction 0.3 gives 3 test and 7 train; with 1
video it goes to train; with 2 videos, one each (a class in both splits whenever it can be).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ...errors import ConfigError
from ..base import UNLABELLED
from ..registry import register_layout
from ..video import VIDEO_EXTENSIONS
from .dataset import VideoClipDataset, VideoRecord, check_split, make_dataset
from .paths import FileTree

if TYPE_CHECKING:
    from ...config import DataConfig

log = logging.getLogger(__name__)
SPLIT_FOLDERS = {"train": ("train",), "test": ("test", "val")}


class FolderScan(NamedTuple):
    per_class: dict[str, list[str]]  # class folder name → its videos (paths relative to the scanned folder)
    loose: list[str]  # videos directly in the folder
    skipped_links: list[str]  # folder links not followed (cycles, revisits; see FileTree)
    empty: list[str]  # class folders without a video: no class, and counted (metadata "empty_classes")


def scan(folder: Path) -> FolderScan:
    """The videos under `folder`, grouped by their top-level folder; classes with no video left out and listed."""
    tree = FileTree(folder, VIDEO_EXTENSIONS)
    per_class: dict[str, list[str]] = {}
    loose = []
    for rel in sorted(tree.files):
        parts = rel.split("/")
        if len(parts) >= 2:
            per_class.setdefault(parts[0], []).append(rel)
        else:
            loose.append(rel)
    try:
        folders = {e.name for e in os.scandir(folder) if not e.name.startswith(".") and e.is_dir()}
    except OSError:
        folders = set()
    return FolderScan(per_class, loose, tree.skipped_links, sorted(folders - set(per_class)))


def _refuse_mixed(folder: Path, found: FolderScan) -> None:
    if found.loose and found.per_class:
        first_class = next(iter(found.per_class))
        raise ConfigError("data.root", f"{folder} holds both class folders (e.g. {first_class}/) and videos directly "
                                       f"inside it (e.g. {found.loose[0]}); put every video in a class folder, or "
                                       "none for an unlabelled dataset")


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
        raise ConfigError("data.root", f"{root} has a train/ folder but no {' or '.join(SPLIT_FOLDERS[split])}/ folder")
    return found


@register_layout("folder")
def build(data: DataConfig, split: str, training: bool, seed: int = 0) -> VideoClipDataset:
    check_split(split)
    root = Path(data.root)
    if not root.is_dir():
        raise ConfigError("data.root", f"{root} is not a folder (the folder layout expects <root>/<class>/<videos>)")
    fraction = data.test_fraction
    if not 0 <= fraction < 1:
        raise ConfigError("data.test_fraction", f"expected a number in [0, 1), got {fraction}")
    split_root = _split_folder(root, split)
    if split_root is not None:
        train, held = scan(root / "train"), scan(split_root)
        for folder, found in ((root / "train", train), (split_root, held)):
            _refuse_mixed(folder, found)
        classes = sorted(set(train.per_class) | set(held.per_class))
        chosen = {c: [f"{split_root.name}/{rel}" for rel in v] for c, v in held.per_class.items()}
        skipped = [f"{split_root.name}/{rel}" for rel in held.skipped_links]
        empty = sorted((set(train.empty) | set(held.empty)) - set(classes))
    else:
        found = scan(root)
        _refuse_mixed(root, found)
        skipped = found.skipped_links
        if found.loose:
            records = [VideoRecord(rel, UNLABELLED) for rel in found.loose]
            return make_dataset(data, split, training, root=root, records=records, classes=[], skipped_links=skipped)
        classes = sorted(found.per_class)
        chosen = {c: ratio_split(v, fraction)[split] for c, v in found.per_class.items()}
        empty = found.empty
    if not classes:
        raise ConfigError("data.root", f"{root} has no <class>/<video> files ({', '.join(VIDEO_EXTENSIONS)})")
    if empty:
        log.warning("folder %s: %d class folder(s) hold no video and are no class (first: %s)", split, len(empty),
                    empty[0])
    label_of = {c: i for i, c in enumerate(classes)}
    records = [VideoRecord(rel, label_of[c]) for c in classes for rel in chosen.get(c, [])]
    return make_dataset(data, split, training, root=root, records=records, classes=classes, skipped_links=skipped,
                        extra={"empty_classes": empty})
