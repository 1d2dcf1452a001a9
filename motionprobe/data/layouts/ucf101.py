"""UCF101 as distributed: UCF-101/<Class>/v_<Class>_gXX_cYY.avi plus ucfTrainTestlist/.

    <root>/UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi   (or the root pointing at UCF-101 itself)
    <root>/ucfTrainTestlist/classInd.txt       "1 ApplyEyeMakeup"            (1-based)
                            trainlist01.txt    "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"
                            testlist01.txt     "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"

Splits 1–3 (`data.split`). The list folder may sit inside the root or beside it. Class names and paths
match case-insensitively: the official lists spell HandstandPushups as HandStandPushups in places.
A root written by `motionprobe data export-synthetic` also holds truth.json, which every layout reads
(data/truth.py): per-kind results match the in-memory benchmark's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import ConfigError, UserError
from ..registry import register_layout
from ..video import VIDEO_EXTENSIONS
from .dataset import VideoClipDataset, VideoRecord, check_split, make_dataset
from .paths import FileTree, bad_line, find_folder_with, numbered_lines, parse_index, safe_relative

if TYPE_CHECKING:
    from ...config import DataConfig

LIST_FOLDER = "ucfTrainTestlist"
VIDEO_FOLDERS = ("UCF-101", "UCF101")


def video_root(root: Path) -> Path:
    for name in VIDEO_FOLDERS:
        if (root / name).is_dir():
            return root / name
    return root


def list_folder(root: Path, annotations: str | None) -> Path:
    videos = video_root(root)
    candidates = [Path(annotations)] if annotations else []
    candidates += [root / LIST_FOLDER, root, videos / LIST_FOLDER, root.parent / LIST_FOLDER, root.parent]
    return find_folder_with(candidates, "classInd.txt", "ucf101",
                            "Expected UCF-101/<Class>/*.avi and ucfTrainTestlist/{classInd,trainlist0N,testlist0N}.txt "
                            "inside or beside the root, or set data.annotations to their folder")


def read_class_index(file: Path) -> list[str]:
    """classInd.txt → class names in label order (its 1-based indices become 0-based labels)."""
    by_index: dict[int, str] = {}
    line_of: dict[str, int] = {}
    for lineno, line in numbered_lines(file):
        parts = line.split()
        index = parse_index(parts[0]) if len(parts) == 2 else None
        if index is None:
            raise bad_line(file, lineno, f"expected 'index ClassName', got {line!r}")
        if index in by_index:
            raise bad_line(file, lineno, f"class index {index} appears twice")
        folded = parts[1].casefold()  # class names match case-insensitively, so Jump and jump are one
        if folded in line_of:
            raise bad_line(file, lineno, f"class {parts[1]!r} appears twice (first on line {line_of[folded]})")
        by_index[index], line_of[folded] = parts[1], lineno
    if sorted(by_index) != list(range(1, len(by_index) + 1)):
        raise UserError(f"{file}: class indices must run 1..{len(by_index)} without gaps")
    return [by_index[i] for i in range(1, len(by_index) + 1)]


def read_split_list(file: Path, classes: list[str]) -> list[tuple[str, int, int]]:
    """trainlist/testlist lines → (relative path, 0-based label, line number); the label comes from the class folder."""
    lookup = {name.casefold(): i for i, name in enumerate(classes)}
    out = []
    for lineno, line in numbered_lines(file):
        parts = line.split()
        index = parse_index(parts[1]) if len(parts) == 2 else None
        if len(parts) not in (1, 2) or (len(parts) == 2 and index is None):
            raise bad_line(file, lineno, f"expected 'Class/video.avi [index]', got {line!r}")
        rel = safe_relative(parts[0], file, lineno)
        folder = rel.split("/")[0]
        if "/" not in rel:
            raise bad_line(file, lineno, f"expected 'Class/video.avi', got {parts[0]!r} (no class folder)")
        label = lookup.get(folder.casefold())
        if label is None:
            raise bad_line(file, lineno, f"unknown class {folder!r} (not in classInd.txt)")
        if index is not None and index - 1 != label:
            raise bad_line(file, lineno, f"index {parts[1]} names class {_name(classes, index - 1)!r} "
                                         f"but the path is in {folder!r}")
        out.append((rel, label, lineno))
    return out


def _name(classes: list[str], label: int) -> str:
    return classes[label] if 0 <= label < len(classes) else f"<no class {label + 1}>"


@register_layout("ucf101")
def build(data: DataConfig, split: str, training: bool, seed: int = 0) -> VideoClipDataset:
    check_split(split)
    root = Path(data.root)
    lists = list_folder(root, data.annotations)
    classes = read_class_index(lists / "classInd.txt")
    list_file = lists / f"{split}list{data.split:02d}.txt"
    if not list_file.is_file():
        available = sorted(p.name for p in lists.glob(f"{split}list*.txt"))
        raise ConfigError("data.split", f"{list_file} not found (available: {', '.join(available) or 'none'})")
    tree = FileTree(video_root(root), VIDEO_EXTENSIONS)
    records, missing = [], []
    for rel, label, lineno in read_split_list(list_file, classes):
        found = tree.find(rel)
        if found is None:
            missing.append(rel)
        else:
            records.append(VideoRecord(found, label, source=f"{list_file}:{lineno}"))
    return make_dataset(data, split, training, root=tree.root, records=records, classes=classes, missing=missing,
                        sources=[lists / "classInd.txt", list_file], skipped_links=tree.skipped_links)
