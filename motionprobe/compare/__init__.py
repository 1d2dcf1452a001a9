"""`motionprobe compare`: several analysis folders side by side, paired where their clips match.

    from motionprobe.compare import compare
    page = compare(["runs/c3d/analysis", "runs/videomae/analysis", "runs/demo-real/analysis"], "runs/compare")

writes compare.html, compare.json, ranking.csv, differences.csv and figures/ into the output folder
(docs/report.md, "Comparing runs"). Modules: runs.py (reading the folders, what is comparable and
paired), differences.py (the statistics), figures.py, page.py.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from ..analysis.card import headline_k
from ..analysis.stats import CI_LEVEL, Estimate
from ..errors import ConfigError
from ..io import atomic_write_json, atomic_write_text, make_folder
from .differences import compare_pair
from .figures import bound_vs_k, class_scatter, probe_drops, slug, stride_curves
from .page import render, write_tables
from .runs import Run, load_runs, why_apart, why_unpaired

SCHEMA = "motionprobe.compare/1"


def summarize_runs(runs: list[Run], n_boot: int = 1000, level: float = CI_LEVEL) -> dict:
    """compare.json's content: the runs and their cards, those shown apart and why, the ranking of the comparable
    ones (most motion first) and the differences of every comparable pair."""
    reference = runs[0]
    apart = [{"name": r.name, "reason": why} for r in runs[1:] if (why := why_apart(r, reference))]
    kept = [r for r in runs if r.name not in {a["name"] for a in apart}]
    k = headline_k(reference.ks)
    bound = {r.name: _value(r.results.motion_bound.get(str(k))) for r in kept}
    ranking = sorted(kept, key=lambda r: (-(bound[r.name] if bound[r.name] is not None else float("-inf")), r.name))
    differences = []
    for a, b in combinations(kept, 2):
        why, order = why_unpaired(a, b)
        differences.append({**compare_pair(a, b, order, n_boot, level), "why_unpaired": why})
    return {"schema": SCHEMA, "k": k, "bootstrap": n_boot, "ci_level": level,
            "runs": [{**r.describe(), "card": r.results.card.to_json() if r.results.card else {}} for r in runs],
            "apart": apart,
            "ranking": [r.name for r in ranking], "differences": differences}


def _value(est: Estimate | None) -> float | None:
    return est.value if est else None


def compare(folders: list[str | Path], out: str | Path, *, n_boot: int = 1000, level: float = CI_LEVEL) -> Path:
    """Compare the analysis folders into `out`; returns compare.html's path."""
    if not folders:
        raise ConfigError("runs", "give at least one analysis folder")
    if not (isinstance(n_boot, int) and not isinstance(n_boot, bool) and n_boot >= 1):
        raise ConfigError("bootstrap", f"expected a positive number of resamples, got {n_boot!r}")
    runs = load_runs(list(folders))
    out = make_folder(out)
    summary = summarize_runs(runs, n_boot, level)
    apart = {a["name"] for a in summary["apart"]}
    figures_dir = out / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    figures = [bound_vs_k(runs, apart, figures_dir / "bound_vs_k.png"),
               probe_drops(runs, apart, figures_dir / "probe_drops.png"),
               stride_curves(runs, apart, figures_dir / "stride_curves.png")]
    kept = [r for r in runs if r.name not in apart]
    for b in kept[1:]:
        a = kept[0]
        figures.append(class_scatter(a, b, summary["k"], figures_dir / f"classes_{slug(a.name)}_vs_{slug(b.name)}.png"))
    summary["figures"] = {f.name: (f"figures/{f.path.name}" if f.path is not None else None) for f in figures}
    atomic_write_json(out / "compare.json", summary)
    write_tables(summary, out)
    page = out / "compare.html"
    atomic_write_text(page, render(summary, figures, out))
    return page
