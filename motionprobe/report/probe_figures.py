"""The temporal probes' figures (`Results.probes`; the probes: motionprobe/probes.py).

- `probes_per_kind`: accuracy under each probe, overall and per planted kind, with the original clip's
  accuracy as the reference line of each group.
- `probe_vs_bound`: per analysable class, the motion bound (x) against the shuffle drop (y), classes
  labelled, the Spearman ρ of the two in the title. The diagonal drop = bound separates what motion
  could explain (below it) from what it cannot (above): a shuffled clip makes moving objects jump,
  which the model never saw, and that artifact costs accuracy whether or not the class needs motion.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from ..analysis.results_type import Results
from ..probes import CLASSIC
from .plotting import COLORS, HEIGHT, STYLE, WIDTH, Figure, grouped_bars, plain, save, skip
from .view import class_rows, score_word

# One colour per probe (Okabe–Ito again, in another order than the methods' so a probe never looks like one).
PROBE_COLORS = {"shuffle": "#D55E00", "reverse": "#0072B2", "freeze": "#999999", "slow": "#009E73",
                "fast": "#E69F00", "local_shuffle": "#CC79A7"}
KIND_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
SCATTER_PROBE = "shuffle"  # the probe most often read as "temporal sensitivity"


def probes_per_kind(results: Results, path: str | Path) -> Figure:
    """Accuracy (%) under each probe, with its interval, for all classes and each planted kind."""
    word = score_word(results)
    name, title = "probes_per_kind", f"Temporal probes: {word} per probe" + (" and kind" if results.per_kind else "")
    probes = results.probes
    if probes is None or not probes.accuracy:
        return skip(name, title, "no temporal probe ran")
    # one severity per family (the classic probes): the graded ones have their own figure, graded_probes
    names = [n for n in probes.accuracy if n in CLASSIC] or list(probes.accuracy)
    groups = results.probe_groups()
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(max(WIDTH, 1.2 * len(groups) + 2.5), HEIGHT), layout="constrained")
        grouped_bars(ax, groups, names, {**PROBE_COLORS, "original": COLORS["original"]}, {},
                     original_label="original (all frames in order)",
                     ylabel=f"clip {word} (%)", capsize=1.5, error_lw=0.7, original_lw=1.8)
        ax.set_title(f"{word} under each temporal probe (95% bootstrap intervals)")
        path = save(fig, Path(path))
    caption = (f"Clip {word} when the same {results.num_frames} frames are shown in another temporal order "
               "(shuffled, reversed, frozen, slowed, sped up, shuffled locally), for all classes and per planted kind; "
               f"the black line of each group is its original clips' {word}. A probe's drop mixes the motion the "
               "model uses with the probe's own artifacts: compare it with the motion bound.")
    return Figure(name, title, caption, path, shows=names)


def probe_vs_bound(results: Results, path: str | Path) -> Figure:
    """Per analysable class: the motion bound at the probes' k (x) against the shuffle drop (y), in points."""
    name = "probe_vs_bound"
    probes = results.probes
    if probes is None or not probes.accuracy:
        return skip(name, "Shuffle drop vs motion bound", "no temporal probe ran")
    probe = SCATTER_PROBE if SCATTER_PROBE in probes.accuracy else next(iter(probes.accuracy))
    agreement = probes.bound_agreement
    k = agreement.get("k")
    title = f"{probe.capitalize()} drop vs motion bound" + (f" at k = {k}" if k is not None else "")
    if k is None:
        return skip(name, title, "no per-class motion bound to compare with")
    points = []
    for row in class_rows(results, k):
        drop = probes.class_drop(row.name, probe)
        if row.analysable and row.motion_bound is not None and drop is not None:
            points.append((row, 100 * row.motion_bound, 100 * drop))
    if not points:
        return skip(name, title, "no analysable class has both a motion bound and a probe drop")
    rho = agreement.get(f"{probe}_spearman")
    rho_text = f"Spearman ρ = {rho:.2f}" if rho is not None else "Spearman ρ: too few classes"
    title = f"{title} ({rho_text})"
    kinds = sorted({r.kind for r, _, _ in points if r.kind})
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, WIDTH * 0.75), layout="constrained")
        values = [v for _, x, y in points for v in (x, y)]
        lo, hi = min(0.0, *values) - 5, max(10.0, *values) + 8
        ax.plot([lo, hi], [lo, hi], color="#888888", lw=0.8, ls="--", label="drop = motion bound")
        for i, kind in enumerate(kinds or [None]):
            mine = [(r, x, y) for r, x, y in points if r.kind == kind or not kinds]
            ax.plot([x for _, x, _ in mine], [y for _, _, y in mine], KIND_MARKERS[i % len(KIND_MARKERS)], ms=6,
                    alpha=0.8, label=plain(kind) if kind else None)
        for row, x, y in points:
            ax.annotate(plain(row.name), (x, y), xytext=(4, 3), textcoords="offset points", fontsize=7)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(f"motion bound at k = {k} (points; original − best motion-free method)")
        ax.set_ylabel(f"{probe} drop (points; original − {probe})")
        ax.set_title(f"{probe} drop vs motion bound per class, {rho_text} ({len(points)} analysable classes)")
        ax.legend(loc="upper left", frameon=True, framealpha=0.9)
        path = save(fig, Path(path))
    caption = (f"Each analysable class at k = {k}: how much of its {score_word(results)} may need motion (the motion "
               f"bound, x) and how much it loses when its frames are {'shuffled' if probe == 'shuffle' else 'probed'} "
               "(y). Above the dashed diagonal a class loses more than motion can explain: the rest is the probe's own "
               "artifact (moving objects jump in a shuffled clip, which the model never saw).")
    return Figure(name, title, caption, path, shows=[r.name for r, _, _ in points])
