"""Writing the outputs of an analysis: results.json, per_class.csv and per_clip.csv (schema: docs/results-schema.md)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..io import atomic_write_json, atomic_write_text
from ..selection import mask_subset
from .summary import METHODS, Outcomes

SCHEMA = "motionprobe.results/1"


def per_class_rows(results: dict) -> tuple[list[str], list[list]]:
    """per_class.csv as a header and rows: `<method>@<k>` columns, then the motion bound with its interval."""
    ks = [str(k) for k in results["frames"]]
    ran = [(m, k) for m in METHODS[1:] for k in ks if k in results["accuracy"][m]]
    bound_ks = [k for k in ks if k in results["motion_bound"]]
    header = ["class", "kind", "n", "original"] + [f"{m}@{k}" for m, k in ran]
    header += [c for k in bound_ks for c in (f"motion_bound@{k}", f"motion_bound@{k}_lo", f"motion_bound@{k}_hi")]
    header += [f"uniform_gap@{k}" for k in ks]
    rows = []
    for name, entry in results["per_class"].items():
        row = [name, entry.get("kind") or "", entry["n"], entry["original"]]
        row += [entry[m].get(k) for m, k in ran]
        for k in bound_ks:
            ci = entry["motion_bound_ci"].get(k) or [None, None]
            row += [entry["motion_bound"].get(k), ci[0], ci[1]]
        row += [entry["uniform_gap"].get(k) for k in ks]
        rows.append(["" if v is None else v for v in row])
    return header, rows


def _csv_text(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(header)
    out.writerows(rows)
    return buf.getvalue()


def write_per_class_csv(path: str | Path, results: dict) -> None:
    atomic_write_text(path, _csv_text(*per_class_rows(results)))


def write_per_clip_csv(path: str | Path, outcomes: Outcomes, classes: list[str], num_frames: int) -> None:
    """One row per clip: its label, then per method and k the predicted class and the chosen frames."""
    keys = [key for key in outcomes.keys() if key[0] in METHODS]
    names = ["original" if k is None else f"{m}@{k}" for m, k in keys]
    header = ["clip_id", "label", "class"] + [c for n in names for c in (n, f"{n}_frames")]
    rows = []
    for i, clip_id in enumerate(outcomes.ids):
        label = int(outcomes.labels[i])
        row = [clip_id, label, classes[label]]
        for key in keys:
            row += [int(outcomes.pred[key][i]), " ".join(map(str, mask_subset(int(outcomes.frames[key][i]), num_frames)))]
        rows.append(row)
    atomic_write_text(path, _csv_text(header, rows))


def write_results(path: str | Path, results: dict) -> None:
    atomic_write_json(path, results)
