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
    header += [f"uniform_gap@{k}" for k in ks] + [f"motion_bound_f1@{k}" for k in bound_ks]
    rows = []
    for name, entry in results["per_class"].items():
        row = [name, entry.get("kind") or "", entry["n"], entry["original"]]
        row += [entry[m].get(k) for m, k in ran]
        for k in bound_ks:
            ci = entry["motion_bound_ci"].get(k) or [None, None]
            row += [entry["motion_bound"].get(k), ci[0], ci[1]]
        row += [entry["uniform_gap"].get(k) for k in ks] + [entry["motion_bound_f1"].get(k) for k in bound_ks]
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


def _cell(est: dict | None) -> str:
    if not est or est.get("value") is None:
        return "—"
    lo, hi = est["ci"]
    return f"{100 * est['value']:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"


def format_table(results: dict) -> str:
    """The Figure-3 table as text: clip accuracy (%) with 95% intervals per method and k, and the motion bound.

    >>> est = {"value": 0.5, "ci": [0.4, 0.6], "n": 10}
    >>> print(format_table({"frames": [1], "num_clips": 10, "accuracy": {"original": est, "uniform": {"1": est}},
    ...                     "motion_bound": {}}))  # doctest: +NORMALIZE_WHITESPACE
    clip accuracy % [95% CI] on 10 clips; original (all 16 frames): 50.0 [40.0, 60.0]
    k  uniform
    1  50.0 [40.0, 60.0]
    """
    acc = results["accuracy"]
    methods = [m for m in METHODS[1:] if acc.get(m)]
    columns = methods + (["motion_bound"] if results.get("motion_bound") else [])
    lines = [f"clip accuracy % [95% CI] on {results['num_clips']} clips; original (all 16 frames): "
             f"{_cell(acc['original'])}"]
    table = [["k"] + columns]
    for k in map(str, results["frames"]):
        row = [k] + [_cell(acc[m].get(k)) for m in methods]
        if "motion_bound" in columns:
            row.append(_cell(results["motion_bound"].get(k)))
        table.append(row)
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    return "\n".join(lines)
