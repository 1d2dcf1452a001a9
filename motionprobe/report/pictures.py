"""Qualitative pictures: what the model was shown for the classes needing the least and the most motion.

For each of the two analysable classes (by the per-class motion bound at the k the pictures use: the
headline k when it had a generator), one clip of that class — the first one the original model gets
right, preferring one where max response and the oracle chose different frames — is drawn twice. A
class the model does not recognise on its full clips is never picked: its small bound means nothing
was recognised to lose, not that it needs no motion.

- `<role>_motion_generated` (the paper's Figures 4 and 6): the clip with the frame(s) the full
  analysis kept boxed in yellow, the clip the generator makes from them, and the motion (absolute
  frame differences) of the generated clip and of the real one, on the same scale.
- `<role>_motion_selectors` (Figures 9 and 10): the frames chosen by `best` (the method the motion
  bound used for this clip's half of the clips), by max response and by the oracle, boxed green when
  that choice's prediction is right and red when wrong, with the clips generated from the last two.

Each is a strip PNG and an animated GIF (T frames; real video frames shrunk to fit: report/canvas.py).
Which frames were chosen and what was predicted come from per_clip.csv; the clips are regenerated
(cheap: a handful of generator passes), and the model re-classifies them to check that the folders
given are the ones analysed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..analysis.engine import Generator, Model
from ..analysis.methods import BEST
from ..analysis.perclip import ID_COLUMNS, PROBE_COLUMN
from ..analysis.results_type import Results
from ..data.base import to_float
from ..errors import ConfigError, UserError
from .canvas import (
    RIGHT,
    SELECTED,
    WRONG,
    Row,
    animation,
    motion_frames,
    motion_magnitude,
    strip,
    to_frames,
    write_gif,
    write_png,
)
from .view import ClassRow, motion_extremes, percent

MOTION_SCALE_FLOOR = 0.05  # a still clip's noise is not stretched to full white


@dataclass
class Picture:
    name: str
    title: str
    caption: str
    png: Path
    gif: Path
    consistent: bool = True  # the regenerated clips got the predictions the analysis recorded


@dataclass
class ClipRecord:
    """One row of per_clip.csv: per method column ("original", "full@1", ...) the prediction and frames."""

    clip_id: str
    label: int
    class_name: str
    pred: dict[str, int]
    frames: dict[str, tuple[int, ...]]
    fold: int | None = None  # the half of the clips it fell in for the bound's choice


def read_per_clip(path: str | Path) -> list[ClipRecord]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: missing; pictures need the per_clip.csv the analysis writes")
    records = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            methods = [c for c in row if c not in ID_COLUMNS and not c.endswith("_frames")
                       and not c.startswith(PROBE_COLUMN)]
            records.append(ClipRecord(
                clip_id=row["clip_id"], label=int(row["label"]), class_name=row["class"],
                fold=int(row["fold"]) if row.get("fold", "") != "" else None,
                pred={m: int(row[m]) for m in methods},
                frames={m: tuple(int(i) for i in row[f"{m}_frames"].split()) for m in methods}))
    return records


def choose_clip(records: list[ClipRecord], class_name: str, k: int) -> ClipRecord | None:
    """The clip of `class_name` to draw: right on the original first, then max response ≠ oracle frames, then order."""
    full, oracle = f"full@{k}", f"oracle@{k}"
    mine = [r for r in records if r.class_name == class_name and full in r.pred]
    if not mine:
        return None
    return min(mine, key=lambda r: (r.pred["original"] != r.label, r.frames[full] == r.frames[oracle]))


def verdict(pred: int, label: int, classes: list[str], target: str = "label") -> str:
    """"predicts X (right)", or with target "prediction" whether it agrees with the full-clip prediction."""
    if target == "prediction":
        return f"predicts {classes[pred]} ({'agrees with' if pred == label else 'differs from'} the full clip)"
    return f"predicts {classes[pred]} ({'right' if pred == label else 'wrong'})"


def best_method(results: Results, record: ClipRecord, k: int) -> str:
    """The method `best` used for this clip at k: the one chosen on the other half of the clips."""
    choice = results.bound_method.get(str(k))
    folds = choice.folds if choice else [BEST, BEST]
    return folds[record.fold] if record.fold is not None else " / ".join(dict.fromkeys(folds))


def _frames_text(frames: tuple[int, ...]) -> str:
    return ("frame " if len(frames) == 1 else "frames ") + ", ".join(map(str, frames))


def _generate(generator: Generator, clip: torch.Tensor, subsets: list[tuple[int, ...]]) -> torch.Tensor:
    """The generated clips (n, 3, T, H, W) for each subset of the clip's frames (clip float (3, T, H, W))."""
    index = torch.tensor(subsets, dtype=torch.long, device=clip.device)
    frames = clip[:, index].permute(1, 0, 2, 3, 4)  # (n, 3, k, H, W)
    with torch.inference_mode():
        return generator(frames, index).float().clamp(0, 1)


def draw_pictures(results: Results, analysis_dir: str | Path, out_dir: str | Path, *, model: Model,
                  generators: dict[int, Generator], dataset: Any, k: int | None = None,
                  device: str | torch.device = "cpu") -> list[Picture]:
    """Strips and GIFs for the least and the most motion-dependent class; [] when no class has a bound.

    `model` and `generators` ({k: callable}) are the analysed ones (or equivalent callables);
    `dataset` holds the analysed clips (matched by id).
    """
    extremes = motion_extremes(results, k)
    if extremes is None:
        return []
    k = extremes.k
    if k not in generators:
        raise ConfigError("generator", f"the pictures are drawn at k={k}; give the generator for k={k}")
    records = read_per_clip(Path(analysis_dir) / "per_clip.csv")
    position = {str(clip_id): i for i, clip_id in enumerate(getattr(dataset, "ids", []))}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures = []
    roles = [("least", extremes.least), ("most", extremes.most)]
    if extremes.least.name == extremes.most.name:
        roles = roles[:1]
    for role, row in roles:
        record = choose_clip(records, row.name, k)
        if record is None:
            continue
        if record.clip_id not in position:
            raise ConfigError("data.dataset", f"clip {record.clip_id!r} of the analysis is not in the dataset given; "
                                              "draw the pictures with the dataset the analysis ran on")
        clip = to_float(dataset[position[record.clip_id]]["clip"]).to(device)
        pictures += _draw_clip(role, row, record, clip, model, generators[k], k, results, out_dir)
    return pictures


def _draw_clip(role: str, row: ClassRow, record: ClipRecord, clip: torch.Tensor, model: Model, generator: Generator,
               k: int, results: Results, out_dir: Path) -> list[Picture]:
    classes, target = list(results.classes), results.target or "label"
    full, oracle = f"full@{k}", f"oracle@{k}"
    chosen = {"full": record.frames[full], "oracle": record.frames[oracle]}
    generated = _generate(generator, clip, [chosen["full"], chosen["oracle"]])
    with torch.inference_mode():
        again = model(generated).argmax(dim=1).tolist()
    consistent = again == [record.pred[full], record.pred[oracle]]
    note = ("" if consistent else " Note: the regenerated clips are classified differently from the analysis "
            "(were other model or generator folders given?).")
    real = to_frames(clip)
    gen_full, gen_oracle = to_frames(generated[0]), to_frames(generated[1])
    real_motion, gen_motion = motion_magnitude(clip), motion_magnitude(generated[0])
    scale = max(MOTION_SCALE_FLOOR, float(torch.quantile(torch.cat([real_motion.flatten(), gen_motion.flatten()]), 0.995)))
    need = "the least" if role == "least" else "the most"
    header = (f"{row.name}: the class needing {need} motion (motion bound {percent(row.motion_bound, 0)} points, the "
              f"paper's bound {percent(row.paper_bound, 0)}, at k = {k}); clip {record.clip_id}")
    pictures = []

    full_verdict = verdict(record.pred[full], record.label, classes, target)
    rows = [Row(f"clip; full analysis keeps {_frames_text(chosen['full'])}", real, dict.fromkeys(chosen["full"], SELECTED)),
            Row(f"generated from {_frames_text(chosen['full'])}: {full_verdict}", gen_full),
            Row("motion of the generated clip", motion_frames(gen_motion, scale)),
            Row("motion of the real clip", motion_frames(real_motion, scale))]
    pictures.append(_picture(
        out_dir, f"{role}_motion_generated", f"{row.name}: kept frame(s), generated clip and its motion",
        f"{header}. The full analysis (max response) keeps {_frames_text(chosen['full'])} (yellow box); the generator "
        f"completes the clip, which the model {full_verdict}. Motion rows: absolute frame differences, white = "
        f"{100 * scale:.0f}% of the value range or more.{note}",
        header, rows, rows[:3], consistent))

    methods = ("full", "oracle") + ((BEST,) if f"{BEST}@{k}" in record.pred else ())
    verdicts = {m: (record.pred[f"{m}@{k}"] == record.label, verdict(record.pred[f"{m}@{k}"], record.label, classes, target))
                for m in methods}
    colour = {m: RIGHT if right else WRONG for m, (right, _) in verdicts.items()}
    every = range(real.shape[0])
    best_rows = [Row(f"best ({best_method(results, record, k)}) keeps {_frames_text(record.frames[f'{BEST}@{k}'])}: "
                     f"{verdicts[BEST][1]}", real, dict.fromkeys(record.frames[f"{BEST}@{k}"], colour[BEST]))
                 ] if BEST in verdicts else []
    rows = [*best_rows,
            Row(f"max response keeps {_frames_text(chosen['full'])}: {verdicts['full'][1]}", real,
                dict.fromkeys(chosen["full"], colour["full"])),
            Row(f"oracle keeps {_frames_text(chosen['oracle'])}: {verdicts['oracle'][1]}", real,
                dict.fromkeys(chosen["oracle"], colour["oracle"])),
            Row("generated from the max-response choice", gen_full, dict.fromkeys(every, colour["full"])),
            Row("generated from the oracle's choice", gen_oracle, dict.fromkeys(every, colour["oracle"]))]
    pictures.append(_picture(
        out_dir, f"{role}_motion_selectors", f"{row.name}: the frames best, max response and the oracle keep",
        f"{header}. Frames chosen by the bound's method (best), by max response and by the oracle among the candidate "
        f"subsets, green when that choice is classified right, red when wrong; below, the clips generated from the "
        f"last two.{note}",
        header, rows, [Row("clip, max-response frame(s) boxed", real, dict.fromkeys(chosen["full"], colour["full"])),
                       *rows[-2:]], consistent))
    return pictures


def _picture(out_dir: Path, name: str, title: str, caption: str, header: str, rows: list[Row], animated: list[Row],
             consistent: bool) -> Picture:
    """`rows` written as a strip under `header` (name.png) and `animated` as a GIF (name.gif)."""
    return Picture(name=name, title=title, caption=caption, png=write_png(strip(rows, header), out_dir / f"{name}.png"),
                   gif=write_gif(animation(animated), out_dir / f"{name}.gif"), consistent=consistent)
