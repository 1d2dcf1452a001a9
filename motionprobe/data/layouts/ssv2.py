"""Something-Something v2 as distributed: VP9 .webm videos named by id, plus JSON annotations.

    <root>/20bn-something-something-v2/78687.webm ...          (or <root>/videos/, or the root itself)
    <root>/something-something-v2-labels.json       {"Putting something on something": "104", ...}
    <root>/something-something-v2-train.json        [{"id": "78687", "label": "putting a pen on a book",
                                                      "template": "Putting [something] on [something]",
                                                      "placeholders": ["a pen", "a book"]}, ...]
    <root>/something-something-v2-validation.json   (same fields)
    <root>/something-something-v2-test.json         [{"id": "..."}]: no labels, not used

The JSONs may also sit in <root>/labels/ (the official download unpacks them there, some copies as
labels.json, train.json, validation.json), in <root>/annotations/, beside the root, or in
`data.annotations`. An entry's class is its template with the brackets removed — the labels file's
spelling — matched case-insensitively if not exactly; its "label" field is the filled-in sentence
and is not the class. motionprobe's "test" split is the validation list: the test list has no
labels (as Kinetics' validation CSV stands in for its test CSV). The real set has 174 classes.

Horizontal flipping changes classes here ("Pushing something from left to right" becomes "...from
right to left"), so the dataset is marked `hflip_safe=False` and training with flips is refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import UserError
from ..registry import register_layout
from ..video import VIDEO_EXTENSIONS
from .dataset import VideoClipDataset, VideoRecord, check_split, make_dataset
from .paths import FileTree, parse_index, read_json_file

if TYPE_CHECKING:
    from ...config import DataConfig

VIDEO_FOLDERS = ("20bn-something-something-v2", "videos")
JSON_FOLDERS = ("labels", "label", "annotations")
SPLIT_FILES = {"train": "train", "test": "validation"}
_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


def _json_names(kind: str) -> tuple[str, str]:
    return f"something-something-v2-{kind}.json", f"{kind}.json"


def annotation_folder(root: Path, annotations: str | None) -> tuple[Path, dict[str, Path]]:
    """The first folder holding the labels JSON, and kind ("labels", "train", "validation") → file there."""
    candidates = [Path(annotations)] if annotations else []
    for base in (root, root.parent):
        candidates += [base] + [base / name for name in JSON_FOLDERS]
    looked: list[Path] = []
    for folder in candidates:
        if folder in looked:
            continue
        looked.append(folder)
        files = {kind: next((folder / n for n in _json_names(kind) if (folder / n).is_file()), None)
                 for kind in ("labels", "train", "validation")}
        if files["labels"] is not None:
            return folder, {k: f for k, f in files.items() if f is not None}
    raise UserError(f"ssv2: something-something-v2-labels.json (or labels/labels.json) not found; looked in "
                    f"{', '.join(str(f) for f in looked)}. Set data.annotations to the folder holding the JSONs")


def video_folder(root: Path) -> Path:
    return next((root / n for n in VIDEO_FOLDERS if (root / n).is_dir()), root)


def class_name(template: str) -> str:
    """'Putting [something] on [something]' → 'Putting something on something' (the labels file's key)."""
    return " ".join(template.replace("[", "").replace("]", "").split())


def read_labels(file: Path) -> list[str]:
    """The labels JSON (template → index, often as a string) → class names in index order."""
    data = read_json_file(file)
    if not isinstance(data, dict) or not data:
        raise UserError(f"{file}: expected an object mapping each template to its class index")
    by_index: dict[int, str] = {}
    for name, index in data.items():
        if isinstance(index, str) and parse_index(index.strip()) is not None:
            index = parse_index(index.strip())
        if not isinstance(index, int) or isinstance(index, bool):
            raise UserError(f"{file}: class {name!r} has index {index!r}; expected a number")
        if index in by_index:
            raise UserError(f"{file}: classes {by_index[index]!r} and {name!r} both have index {index}")
        by_index[index] = name
    if sorted(by_index) != list(range(len(by_index))):
        raise UserError(f"{file}: class indices must run 0..{len(by_index) - 1} without gaps")
    return [by_index[i] for i in range(len(by_index))]


def read_entries(file: Path, classes: list[str]) -> list[tuple[str, int, int]]:
    """(video id, label, entry number from 1) per entry of a train or validation list."""
    data = read_json_file(file)
    if not isinstance(data, list):
        raise UserError(f"{file}: expected a list of {{\"id\", \"template\", ...}} entries")
    exact = {name: i for i, name in enumerate(classes)}
    folded = {name.casefold(): i for i, name in enumerate(classes)}
    out = []
    for number, entry in enumerate(data, start=1):
        where = f"{file}: entry {number}"
        if not isinstance(entry, dict) or "id" not in entry or not isinstance(entry.get("template"), str):
            raise UserError(f"{where}: expected an object with 'id' and 'template', got {str(entry)[:80]}")
        video_id = str(entry["id"])
        if not _ID.fullmatch(video_id):
            raise UserError(f"{where}: id {video_id!r} is not a plain video id")
        name = class_name(entry["template"])
        label = exact.get(name, folded.get(name.casefold()))
        if label is None:
            raise UserError(f"{where}: template {entry['template']!r} is not a class of the labels file")
        out.append((video_id, label, number))
    return out


@register_layout("ssv2")
def build(data: DataConfig, split: str, training: bool, seed: int = 0) -> VideoClipDataset:
    check_split(split)
    root = Path(data.root)
    folder, files = annotation_folder(root, data.annotations)
    kind = SPLIT_FILES[split]
    if kind not in files:
        raise UserError(f"ssv2: no {kind} list in {folder} (expected {' or '.join(_json_names(kind))})")
    classes = read_labels(files["labels"])
    videos = video_folder(root)
    tree = FileTree(videos, VIDEO_EXTENSIONS)
    by_stem = tree.by_stem()
    records, missing = [], []
    for video_id, label, number in read_entries(files[kind], classes):
        paths = by_stem.get(video_id)
        if paths:
            records.append(VideoRecord(paths[0], label, source=f"{files[kind]}: entry {number}"))
        else:
            missing.append(f"{video_id}.webm")
    return make_dataset(data, split, training, root=videos, records=records, classes=classes, missing=missing,
                        sources=[files["labels"], files[kind]], skipped_links=tree.skipped_links, hflip_safe=False)
