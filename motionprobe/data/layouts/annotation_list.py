"""Annotation lists in mmaction2's convention: "relative/path label_index" lines plus a class-name file.

    <root>/classes.txt       one class name per line; line k (from 0) is label k
    <root>/train.txt         "jump/clip_0001.mp4 3"   (0-based label; the path may contain spaces)
    <root>/test.txt          (or val.txt)
    <root>/jump/clip_0001.mp4 ...

Paths are relative to the root. `data.annotations` may name another folder holding the lists, or
one list file to use for whichever split is asked. `data.root` may also be a list file itself: its
folder is then the root, and that one list serves both splits.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import UserError
from ..registry import register_layout
from .dataset import VideoClipDataset, VideoRecord, check_split, make_dataset
from .paths import bad_line, numbered_lines, parse_index, safe_relative

if TYPE_CHECKING:
    from ...config import DataConfig

LIST_NAMES = {"train": ("train.txt", "train_list.txt", "trainlist.txt"),
              "test": ("test.txt", "val.txt", "test_list.txt", "val_list.txt", "testlist.txt", "vallist.txt")}
CLASS_NAMES = ("classes.txt", "class_names.txt", "label_map.txt", "labels.txt")


def _first(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def locate(root: Path, annotations: str | None, split: str) -> tuple[Path, Path, Path]:
    """(video root, list file, class-name file)."""
    if root.is_file():
        list_file, video_root = root, root.parent
    else:
        video_root = root
        where = Path(annotations) if annotations else root
        if where.is_file():
            list_file = where
        else:
            found = _first(where, LIST_NAMES[split])
            if found is None:
                raise UserError(f"list: no {split} list in {where} (expected one of {', '.join(LIST_NAMES[split])})")
            list_file = found
    folders = [list_file.parent, video_root]
    class_file = next((f for folder in folders if (f := _first(folder, CLASS_NAMES))), None)
    if class_file is None:
        raise UserError(f"list: no class-name file ({', '.join(CLASS_NAMES)}) in "
                        f"{' or '.join(str(f) for f in dict.fromkeys(folders))}")
    return video_root, list_file, class_file


def read_class_names(file: Path) -> list[str]:
    """One class name per line; a name given twice is refused (its two labels would split one class), and so is a
    blank line before the last name: line k is label k, so skipping it would shift every later label by one."""
    names: dict[str, int] = {}
    for lineno, line in numbered_lines(file):
        if line in names:
            raise bad_line(file, lineno, f"class {line!r} appears twice (first on line {names[line]})")
        if lineno != len(names) + 1:  # the first blank line is the one after the names read so far
            raise bad_line(file, len(names) + 1, "a blank line among the class names; line k names label k, so a "
                                                 "blank line would shift every later label: remove it")
        names[line] = lineno
    if not names:
        raise UserError(f"{file}: no class names (expected one per line)")
    return list(names)


def read_list(file: Path, num_classes: int) -> list[tuple[str, int, int]]:
    """(relative path, 0-based label, line number) per list line."""
    out = []
    for lineno, line in numbered_lines(file):
        parts = line.rsplit(maxsplit=1)
        label = parse_index(parts[1]) if len(parts) == 2 else None
        if label is None:
            raise bad_line(file, lineno, f"expected 'relative/path label_index', got {line!r}")
        if not 0 <= label < num_classes:
            raise bad_line(file, lineno, f"label {label} is not a class index (0..{num_classes - 1}, 0-based)")
        out.append((safe_relative(parts[0], file, lineno), label, lineno))
    return out


@register_layout("list")
def build(data: DataConfig, split: str, training: bool, seed: int = 0) -> VideoClipDataset:
    check_split(split)
    video_root, list_file, class_file = locate(Path(data.root), data.annotations, split)
    classes = read_class_names(class_file)
    records, missing = [], []
    for rel, label, lineno in read_list(list_file, len(classes)):
        if (video_root / rel).is_file():
            records.append(VideoRecord(rel, label, source=f"{list_file}:{lineno}"))
        else:
            missing.append(rel)
    return make_dataset(data, split, training, root=video_root, records=records, classes=classes, missing=missing,
                        sources=[class_file, list_file])
