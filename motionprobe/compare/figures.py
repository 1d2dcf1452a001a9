"""The comparison's figures, from the runs' results.json alone (one colour per run throughout).

- `bound_vs_k`: every run's motion bound against k, with its 95% band (a run shown apart is dashed);
- `probe_drops`: every probe's drop (original − probe) per run, side by side, with intervals;
- `stride_curves`: every run's accuracy against the stride its clips were read at, with bands;
- `classes_<a>_vs_<b>`: per class shared by two comparable runs, one run's motion bound against the other's.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt

from ..analysis.stats import Estimate
from ..probes import TABLE
from ..report.plotting import HEIGHT, STYLE, WIDTH, Figure, plain, save, skip
from .runs import Run

RUN_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999")


def color(i: int) -> str:
    return RUN_COLORS[i % len(RUN_COLORS)]


def _band(ax, xs: list[float], estimates: list[Estimate], label: str, c: str, dashed: bool) -> None:
    """A run's curve with its 95% band; a single point with its interval as an error bar."""
    if len(xs) == 1:
        v, (lo, hi) = 100 * estimates[0].value, (100 * x for x in estimates[0].ci)
        ax.errorbar(xs, [v], yerr=[[v - lo], [hi - v]], color=c, marker="o", ms=5, capsize=3, ls="none",
                    label=plain(label))
        return
    ax.plot(xs, [100 * e.value for e in estimates], marker="o", ms=4, color=c, lw=1.8, ls="--" if dashed else "-",
            label=plain(label))
    ax.fill_between(xs, [100 * e.ci[0] for e in estimates], [100 * e.ci[1] for e in estimates], color=c,
                    alpha=0.13, lw=0)


def _curves(ax, runs: list[Run], apart: set[str], estimates_of, min_points: int) -> set[int]:
    """Each run's estimates by x (k or stride: `estimates_of(run)` maps "x" to an estimate) as a band over a log₂ x
    axis, runs with fewer than `min_points` left out; returns the x's drawn (empty: nothing was)."""
    drawn: set[int] = set()
    for i, run in enumerate(runs):
        series = sorted((int(x), e) for x, e in estimates_of(run).items() if e and e.value is not None)
        if len(series) < min_points:
            continue
        drawn.update(x for x, _ in series)
        label = run.name + (" (shown apart)" if run.name in apart else "")
        _band(ax, [x for x, _ in series], [e for _, e in series], label, color(i), run.name in apart)
    if drawn:
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted(drawn), [str(x) for x in sorted(drawn)])
        ax.minorticks_off()
    return drawn


def bound_vs_k(runs: list[Run], apart: set[str], path: Path) -> Figure:
    name, title = "bound_vs_k", "Motion bound against k, every run"
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT), layout="constrained")
        ks = _curves(ax, runs, apart, lambda run: run.results.motion_bound, min_points=1)
        if not ks:
            plt.close(fig)
            return skip(name, title, "no run has a motion bound")
        ax.set_xlabel("frames kept (k)")
        ax.set_ylabel("motion bound (points; original − best motion-free)")
        ax.axhline(0, color="#888888", lw=0.8)
        ax.legend(frameon=False)
        ax.set_title("motion bound vs k (95% bootstrap bands)")
        path = save(fig, path)
    return Figure(name, title, "Each run's motion bound (original − the best motion-free method, chosen without the "
                               "test labels) at every k it analysed, with its 95% interval. Dashed: a run shown apart "
                               "(it scores another target, other clip lengths or other k's).", path)


def probe_drops(runs: list[Run], apart: set[str], path: Path) -> Figure:
    name, title = "probe_drops", "Temporal probe drops, every run"
    names = [p.name for p in TABLE if any(p.name in r.probe_drops for r in runs)]
    if not names:
        return skip(name, title, "no run ran a temporal probe")
    width = 0.8 / len(runs)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(max(WIDTH, 0.75 * len(names) + 3), HEIGHT), layout="constrained")
        for i, run in enumerate(runs):
            drops = run.probe_drops
            label = plain(run.name + (" (shown apart)" if run.name in apart else ""))
            for j, probe in enumerate(names):
                est = drops.get(probe)
                if not est or est.value is None:
                    continue
                v = 100 * est.value
                ax.bar(j - 0.4 + width * (i + 0.5), v, width * 0.9, color=color(i),
                       hatch="//" if run.name in apart else None, capsize=1.5, error_kw={"lw": 0.7}, label=label,
                       yerr=[[v - 100 * est.ci[0]], [100 * est.ci[1] - v]])
                label = None  # one legend entry per run
        ax.set_xticks(range(len(names)), names, rotation=40, ha="right")
        ax.axhline(0, color="#888888", lw=0.8)
        ax.grid(axis="x", visible=False)
        ax.set_ylabel("drop (points; original − probe)")
        ax.legend(frameon=False, loc="upper left")
        ax.set_title("drop under each temporal probe (95% intervals)")
        path = save(fig, path)
    return Figure(name, title, "How much each run loses under each temporal probe, graded families mildest first "
                               "(shuffle windows, reverse, freeze shares, speed ×0.25 … ×16), with 95% intervals.", path)


def stride_curves(runs: list[Run], apart: set[str], path: Path) -> Figure:
    name, title = "stride_curves", "Accuracy against stride, every run"
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT), layout="constrained")
        drawn = _curves(ax, runs, apart, lambda run: run.results.sampling.stride if run.results.sampling else {},
                        min_points=2)
        if not drawn:
            plt.close(fig)
            return skip(name, title, "no run read its clips at another stride")
        ax.set_ylim(0, 105)
        ax.set_xlabel("stride (× the clip's own)")
        ax.set_ylabel("clip accuracy or agreement (%)")
        ax.legend(frameon=False)
        ax.set_title("score against the stride the clip is read at (95% bands)")
        path = save(fig, path)
    return Figure(name, title, "Each run's accuracy (or agreement) when its clips are read at 1 … 16 times their "
                               "stride: the temporal demand is the fall from the first point to the last.", path)


def class_scatter(a: Run, b: Run, k: int, path: Path) -> Figure:
    """Per class both runs have (by name): a's motion bound at k (x) against b's (y), with intervals."""
    name = f"classes_{slug(a.name)}_vs_{slug(b.name)}"
    title = f"Per-class motion bound at k = {k}: {a.name} vs {b.name}"
    pa, pb = a.results.per_class, b.results.per_class
    shared = [c for c in pa if c in pb and pa[c].analysable and pb[c].analysable
              and pa[c].bounds["motion_bound"].get(str(k)) is not None
              and pb[c].bounds["motion_bound"].get(str(k)) is not None]
    if len(shared) < 2:
        return skip(name, title, "fewer than 2 analysable classes shared by name")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH * 0.8, WIDTH * 0.7), layout="constrained")
        xs = [100 * pa[c].bounds["motion_bound"][str(k)] for c in shared]
        ys = [100 * pb[c].bounds["motion_bound"][str(k)] for c in shared]
        xci = [pa[c].bound_cis["motion_bound"][str(k)] for c in shared]
        yci = [pb[c].bound_cis["motion_bound"][str(k)] for c in shared]
        xe = [[x - 100 * ci[0] for x, ci in zip(xs, xci, strict=True)],
              [100 * ci[1] - x for x, ci in zip(xs, xci, strict=True)]]
        ye = [[y - 100 * ci[0] for y, ci in zip(ys, yci, strict=True)],
              [100 * ci[1] - y for y, ci in zip(ys, yci, strict=True)]]
        lo, hi = min(0.0, *xs, *ys) - 5, max(10.0, *xs, *ys) + 8
        ax.plot([lo, hi], [lo, hi], color="#888888", lw=0.8, ls="--", label="equal bounds")
        ax.errorbar(xs, ys, xerr=xe, yerr=ye, fmt="o", ms=5, color=RUN_COLORS[0], ecolor="#bbbbbb", elinewidth=0.8)
        for c, x, y in zip(shared, xs, ys, strict=True):
            ax.annotate(plain(c), (x, y), xytext=(4, 3), textcoords="offset points", fontsize=7)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(plain(f"{a.name}: motion bound at k = {k} (points)"))
        ax.set_ylabel(plain(f"{b.name}: motion bound at k = {k} (points)"))
        ax.legend(frameon=False, loc="upper left")
        ax.set_title(plain(f"{len(shared)} classes analysable in both"))
        path = save(fig, path)
    return Figure(name, title, f"Each class analysable in both runs: how much of its score may need motion under "
                               f"{a.name} (x) and {b.name} (y), with per-class 95% intervals. Above the diagonal the "
                               f"second run needs more motion for that class.", path, shows=shared)


def slug(text: str) -> str:
    """A run name as a file-name part: `runs/c3d analysis` → `runs-c3d-analysis`."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-") or "run"
