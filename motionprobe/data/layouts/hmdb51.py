"""HMDB51 as distributed: <class>/<video>.avi plus the official split files.

    <root>/brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi
    <root>/testTrainMulti_7030_splits/brush_hair_test_split1.txt   "April_09_brush_hair_u_nm_np1_ba_goo_0.avi 1"

Each split file line tags one video of its class: 1 train, 2 test, 0 unused. Splits 1–3
(`data.split`). The split folder may sit inside the root or beside it (or be the root itself); the
class set is read from the split files' names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import UserError
from ..registry import register_layout
from ..video import VIDEO_EXTENSIONS
from .dataset import VideoClipDataset, VideoRecord, check_split, make_dataset
from .paths import FileTree, bad_line, numbered_lines, safe_relative

if TYPE_CHECKING:
    from ...config import DataConfig

SPLIT_FOLDER = "testTrainMulti_7030_splits"
TAGS = {"train": "1", "test": "2"}


def split_files(root: Path, annotations: str | None, number: int) -> dict[str, Path]:
    """Class name → its split file, from the first folder that has any `*_test_split<N>.txt`."""
    pattern = re.compile(rf"^(.+)_test_split{number}\.txt$")
    candidates = [Path(annotations)] if annotations else []
    candidates += [root / SPLIT_FOLDER, root, root.parent / SPLIT_FOLDER, root.parent]
    looked = []
    for folder in candidates:
        if folder in looked or not folder.is_dir():
            looked.append(folder)
            continue
        looked.append(folder)
        found = {m.group(1): folder / name for name in sorted(p.name for p in folder.iterdir())
                 if (m := pattern.match(name))}
        if found:
            return found
    raise UserError(f"hmdb51: no <class>_test_split{number}.txt files found; looked in "
                    f"{', '.join(str(f) for f in looked)}. Expected <class>/<video>.avi and "
                    f"{SPLIT_FOLDER}/ inside or beside the root, or set data.annotations to their folder")


def read_split_file(file: Path, class_name: str) -> list[tuple[str, str, int]]:
    """Lines "video.avi tag" → (relative path "<class>/video.avi", tag, line number)."""
    out = []
    for lineno, line in numbered_lines(file):
        parts = line.rsplit(maxsplit=1)
        if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
            raise bad_line(file, lineno, f"expected 'video.avi 0|1|2' (0 unused, 1 train, 2 test), got {line!r}")
        name = safe_relative(parts[0], file, lineno)
        out.append((safe_relative(f"{class_name}/{name}", file, lineno), parts[1], lineno))
    return out


@register_layout("hmdb51")
def build(data: DataConfig, split: str, training: bool, seed: int = 0) -> VideoClipDataset:
    check_split(split)
    root = Path(data.root)
    files = split_files(root, data.annotations, data.split)
    classes = sorted(files)
    tree = FileTree(root, VIDEO_EXTENSIONS)
    records, missing = [], []
    for label, name in enumerate(classes):
        for rel, tag, lineno in read_split_file(files[name], name):
            if tag != TAGS[split]:
                continue
            found = tree.find(rel)
            if found is None:
                missing.append(rel)
            else:
                records.append(VideoRecord(found, label, source=f"{files[name]}:{lineno}"))
    return make_dataset(data, split, training, root=root, records=records, classes=classes, missing=missing,
                        sources=[files[c] for c in classes], skipped_links=tree.skipped_links)
