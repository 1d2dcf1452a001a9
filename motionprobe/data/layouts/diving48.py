"""Diving48 (V2 annotations) as distributed: trimmed .mp4 clips plus JSON lists with frame ranges.

    <root>/rgb/-mmq0PT-u8k_00155.mp4 ...                 (or <root>/videos/, or the root itself)
    <root>/Diving48_V2_train.json   [{"vid_name": "-mmq0PT-u8k_00155", "label": 0,
                                      "start_frame": 0, "end_frame": 82}, ...]
    <root>/Diving48_V2_test.json    (same fields)
    <root>/Diving48_vocab.json      [["Back", "15som", "05Twis", "FREE"], ...]: 48 classes

The JSONs may also sit in <root>/annotations/, beside the root, or in `data.annotations`. Class k is
the four attributes of vocab entry k (take-off, somersaults, twists, flight position) joined by "_":
"Back_15som_05Twis_FREE" (no attribute contains "_", so the name splits back into the four).

Clips are sampled inside each entry's [start_frame, end_frame], end included: public readers of
these files take `end_frame + 1` as the clip's frame count (kiyoon/video_datasets_api, which also
asserts start_frame == 0 in every entry), while mmaction2 ignores both fields and uses the whole
trimmed file. Where end_frame is the frame count instead (one past the last frame), the range runs
one frame past the video and is cut at its last frame, so either reading samples the same frames.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import UserError
from ..registry import register_layout
from ..video import VIDEO_EXTENSIONS
from .dataset import VideoClipDataset, VideoRecord, check_split, make_dataset
from .paths import FileTree, find_folder_with, read_json_file

if TYPE_CHECKING:
    from ...config import DataConfig

VIDEO_FOLDERS = ("rgb", "videos")
VOCAB = "Diving48_vocab.json"
SPLIT_FILES = {"train": "Diving48_V2_train.json", "test": "Diving48_V2_test.json"}
SEPARATOR = "_"
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


def annotation_folder(root: Path, annotations: str | None) -> Path:
    candidates = [Path(annotations)] if annotations else []
    candidates += [root, root / "annotations", root.parent, root.parent / "annotations"]
    return find_folder_with(candidates, VOCAB, "diving48", "Set data.annotations to the folder holding the Diving48 JSONs")


def video_folder(root: Path) -> Path:
    return next((root / n for n in VIDEO_FOLDERS if (root / n).is_dir()), root)


def read_vocab(file: Path) -> list[str]:
    """Vocab entries (lists of attributes) → class names; an entry given twice is refused."""
    data = read_json_file(file)
    if not isinstance(data, list) or not data:
        raise UserError(f"{file}: expected a list of [take-off, somersaults, twists, flight] entries")
    names: dict[str, int] = {}
    for number, entry in enumerate(data, start=1):
        if not isinstance(entry, list) or not entry or not all(isinstance(a, str) and a for a in entry):
            raise UserError(f"{file}: entry {number}: expected a list of attribute names, got {str(entry)[:80]}")
        name = SEPARATOR.join(a.strip() for a in entry)
        if name in names:
            raise UserError(f"{file}: entry {number}: class {name!r} appears twice (first as entry {names[name]})")
        names[name] = number
    return list(names)


def _frame(entry: dict, key: str, where: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserError(f"{where}: {key} must be a frame number (an integer >= 0), got {value!r}")
    return value


def read_split(file: Path, num_classes: int) -> list[tuple[str, int, int, int | None, int]]:
    """(vid_name, label, start_frame, end_frame or None, entry number from 1) per entry."""
    data = read_json_file(file)
    if not isinstance(data, list):
        raise UserError(f"{file}: expected a list of {{\"vid_name\", \"label\", \"start_frame\", \"end_frame\"}}")
    out = []
    for number, entry in enumerate(data, start=1):
        where = f"{file}: entry {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("vid_name"), str):
            raise UserError(f"{where}: expected an object with 'vid_name' and 'label', got {str(entry)[:80]}")
        name, label = entry["vid_name"], entry.get("label")
        if not _NAME.fullmatch(name):
            raise UserError(f"{where}: vid_name {name!r} is not a plain file name")
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < num_classes:
            raise UserError(f"{where}: label {label!r} is not a class index (0..{num_classes - 1})")
        start, end = _frame(entry, "start_frame", where) or 0, _frame(entry, "end_frame", where)
        if end is not None and end < start:
            raise UserError(f"{where}: end_frame {end} is before start_frame {start}")
        out.append((name, label, start, end, number))
    return out


@register_layout("diving48")
def build(data: DataConfig, split: str, training: bool, seed: int = 0) -> VideoClipDataset:
    check_split(split)
    root = Path(data.root)
    folder = annotation_folder(root, data.annotations)
    split_file = folder / SPLIT_FILES[split]
    if not split_file.is_file():
        raise UserError(f"diving48: {SPLIT_FILES[split]} not found in {folder}")
    classes = read_vocab(folder / VOCAB)
    videos = video_folder(root)
    tree = FileTree(videos, VIDEO_EXTENSIONS)
    by_stem = tree.by_stem()
    records, missing = [], []
    for name, label, start, end, number in read_split(split_file, len(classes)):
        paths = by_stem.get(name)
        if paths:
            records.append(VideoRecord(paths[0], label, first_frame=start, last_frame=end,
                                       source=f"{split_file}: entry {number}"))
        else:
            missing.append(f"{name}.mp4")
    return make_dataset(data, split, training, root=videos, records=records, classes=classes, missing=missing,
                        sources=[folder / VOCAB, split_file], skipped_links=tree.skipped_links)
