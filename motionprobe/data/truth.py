"""The planted-truth file: which kind of evidence decides each class of a dataset whose truth is known.

    <root>/truth.json
    {"format": "motionprobe.planted-truth/1",
     "classes": ["dahlia", "roll_ne", "flash_negative", "comet_up", ...],
     "kinds": {"dahlia": "appearance", "roll_ne": "motion", "flash_negative": "keyframe", "comet_up": "implied"},
     "truth": {"appearance": "which photograph is pasted decides; ...", "motion": "...", ...},
     "clips": {"dahlia/v_dahlia_g01_c01.avi": {"kind": "appearance", "num_frames": 31}, ...}}

`kinds` gives every class one of KINDS; `truth` says in words what each kind means in this dataset;
`clips` (optional) holds what was planted in each video, keyed by the video's path as the clip ids name
it (the part before '#'), e.g. key-frame positions or a direction. Other top-level fields are free.

Every file layout applies it (`make_dataset`): from `data.truth` when set, else from the first
`truth.json` with a known format in the root, the folder the videos are read from, or the root's parent.
Its kinds and descriptions become `metadata["kinds"]` and `metadata["truth"]`, which the analysis
reports per kind. A file whose classes are not the dataset's is refused with one line: per-kind
figures over the wrong classes would be silently wrong. Files written by `data export-synthetic`
before this format (`motionprobe.synthetic-export/1`) read the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UserError
from ..io import atomic_write_json, read_json

FORMAT = "motionprobe.planted-truth/1"
SYNTHETIC_EXPORT_FORMAT = "motionprobe.synthetic-export/1"  # the export's own format before FORMAT existed
FORMATS = (FORMAT, SYNTHETIC_EXPORT_FORMAT)
FILE_NAME = "truth.json"
KINDS = ("appearance", "motion", "keyframe", "implied")
NEEDS_MOTION = ("motion",)  # the kinds only motion decides: the positives when the bounds are scored on the truth
ONE_FRAME_KINDS = ("keyframe", "implied")  # decided by one frame (at its place, or showing motion's trace)


@dataclass(frozen=True)
class PlantedTruth:
    path: Path
    classes: list[str]
    kinds: dict[str, str]  # class → one of KINDS
    descriptions: dict[str, str] = field(default_factory=dict)  # kind → what it means in this dataset
    clips: dict[str, dict] = field(default_factory=dict)  # video path → what was planted in it
    format: str = FORMAT

    def metadata_for(self, classes: Sequence[str]) -> dict[str, Any]:
        """{"kinds", "truth", "truth_file"} in the dataset's own spelling of its classes, or a one-line error
        when the classes differ (names match case-insensitively, as the ucf101 layout's do)."""
        ours = {c.casefold(): c for c in self.classes}
        theirs = {c.casefold(): c for c in classes}
        missing = [theirs[c] for c in theirs if c not in ours]
        extra = [ours[c] for c in ours if c not in theirs]
        if missing or extra:
            parts = ([f"the dataset's {_few(missing)} not in it"] if missing else []) + \
                    ([f"its {_few(extra)} not in the dataset"] if extra else [])
            raise UserError(f"{self.path}: planted truth for other classes than the dataset's ({'; '.join(parts)})")
        kinds = {theirs[c.casefold()]: kind for c, kind in self.kinds.items()}
        out = {"kinds": {c: kinds[c] for c in classes}, "truth": dict(self.descriptions), "truth_file": str(self.path)}
        if self.format == SYNTHETIC_EXPORT_FORMAT:
            out["exported_from"] = "synthetic"
        return out


def _few(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"class{'es' if len(names) > 1 else ''} {shown}"


def parse_truth(data: Any, path: Path) -> PlantedTruth:
    """Check a loaded truth file; every problem is one line naming the file."""
    def bad(message: str) -> UserError:
        return UserError(f"{path}: {message}")

    if not isinstance(data, dict):
        raise bad(f"expected a JSON object with \"format\": \"{FORMAT}\"")
    if data.get("format") not in FORMATS:
        raise bad(f"format {data.get('format')!r} is not a planted-truth format (expected {FORMAT!r})")
    classes, kinds = data.get("classes"), data.get("kinds")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) and c for c in classes):
        raise bad("\"classes\" must be a non-empty list of class names")
    if len({c.casefold() for c in classes}) != len(classes):
        raise bad("\"classes\" names a class twice")
    if not isinstance(kinds, dict):
        raise bad("\"kinds\" must map each class to its kind")
    if set(kinds) != set(classes):
        odd = sorted(set(classes) ^ set(kinds))
        raise bad(f"\"kinds\" must name exactly the classes of \"classes\" (differs at {', '.join(odd[:3])})")
    odd = {c: k for c, k in kinds.items() if k not in KINDS}
    if odd:
        c, k = next(iter(odd.items()))
        raise bad(f"class {c!r} has kind {k!r}; expected one of {', '.join(KINDS)}")
    descriptions, clips = data.get("truth", {}), data.get("clips", {})
    if not isinstance(descriptions, dict) or not all(isinstance(v, str) for v in descriptions.values()):
        raise bad("\"truth\" must map each kind to a description")
    if not isinstance(clips, dict) or not all(isinstance(v, dict) for v in clips.values()):
        raise bad("\"clips\" must map each video path to an object")
    return PlantedTruth(path, list(classes), dict(kinds), dict(descriptions), dict(clips), data["format"])


def read_truth(path: str | Path) -> PlantedTruth:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: planted-truth file not found")
    return parse_truth(read_json(path), path)


def write_truth(path: str | Path, classes: Sequence[str], kinds: Mapping[str, str], descriptions: Mapping[str, str],
                clips: Mapping[str, dict] | None = None, **extra: Any) -> PlantedTruth:
    """Check and write a truth file atomically; `extra` adds free top-level fields (how it was made)."""
    data = {"format": FORMAT, "classes": list(classes), "kinds": dict(kinds), "truth": dict(descriptions),
            **extra, "clips": dict(clips or {})}
    truth = parse_truth(data, Path(path))
    atomic_write_json(path, data)
    return truth


def find_truth(folders: Sequence[Path]) -> PlantedTruth | None:
    """The first truth.json in `folders` that claims a planted-truth format; files of other tools are passed over."""
    for folder in dict.fromkeys(folders):
        path = folder / FILE_NAME
        if not path.is_file():
            continue
        try:
            data = read_json(path)
        except UserError:
            continue  # not JSON: not ours
        if isinstance(data, dict) and data.get("format") in FORMATS:
            return parse_truth(data, path)
    return None


def truth_metadata(explicit: str | None, root: str | None, videos: Path, classes: Sequence[str]) -> dict[str, Any]:
    """What a file layout adds to its metadata: the planted truth of `data.truth` (`explicit`) or the one found
    beside the data (`root` is `data.root`, `videos` the folder the layout reads videos from); {} without one."""
    if explicit:
        if not Path(explicit).is_file():
            raise ConfigError("data.truth", f"{explicit}: planted-truth file not found")
        truth = read_truth(explicit)
    else:
        base = Path(root) if root else videos
        base = base if base.is_dir() else base.parent  # the list layout's root may be a list file
        truth = find_truth([base, videos, base.parent])
    if truth is None or not (classes or explicit):
        return {}  # a truth file found beside an unlabelled folder describes some other dataset
    if not classes:
        raise UserError(f"{truth.path}: planted truth for an unlabelled dataset (it has no classes)")
    return truth.metadata_for(classes)
