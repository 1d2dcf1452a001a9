"""The graded probes' and the temporal-sampling figures (`Results.graded`, `Results.sampling`).

- `graded_probes`: one panel per probe family (shuffle, reverse, freeze, speed), accuracy against the
  family's severities, mildest first, for all classes and each planted kind, the original at the left
  ("none"); each panel's title gives the family's relative robustness with its interval.
- `stride_curve`: accuracy against the stride at which the clip is read (1, 2, 4, 8, 16, log axis) and
  against its temporal coverage (100, 50, 25 % of the clip stretched over its frames), all classes with
  their band and each planted kind; the temporal demand (stride 1 − the largest) in the title.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from ..analysis.results_type import Results
from ..analysis.stats import Estimate
from .plotting import COLORS, HEIGHT, STYLE, Figure, plain, save, skip
from .view import score_word

KIND_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999")
PANEL_WIDTH = 3.1


def _line(ax, xs: list, estimates: list[Estimate | None], label: str, color: str, band: bool) -> None:
    points = [(x, e) for x, e in zip(xs, estimates, strict=True) if e and e.value is not None]
    if not points:
        return
    x = [p for p, _ in points]
    ax.plot(x, [100 * e.value for _, e in points], marker="o", ms=3.5, color=color, lw=2.0 if band else 1.2,
            label=plain(label))
    if band:
        ax.fill_between(x, [100 * e.ci[0] for _, e in points], [100 * e.ci[1] for _, e in points], color=color,
                        alpha=0.15, lw=0)


def graded_probes(results: Results, path: str | Path) -> Figure:
    """Accuracy (%) against severity, one panel per probe family."""
    name, title = "graded_probes", f"Graded temporal probes: {score_word(results)} against severity"
    families = results.graded.families if results.graded else {}
    if not families:
        return skip(name, title, "no graded temporal probe ran")
    groups = results.probe_groups()
    robustness = results.graded.robustness
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(families), figsize=(PANEL_WIDTH * len(families) + 1.8, HEIGHT), sharey=True,
                                 layout="constrained", squeeze=False)
        for ax, (family, members) in zip(axes[0], families.items(), strict=True):
            # the original is severity "none", at the left; for speed it is ×1, between slowed and sped up
            neutral = sum(m["severity"] < 1 for m in members) if family == "speed" else 0
            labels = [m["label"] for m in members]
            labels.insert(neutral, "×1" if family == "speed" else "none")
            for g, (label, original, estimates) in enumerate(groups):
                color = COLORS["original"] if g == 0 else KIND_COLORS[(g - 1) % len(KIND_COLORS)]
                shown = [estimates.get(m["probe"]) for m in members]
                shown.insert(neutral, original)
                _line(ax, list(range(len(labels))), shown, label, color, band=g == 0)
            ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
            ax.grid(axis="x", visible=False)
            est = robustness.get(family)
            rob = (f"robustness {est.value:.2f} [{est.ci[0]:.2f}, {est.ci[1]:.2f}]"
                   if est and est.value is not None else "robustness —")
            ax.set_title(f"{family}\n{rob}")
            ax.set_ylim(0, 105)
        axes[0][0].set_ylabel(f"clip {score_word(results)} (%)")
        handles, labels_ = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels_, loc="outside right center", frameon=False)
        path = save(fig, Path(path))
    speeds = ", ".join(m["label"] for m in families.get("speed", []))
    caption = (f"Clip {score_word(results)} under each probe family at its graded severities (mildest first; 'none' is "
               "the original clip; ×1 for speed), for all classes (with its 95% band) and per planted kind. Robustness: "
               f"the mean over the family's severities of probe / original {score_word(results)} (Schiappa et al.'s "
               "relative robustness), with its paired bootstrap interval."
               + (f" The speed family runs from slowed to sped up ({speeds})." if speeds else ""))
    return Figure(name, title, caption, path, shows=list(families))


def stride_curve(results: Results, path: str | Path) -> Figure:
    """Accuracy (%) against the read's stride, and against temporal coverage."""
    name, title = "stride_curve", f"Stride and coverage curves: {score_word(results)}"
    sampling = results.sampling
    if sampling is None or (not sampling.stride and not sampling.coverage):
        return skip(name, title, "no stride or coverage probe ran")
    groups = results.probe_groups()
    names = sampling.probes
    demand = sampling.temporal_demand
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(11.0, HEIGHT), sharey=True, layout="constrained")
        for ax, curve, axis_label in ((axes[0], "stride", "stride (× the clip's own)"),
                                      (axes[1], "coverage", "temporal coverage (share of the clip)")):
            members = names.get(curve) or []
            xs = [1.0] + [float(x) for x in list(getattr(sampling, curve))[1:]]
            for g, (label, original, estimates) in enumerate(groups):
                color = COLORS["original"] if g == 0 else KIND_COLORS[(g - 1) % len(KIND_COLORS)]
                _line(ax, xs, [original] + [estimates.get(m) for m in members], label, color, band=g == 0)
            ax.set_xscale("log", base=2)
            ax.set_xticks(xs, [f"{x:g}" if curve == "stride" else f"{100 * x:g}%" for x in xs])
            ax.minorticks_off()
            if curve == "coverage":
                ax.invert_xaxis()
            ax.set_xlabel(axis_label)
            ax.set_ylim(0, 105)
        axes[0].set_ylabel(f"clip {score_word(results)} (%)")
        td = (f"temporal demand (stride 1 → {demand.to_stride}) {100 * demand.value:.1f} points "
              f"[{100 * demand.ci[0]:.1f}, {100 * demand.ci[1]:.1f}]" if demand else "no stride above 1 ran")
        axes[0].set_title(td)
        axes[1].set_title("the clip's first share stretched over its frames")
        handles, labels_ = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels_, loc="outside right center", frameon=False)
        path = save(fig, Path(path))
    strides = ", ".join(list(sampling.stride)[1:]) or "no other"
    shares = ", ".join(f"{100 * float(c):g}%" for c in list(sampling.coverage)[1:]) or "no smaller"
    caption = (f"Left: clip {score_word(results)} when the clip is read at {strides} times its stride from its video "
               "(the sped-up probes; a window running past a short video is filled by the short-video policy, counted "
               "in results.json). The temporal demand is infoRates' Temporal Demand Score: what is lost from stride 1 to "
               f"the largest. Right: reduced temporal coverage, the clip's first {shares} shown over all its frames "
               "(the slowed probes). All classes with their 95% band, and per planted kind.")
    return Figure(name, title, caption, path)
