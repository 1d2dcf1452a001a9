"""Writing the outputs of an analysis: results.json, per_class.csv and per_clip.csv (schema: docs/results-schema.md),
and the Figure-3 table that both the terminal and report.html show."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import atomic_write_json, atomic_write_text, csv_text
from ..selection import mask_subset
from .methods import BEST, BOUNDS, METHOD, METHODS
from .outcomes import Outcomes
from .perclip import PROBE_COLUMN
from .results_type import Results
from .stats import Estimate

TERMINAL_METHODS = ("uniform", "generator", "full", "oracle", "pixel_generator", BEST)  # the rest: results.json, report


def per_class_rows(results: Results) -> tuple[list[str], list[list]]:
    """per_class.csv as a header and rows: `<method>@<k>` columns, then the bounds with their intervals."""
    ks = [str(k) for k in results.frames]
    ran = [(m, k) for m in (*METHODS[1:], BEST) for k in ks if k in results.accuracy.of(m)]
    bound_ks = {name: [k for k in ks if k in results.bound(name)] for name in BOUNDS}
    header = ["class", "kind", "n", "analysable", "original"] + [f"{m}@{k}" for m, k in ran]
    header += [c for name in BOUNDS for k in bound_ks[name] for c in (f"{name}@{k}", f"{name}@{k}_lo", f"{name}@{k}_hi")]
    header += [f"uniform_gap@{k}" for k in ks] + [f"motion_bound_f1@{k}" for k in bound_ks["motion_bound"]]
    rows = []
    for name, entry in results.per_class.items():
        row = [name, entry.kind or "", entry.n, int(entry.analysable), entry.original]
        row += [entry.accuracy(m, k) for m, k in ran]
        for bound in BOUNDS:
            for k in bound_ks[bound]:
                ci = entry.bound_cis[bound].get(k) or [None, None]
                row += [entry.bounds[bound].get(k), ci[0], ci[1]]
        row += [_value(entry.gap("uniform_gap", k)) for k in ks]
        row += [entry.motion_bound_f1.get(k) for k in bound_ks["motion_bound"]]
        rows.append(["" if v is None else v for v in row])
    return header, rows


def _value(est: Estimate | None) -> float | None:
    return None if est is None else est.value


def write_per_class_csv(path: str | Path, results: Results) -> None:
    atomic_write_text(path, csv_text(*per_class_rows(results)))


def write_per_clip_csv(path: str | Path, outcomes: Outcomes, classes: list[str], num_frames: int) -> None:
    """One row per clip: its target, then per method and k the predicted class and the chosen frames, then per
    temporal probe the share of its draws right (empty where it did not run): what `compare` pairs runs on."""
    keys = [key for key in outcomes.keys() if key[0] in (*METHODS, BEST)]
    names = ["original" if k is None else f"{m}@{k}" for m, k in keys]
    probes = list(outcomes.probe_correct)
    header = ["clip_id", "label", "class", "fold"] + [c for n in names for c in (n, f"{n}_frames")]
    header += [f"{PROBE_COLUMN}{name}" for name in probes]
    rows = []
    for i, clip_id in enumerate(outcomes.ids):
        label = int(outcomes.labels[i])
        row = [clip_id, label, classes[label] if 0 <= label < len(classes) else "",
               "" if outcomes.folds is None else int(outcomes.folds[i])]
        for key in keys:
            row += [int(outcomes.pred[key][i]), " ".join(map(str, mask_subset(int(outcomes.frames[key][i]), num_frames)))]
        shares = [outcomes.probe_correct[name][i] for name in probes]
        rows.append(row + [f"{v:.6g}" if np.isfinite(v) else "" for v in shares])
    atomic_write_text(path, csv_text(header, rows))


def write_results(path: str | Path, results: Results) -> None:
    atomic_write_json(path, results.to_json())


@dataclass
class Figure3:
    """The table of accuracies (%) per method and k, and the bounds: column keys, then one row per k."""

    columns: list[str]
    rows: list[tuple[str, list[Estimate | None]]]  # (k, an estimate per column)


def figure3(results: Results, methods: tuple[str, ...] = (*METHOD, BEST)) -> Figure3:
    """Which of `methods` ran and their estimates per k, in table order, then the bounds (shared by the
    terminal and the report)."""
    columns = [m for m in methods if results.accuracy.of(m)] + [b for b in BOUNDS if results.bound(b)]
    rows = [(k, [(results.bound(c) if c in BOUNDS else results.accuracy.of(c)).get(k) for c in columns])
            for k in map(str, results.frames)]
    return Figure3(columns, rows)


def _cell(est: Estimate | None) -> str:
    if est is None or est.value is None:
        return "—"
    lo, hi = est.ci
    return f"{100 * est.value:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"


def what_is_scored(results: Results) -> str:
    return "agreement with the full-clip prediction" if results.by_prediction else "clip accuracy"


def format_table(results: Results) -> str:
    """The Figure-3 table as text: % [95% CI] per method and k, and the bounds.

    >>> est = {"value": 0.5, "ci": [0.4, 0.6], "n": 10}
    >>> results = Results.from_json({"schema": "motionprobe.results/1", "frames": [1], "num_clips": 10,
    ...                              "num_frames": 16, "accuracy": {"original": est, "uniform": {"1": est}}})
    >>> print(format_table(results))  # doctest: +NORMALIZE_WHITESPACE
    clip accuracy % [95% CI] on 10 clips; original (all 16 frames): 50.0 [40.0, 60.0]
    k  uniform
    1  50.0 [40.0, 60.0]
    """
    table = figure3(results, TERMINAL_METHODS)
    lines = [f"{what_is_scored(results)} % [95% CI] on {results.num_clips} clips; original (all "
             f"{results.num_frames} frames): {_cell(results.accuracy.original)}"]
    cells = [["k"] + table.columns] + [[k] + [_cell(e) for e in ests] for k, ests in table.rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    chosen = {k: " / ".join(results.chosen(k)) for k in results.bound_method}
    if chosen:
        lines.append("best: the motion-free method chosen for each half of the clips on the other half ("
                     + "; ".join(f"k={k} {m}" for k, m in chosen.items()) + "); motion_bound = original − best, "
                     "paper_bound = original − full")
    return "\n".join(lines)


def format_probes(results: Results) -> str:
    """The temporal probes as text: accuracy and drop (original − probe, points) with intervals, per probe.

    >>> est = {"value": 0.25, "ci": [0.2, 0.3], "n": 10}
    >>> print(format_probes(Results.from_json({"schema": "motionprobe.results/1",
    ...                                        "probes": {"accuracy": {"shuffle": est}, "drop": {"shuffle": est}}})))
    temporal probes: clip accuracy % and drop (original − probe, points) [95% CI]
    probe    accuracy           drop
    shuffle  25.0 [20.0, 30.0]  25.0 [20.0, 30.0]
    """
    probes = results.probes
    if probes is None or not probes.accuracy:
        return ""
    score = "agreement" if results.by_prediction else "accuracy"
    rows = [["probe", score, "drop"]] + [[name, _cell(est), _cell(probes.drop[name])]
                                        for name, est in probes.accuracy.items()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    scored = what_is_scored(results)
    lines = [f"temporal probes: {scored} % and drop (original − probe, points) [95% CI]"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    robustness = results.graded.robustness.get("overall") if results.graded else None
    demand = results.sampling.temporal_demand if results.sampling else None
    if robustness and robustness.value is not None:
        lines.append(f"relative temporal robustness (probe / original, mean over the families' severities): "
                     f"{robustness.value:.2f} [{robustness.ci[0]:.2f}, {robustness.ci[1]:.2f}]")
    if demand and demand.value is not None:
        lines.append(f"temporal demand (stride 1 → {demand.to_stride}, points): {_cell(demand)}")
    agreement = probes.bound_agreement
    rho = agreement.get("shuffle_spearman")
    if rho is not None:
        lines.append(f"per class, the shuffle drop ranks the {agreement['classes']} analysable classes like the motion "
                     f"bound at k = {agreement['k']} with Spearman ρ = {rho:.2f}")
    return "\n".join(lines)


def summary_text(results: Results) -> str:
    """What a run prints when it ends: the Figure-3 table, the probes, and a line for what to distrust."""
    parts = [format_table(results)]
    check = results.model_check
    if check and check.weak:
        parts.append(f"warning: the model gets only {100 * check.original:.1f}% of the full clips right (below the "
                     f"{100 * check.class_floor:.0f}% floor): no bound here describes a model that knows these classes")
    if check and check.not_analysable:
        names = ", ".join(check.not_analysable[:8]) + (" …" if len(check.not_analysable) > 8 else "")
        parts.append(f"not analysable (recognised on fewer than {100 * check.class_floor:.0f}% of their full clips, "
                     f"so no bound is claimed): {names}")
    probes = format_probes(results)
    if probes:
        parts.append(probes)
    if results.skipped.count:
        parts.append(f"skipped {results.skipped.count} clip(s) that failed to load (listed in results.json)")
    return "\n".join(parts)
