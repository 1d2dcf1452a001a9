"""The paper's figures from results.json alone (matplotlib, Agg, PNG), in one style.

- Figure 3  `accuracy_vs_frames`: accuracy against the number of kept frames, the paper's methods and
  `best` with their bootstrap bands, the original as a horizontal line (chance dotted); beside it both
  bounds against k, the motion bound (original − best) first and the paper's (original − full).
- Figure 5  `per_class_full`: per class, the original bar vs the full analysis and `best` at the
  headline k, sorted by the motion bound, with the share of classes within 1 point of the original.
- `bounds_per_class`: per class, the motion bound and the paper's bound side by side with intervals.
- Figure 7  `pixel_vs_perceptual`: uniform, pixel-loss and perceptual generator side by side (overall
  and per planted kind), when a pixel generator ran.
- Figure 8  `generator_gain`: per class, generator − uniform at the headline k, with the share improved.
- `per_kind`: Figure 3 once per planted kind (the embedded benchmark only).
- The temporal probes' figures (report/probe_figures.py), and the graded probes' and the stride and
  coverage curves' (report/temporal_figures.py), when probes ran.

Classes the model does not recognise on their full clips are not analysable: the per-class figures
draw them apart, labelled so, never as classes that need no motion. Each function takes the `Results`
and the PNG path and returns a `Figure` record; when what it needs did not run it writes nothing
and the record says why (`skipped`).

An analysis that ran no generator, on the replicated frames alone (one clip per class, no probe):

>>> import tempfile
>>> est = {"value": 0.9, "ci": [0.8, 1.0], "n": 10}
>>> row = {"n": 1, "original": 1.0, "analysable": True, "uniform": {"1": 1.0}, "best": {"1": 1.0},
...        "motion_bound": {"1": 0.0}, "motion_bound_ci": {"1": [0.0, 0.0]}}
>>> results = Results.from_json({
...     "schema": "motionprobe.results/1", "frames": [1], "classes": ["a", "b"], "num_clips": 10, "num_frames": 8,
...     "ci_level": 0.95, "accuracy": {"original": est, "uniform": {"1": est}, "best": {"1": est}},
...     "motion_bound": {"1": est}, "paper_bound": {}, "per_class": {"a": row, "b": row}})
>>> for figure in make_figures(results, tempfile.mkdtemp()):
...     print(f"{figure.name}: {figure.skipped or figure.path.name}")
fig3_accuracy_vs_frames: fig3_accuracy_vs_frames.png
fig5_per_class: fig5_per_class.png
bounds_per_class: bounds_per_class.png
fig7_pixel_vs_perceptual: needs a pixel-loss and a perceptual generator for the same k
fig8_generator_gain: needs the generator method (a generator); it did not run
per_kind: the dataset declares no kinds of class (only the embedded benchmark does)
probes_per_kind: no temporal probe ran
probe_vs_bound: no temporal probe ran
graded_probes: no graded temporal probe ran
stride_curve: no stride or coverage probe ran
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from ..analysis.methods import BEST, BOUNDS, LEGEND
from ..analysis.results_type import Accuracy, ByK, Results
from ..analysis.stats import Estimate
from .plotting import (
    COLORS,
    DPI,
    FIG3_HEIGHT,
    FIG3_WIDTH,
    HEIGHT,
    KIND_PANEL_WIDTH,
    STYLE,
    WIDTH,
    Figure,
    class_ticks,
    grouped_bars,
    per_class_width,
    plain,
    save,
    skip,
)
from .probe_figures import probe_vs_bound, probes_per_kind
from .temporal_figures import graded_probes, stride_curve
from .view import ClassRow, class_rows, headline_k, most_motion_first, picture_k, score_word

LINESTYLES = {"oracle": ":", "random": "--", "paper_bound": "--"}
MARKERS = {BEST: "s", "motion_bound": "s"}
CURVES = ("uniform", "generator", "full", BEST, "oracle", "random", "pixel_generator")  # Figure 3's lines
BANDS = ("full", BEST)  # the curves drawn with their bands (more would hide each other)
NOT_ANALYSABLE = "#f2f2f2"
__all__ = ["DPI", "FIG3_HEIGHT", "FIG3_WIDTH", "HEIGHT", "KIND_PANEL_WIDTH", "WIDTH", "Figure", "make_figures",
           "per_class_width"]


def _series(per_k: ByK) -> list[tuple[int, Estimate]]:
    return sorted((int(k), e) for k, e in per_k.items() if e and e.value is not None)


def _curve(ax: Axes, series: list[tuple[int, Estimate]], name: str, scale: float = 100, band: bool = True) -> None:
    """One method (or bound) against k: a line (with its band), or an error bar for a single k."""
    ks = [k for k, _ in series]
    values = [scale * e.value for _, e in series]
    lo = [scale * e.ci[0] for _, e in series]
    hi = [scale * e.ci[1] for _, e in series]
    color, ls, marker = COLORS[name], LINESTYLES.get(name, "-"), MARKERS.get(name, "o")
    width = 2.2 if name in (BEST, "motion_bound") else 1.6
    if len(ks) > 1:
        ax.plot(ks, values, color=color, ls=ls, marker=marker, ms=4, lw=width, label=LEGEND[name])
        if band:
            ax.fill_between(ks, lo, hi, color=color, alpha=0.15, lw=0)
    else:
        ax.errorbar(ks, values, yerr=[[v - a for v, a in zip(values, lo, strict=True)],
                                      [b - v for v, b in zip(values, hi, strict=True)]],
                    color=color, marker=marker, ms=5, capsize=3, ls="none", label=LEGEND[name])


def _k_axis(ax: Axes, frames: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(frames, [str(k) for k in frames])
    ax.minorticks_off()
    ax.set_xlim(min(frames) / 1.4, max(frames) * 1.4)
    ax.set_xlabel("frames kept (k)")


def _accuracy_panel(ax: Axes, accuracy: Accuracy | None, frames: list[int], num_classes: int, title: str) -> list[str]:
    """Accuracy (%) against k on a log2 axis: bands for methods with several k's, error bars for one.
    Returns the methods drawn."""
    drawn = []
    accuracy = accuracy or Accuracy(None)
    orig = accuracy.original
    if orig and orig.value is not None:
        ax.axhline(100 * orig.value, color=COLORS["original"], lw=1.6, label=LEGEND["original"])
        drawn.append("original")
        ax.axhspan(100 * orig.ci[0], 100 * orig.ci[1], color=COLORS["original"], alpha=0.08, lw=0)
    if num_classes:
        ax.axhline(100 / num_classes, color="#666666", lw=0.8, ls=(0, (1, 3)), label="chance")
    for method in CURVES:
        series = _series(accuracy.of(method))
        if series:
            drawn.append(method)
            _curve(ax, series, method, band=method in BANDS)
    _k_axis(ax, frames)
    ax.set_ylim(0, 100)
    ax.set_title(title)
    return drawn


def accuracy_vs_frames(results: Results, path: str | Path) -> Figure:
    """Figure 3: accuracy (%) against k with 95% bands, original as a line; both bounds against k beside it."""
    word = score_word(results)
    name, title = "fig3_accuracy_vs_frames", f"{word.capitalize()} vs number of frames kept (Figure 3)"
    if not any(results.accuracy.of(m) for m in CURVES):
        return skip(name, title, "no per-k method ran")
    frames = list(results.frames)
    with plt.rc_context(STYLE):
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(FIG3_WIDTH, FIG3_HEIGHT), layout="constrained",
                                     gridspec_kw={"width_ratios": [1.5, 1]})
        panel = f"{word} on {results.num_clips} clips ({int(100 * results.ci_level)}% bootstrap bands)"
        shows = _accuracy_panel(ax, results.accuracy, frames, len(results.classes), panel)
        ax.set_ylabel(f"clip {word} (%)")
        for bound in BOUNDS:
            series = _series(results.bound(bound))
            if series:
                shows.append(bound)
                _curve(bx, series, bound)
        bx.axhline(0, color="black", lw=0.8)
        _k_axis(bx, frames)
        bx.set_ylabel("bound (points)")
        bx.set_title("how much of it may need motion")
        handles, labels = ax.get_legend_handles_labels()
        more, names = bx.get_legend_handles_labels()
        fig.legend(handles + more, labels + names, loc="outside lower center", ncol=5, frameon=False)
        path = save(fig, Path(path))
    caption = (f"Left: clip {word} when the model sees only k of the clip's {results.num_frames} frames: replicated "
               "(uniform), completed by the temporal generator, with the frames chosen by max response (full analysis), "
               "an oracle or at random, and best, the label-free method chosen without the test labels (the other "
               "selectors are in the table); bands (95%) for the full analysis and best, the original's in grey. "
               "Right: the motion bound (original − best) and the paper's bound (original − full), in points: at most "
               f"this much of the {word} needs motion.")
    return Figure(name, title, caption, path, shows=shows)


def _least_motion_first(results: Results, k: int) -> list[ClassRow]:
    """Analysable classes by motion bound, least first, then the not analysable ones."""
    rows = most_motion_first(class_rows(results, k))
    analysable = [r for r in rows if r.analysable and r.motion_bound is not None]
    return analysable[::-1] + [r for r in rows if not r.analysable]


def _mark_not_analysable(ax: Axes, rows: list[ClassRow], y: float) -> None:
    """Shade the not-analysable classes (drawn last) and say so above them."""
    first = next((i for i, r in enumerate(rows) if not r.analysable), None)
    if first is None:
        return
    ax.axvspan(first - 0.5, len(rows) - 0.5, color=NOT_ANALYSABLE, zorder=0)
    ax.text((first + len(rows) - 1) / 2, y, "not analysable\n(model fails on full clips)", ha="center", va="top",
            fontsize=7.5, color="#555555")


def _per_class_figure(results: Results, path: str | Path, k: int | None, name: str, title: str,
                      draw: Callable[[Results, plt.Figure, Axes, list[ClassRow], int], str]) -> Figure:
    """One mark per class at k (default: the headline k), least motion first, drawn by `draw(results, fig, ax,
    rows, k)`, which returns the caption. `title` has `{at}` where " at k = K" goes; without a k that has a
    motion bound the figure is skipped."""
    k = headline_k(results) if k is None else k
    if k is None:
        return skip(name, title.format(at=""), "no k has a motion bound")
    rows = _least_motion_first(results, k)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(per_class_width(len(rows)), HEIGHT), layout="constrained")
        caption = draw(results, fig, ax, rows, k)
        path = save(fig, Path(path))
    return Figure(name, title.format(at=f" at k = {k}"), caption, path, shows=[r.name for r in rows])


def per_class_full(results: Results, path: str | Path, k: int | None = None) -> Figure:
    """Figure 5: per class, original vs full analysis and best at k, sorted by the motion bound (least first)."""
    return _per_class_figure(results, path, k, "fig5_per_class",
                             "Per class: original vs the motion-free methods{at} (Figure 5)", _draw_per_class_full)


def _draw_per_class_full(results: Results, fig: plt.Figure, ax: Axes, rows: list[ClassRow], k: int) -> str:
    within = results.class_summary.within_1_point.get(BEST, {}).get(str(k))
    word = score_word(results)
    x = range(len(rows))
    ax.bar(x, [100 * r.original for r in rows], color="#dddddd", edgecolor="#888888", lw=0.5, label=LEGEND["original"])
    for method in ("full", BEST):
        points = [(i, r.methods.get(method)) for i, r in enumerate(rows) if r.analysable]
        points = [(i, v) for i, v in points if v is not None]
        if points:
            ax.plot([i for i, _ in points], [100 * v for _, v in points], MARKERS.get(method, "o"),
                    color=COLORS[method], ms=4.5, label=f"{LEGEND[method]}, k = {k}")
    class_ticks(ax, [r.name for r in rows])
    _mark_not_analysable(ax, rows, 103)
    ax.set_ylim(0, 108)
    ax.set_ylabel(f"class {word} (%)")
    share = f"\nbest within 1 point of the original in {100 * within:.0f}% of them" if within is not None else ""
    # two short lines: one long line is cut at the figure's edges on a dozen classes
    ax.set_title(f"classes sorted by motion bound (original − best), least motion first; k = {k}{share}", fontsize=9)
    fig.legend(loc="outside upper center", ncol=3, frameon=False)
    return (f"Per-class {word} of the original clip (grey bars), of the best motion-free method (squares) and of the "
            f"paper's full analysis (dots) with k = {k} frame(s); the distance from the bar down to the square is the "
            "class's motion bound. Classes on the left need the least motion; the shaded ones on the right are not "
            "analysable (the model does not recognise their full clips).")


def bounds_per_class(results: Results, path: str | Path, k: int | None = None) -> Figure:
    """Per class at k: the motion bound and the paper's bound side by side, with their intervals."""
    return _per_class_figure(results, path, k, "bounds_per_class",
                             "Per class: the motion bound and the paper's bound{at}", _draw_bounds_per_class)


def _draw_bounds_per_class(results: Results, fig: plt.Figure, ax: Axes, rows: list[ClassRow], k: int) -> str:
    bounds = [b for b in BOUNDS if any(r.analysable and getattr(r, b) is not None for r in rows)]
    width = 0.8 / max(1, len(bounds))
    top = 0.0
    for j, bound in enumerate(bounds):
        drawn = [(i, *r.bound(bound)) for i, r in enumerate(rows) if r.analysable and getattr(r, bound) is not None]
        x = [i - 0.4 + width * (j + 0.5) for i, _, _ in drawn]
        values = [100 * v for _, v, _ in drawn]
        lo = [v - 100 * ci[0] if ci else 0.0 for (_, _, ci), v in zip(drawn, values, strict=True)]
        hi = [100 * ci[1] - v if ci else 0.0 for (_, _, ci), v in zip(drawn, values, strict=True)]
        ax.bar(x, values, width * 0.9, color=COLORS[bound], alpha=0.85 if bound == "motion_bound" else 0.6,
               yerr=[lo, hi], capsize=1.5, error_kw={"lw": 0.7}, label=LEGEND[bound])
        ax.plot(x, values, "_", color=COLORS[bound], ms=7, mew=2)  # a bound of 0 is a bar of no height: mark it
        top = max([top] + [v + h for v, h in zip(values, hi, strict=True)])
    ax.axhline(0, color="black", lw=0.8)
    class_ticks(ax, [r.name for r in rows])
    ax.set_ylim(min(-5.0, ax.get_ylim()[0]), max(10.0, top * 1.15 + 5))
    _mark_not_analysable(ax, rows, ax.get_ylim()[1] * 0.95)
    ax.set_ylabel("bound (points)")
    ax.set_title(f"classes sorted by motion bound, least motion first; k = {k}")
    if bounds:
        fig.legend(loc="outside upper center", ncol=2, frameon=False)
    return (f"For each class at k = {k}: the motion bound (original − best motion-free method, chosen without the "
            "test labels) and the paper's bound (original − full analysis), in points, with 95% bootstrap intervals "
            "over the class's clips. Not analysable classes (shaded) have no bar: nothing was recognised to lose.")


def pixel_vs_perceptual(results: Results, path: str | Path) -> Figure:
    """Figure 7: uniform, pixel-loss and perceptual generator at the k's that had both, overall and per kind."""
    name, title = "fig7_pixel_vs_perceptual", "Pixel vs perceptual generator (Figure 7)"
    ks = [k for k in results.accuracy.ks("pixel_generator") if k in results.accuracy.ks("generator")]
    if not ks:
        return skip(name, title, "needs a pixel-loss and a perceptual generator for the same k")
    k = ks[0]
    blocks = [("all classes", results.accuracy)]
    blocks += [(kind, entry.accuracy or Accuracy(None)) for kind, entry in results.per_kind.items()]
    methods = ["uniform", "pixel_generator", "generator"]
    groups = [(label, acc.original, {m: acc.at(m, k) for m in methods}) for label, acc in blocks]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT), layout="constrained")
        grouped_bars(ax, groups, methods, COLORS, LEGEND, original_label=LEGEND["original"],
                     ylabel=f"clip {score_word(results)} (%)")
        ax.set_title(f"k = {k} frame(s) kept")
        path = save(fig, Path(path))
    caption = (f"With k = {k}: the frames replicated (uniform), completed by a generator trained on pixels, and by one "
               "trained on the model's features (perceptual). Error bars are 95% bootstrap intervals.")
    return Figure(name, title, caption, path)


def generator_gain(results: Results, path: str | Path, k: int | None = None) -> Figure:
    """Figure 8: per analysable class, generator − uniform at k (points) with its paired interval, sorted."""
    k = picture_k(results) if k is None else k
    name, title = "fig8_generator_gain", f"Per-class gain of the generator over uniform at k = {k} (Figure 8)"
    if k is None or k not in results.accuracy.ks("generator"):
        return skip(name, "Per-class gain of the generator over uniform (Figure 8)",
                    "needs the generator method (a generator); it did not run")
    everyone = class_rows(results, k)
    rows = [r for r in everyone if r.analysable and r.generator_minus_uniform
            and r.generator_minus_uniform.value is not None]
    rows.sort(key=lambda r: (-r.generator_minus_uniform.value, r.name))
    gains = [100 * r.generator_minus_uniform.value for r in rows]
    lo = [g - 100 * r.generator_minus_uniform.ci[0] for g, r in zip(gains, rows, strict=True)]
    hi = [100 * r.generator_minus_uniform.ci[1] - g for g, r in zip(gains, rows, strict=True)]
    improves = results.class_summary.generator_improves.get(str(k))
    ties = results.class_summary.generator_ties.get(str(k))
    left_out = sum(1 for r in everyone if not r.analysable)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(per_class_width(len(rows)), HEIGHT), layout="constrained")
        colors = [COLORS["oracle"] if g > 0 else COLORS["full"] if g < 0 else "#999999" for g in gains]
        ax.bar(range(len(rows)), gains, color=colors, yerr=[lo, hi], capsize=1.5, error_kw={"lw": 0.7, "ecolor": "#444444"})
        ax.axhline(0, color="black", lw=0.8)
        class_ticks(ax, [r.name for r in rows])
        ax.set_ylabel("generator − uniform (points)")
        ax.set_title(f"k = {k}: analysable classes sorted by gain" + (f" ({left_out} not analysable left out)"
                                                                     if left_out else ""))
        if improves is not None:
            text = f"generator improves {100 * improves:.0f}% of classes"
            if ties is not None:
                text += f", ties {100 * ties:.0f}%"
            ax.text(0.99, 0.98, text, transform=ax.transAxes, va="top", ha="right", fontsize=9,
                    bbox={"boxstyle": "round", "fc": "white", "ec": "#888888"})
        path = save(fig, Path(path))
    caption = (f"For each analysable class, {score_word(results)} with the generator minus with the replicated frame(s), "
               f"k = {k}, with its paired 95% interval: green where the generator helps, orange where it hurts.")
    return Figure(name, title, caption, path, shows=[r.name for r in rows])


def per_kind(results: Results, path: str | Path) -> Figure:
    """Figure 3 once per planted kind of class of the embedded benchmark."""
    name, title = "per_kind", f"{score_word(results).capitalize()} vs frames per planted kind"
    kinds = results.per_kind
    if not kinds:
        return skip(name, title, "the dataset declares no kinds of class (only the embedded benchmark does)")
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(kinds), figsize=(KIND_PANEL_WIDTH * len(kinds) + 1.8, HEIGHT),
                                 sharey=True, layout="constrained", squeeze=False)
        for ax, (kind, entry) in zip(axes[0], kinds.items(), strict=True):
            _accuracy_panel(ax, entry.accuracy, list(results.frames), len(results.classes),
                            f"{plain(kind)} ({len(entry.classes)} classes, {entry.n} clips)")
        axes[0][0].set_ylabel(f"clip {score_word(results)} (%)")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right center", frameon=False)
        path = save(fig, Path(path))
    caption = ("The same curves per planted kind: appearance classes should need no motion, motion classes should "
               "fall to chance without it, key-frame classes should gain from choosing frames (full over uniform), "
               "and implied-motion classes, lost when a frame is replicated, should come back with the generator.")
    return Figure(name, title, caption, path)


def make_figures(results: Results, folder: str | Path) -> list[Figure]:
    """Every figure into `folder` (created) as <name>.png; skipped ones are returned with the reason."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    makers = {"fig3_accuracy_vs_frames": accuracy_vs_frames, "fig5_per_class": per_class_full,
              "bounds_per_class": bounds_per_class, "fig7_pixel_vs_perceptual": pixel_vs_perceptual,
              "fig8_generator_gain": generator_gain, "per_kind": per_kind, "probes_per_kind": probes_per_kind,
              "probe_vs_bound": probe_vs_bound, "graded_probes": graded_probes, "stride_curve": stride_curve}
    return [make(results, folder / f"{name}.png") for name, make in makers.items()]

