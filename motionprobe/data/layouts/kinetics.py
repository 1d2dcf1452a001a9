"""Kinetics (400/600/700) as distributed: annotation CSVs plus clips named by YouTube id and times.

    <root>/train.csv, validate.csv  (or in <root>/annotations/, or beside the root; or data.annotations)
        label,youtube_id,time_start,time_end,split[,is_cc]
        abseiling,--07WQ2iBlw,1,11,train
    <root>/abseiling/--07WQ2iBlw_000001_000011.mp4   (per-class folders, any names)
    <root>/--07WQ2iBlw_000001_000011.mp4             (or flat)

motionprobe's "test" split is the validation CSV (the official test CSV has no labels), as in the
paper's Kinetics analysis. The class set is the sorted union of the labels of the CSVs found, so
400, 600 and 700 all work and labels agree between splits. Clips are found by file name wherever
they are under the root (any video extension); missing downloads, a few percent of Kinetics
usually, are counted and reported, not fatal.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import ConfigError, UserError
from ..registry import register_layout
from ..video import VIDEO_EXTENSIONS
from .dataset import VideoClipDataset, VideoRecord, check_split, make_dataset
from .paths import FileTree, bad_line

if TYPE_CHECKING:
    from ...config import DataConfig

REQUIRED = ("label", "youtube_id", "time_start", "time_end")
# Name fragments of each split's CSV: train.csv / kinetics_400_train.csv; validate.csv / val.csv.
CSV_WORDS = {"train": ("train",), "test": ("validate", "val")}


def _csv_for(folder: Path, split: str) -> Path | None:
    names = sorted(p.name for p in folder.glob("*.csv"))
    hits = [n for n in names if any(w in n.lower() for w in CSV_WORDS[split])]
    if len(hits) > 1:
        raise ConfigError("data.annotations", f"several kinetics {split} CSVs in {folder} ({', '.join(hits)}); "
                                              "point it at a folder holding one")
    return folder / hits[0] if hits else None


def annotation_csvs(root: Path, annotations: str | None) -> tuple[Path, dict[str, Path]]:
    """The first folder holding a train or validation CSV, and split → CSV there."""
    candidates = [Path(annotations)] if annotations else []
    candidates += [root, root / "annotations", root.parent / "annotations", root.parent]
    looked = []
    for folder in candidates:
        if folder in looked:
            continue
        looked.append(folder)
        if folder.is_dir():
            found = {s: p for s in CSV_WORDS if (p := _csv_for(folder, s)) is not None}
            if found:
                return folder, found
    raise UserError(f"kinetics: no train/validate CSV found; looked in {', '.join(str(f) for f in looked)}. "
                    "Expected CSVs with columns label,youtube_id,time_start,time_end,split, or set data.annotations "
                    "to their folder")


def clip_stem(youtube_id: str, start: float, end: float) -> str:
    """The file name (without extension) of a clip: `--07WQ2iBlw_000001_000011`."""
    return f"{youtube_id}_{int(start):06d}_{int(end):06d}"


def read_csv(file: Path) -> list[tuple[str, str, int]]:
    """(label, clip stem, line number) per row."""
    try:
        handle = file.open(newline="", encoding="utf-8-sig")
    except OSError as e:
        raise UserError(f"{file}: cannot read ({e.strerror})") from None
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        absent = [c for c in REQUIRED if c not in header]
        if absent:
            raise UserError(f"{file}: missing column(s) {', '.join(absent)}; expected a header "
                            "label,youtube_id,time_start,time_end[,split]")
        rows = []
        for row in reader:
            try:
                youtube_id, label = row["youtube_id"].strip(), row["label"].strip()
                stem = clip_stem(youtube_id, float(row["time_start"]), float(row["time_end"]))
            except (ValueError, TypeError, AttributeError, OverflowError):  # OverflowError: a time of 1e400
                raise bad_line(file, reader.line_num, "expected label,youtube_id,time_start,time_end with numeric "
                                                      "times") from None
            if not label or not youtube_id or "/" in youtube_id or "\\" in youtube_id or youtube_id.startswith("."):
                raise bad_line(file, reader.line_num, f"bad label or youtube_id ({label!r}, {youtube_id!r})")
            rows.append((label, stem, reader.line_num))
    return rows


def _pick(paths: list[str], label: str) -> str:
    """Among files with the right name, prefer one inside a folder named like the class."""
    key = label.casefold().replace(" ", "_")
    for p in paths:
        parent = Path(p).parent.name.casefold().replace(" ", "_")
        if parent == key:
            return p
    return paths[0]


@register_layout("kinetics")
def build(data: DataConfig, split: str, training: bool, seed: int = 0) -> VideoClipDataset:
    check_split(split)
    root = Path(data.root)
    folder, csvs = annotation_csvs(root, data.annotations)
    if split not in csvs:
        raise UserError(f"kinetics: no {split} CSV in {folder} (file names containing "
                        f"{' or '.join(CSV_WORDS[split])})")
    rows = {s: read_csv(p) for s, p in csvs.items()}
    classes = sorted({label for split_rows in rows.values() for label, _, _ in split_rows})
    label_of = {name: i for i, name in enumerate(classes)}
    tree = FileTree(root, VIDEO_EXTENSIONS)
    by_stem = tree.by_stem()
    records, missing = [], []
    for label, stem, lineno in rows[split]:
        paths = by_stem.get(stem)
        if paths:
            records.append(VideoRecord(_pick(paths, label), label_of[label], source=f"{csvs[split]}:{lineno}"))
        else:
            missing.append(f"{label}/{stem}.mp4")
    return make_dataset(data, split, training, root=root, records=records, classes=classes, missing=missing,
                        sources=[csvs[s] for s in sorted(csvs)], skipped_links=tree.skipped_links)
