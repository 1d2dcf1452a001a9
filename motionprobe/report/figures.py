"""The paper's figures from results.json alone (matplotlib, Agg, PNG), in one style.

- Figure 3  `accuracy_vs_frames`: clip accuracy against the number of kept frames, every method with
  its bootstrap band, the original as a horizontal line (and chance as a dotted one).
- Figure 5  `per_class_full`: per class, original vs the full analysis at the headline k, sorted by
  the motion bound, with the share of classes within 1 point of the original.
- Figure 7  `pixel_vs_perceptual`: uniform, pixel-loss and perceptual generator side by side (overall
  and per planted kind), when a pixel generator ran.
- Figure 8  `generator_gain`: per class, generator − uniform at the headline k, with the share improved.
- `per_kind`: Figure 3 once per planted kind (the embedded benchmark only).

Each function takes the results dict and the PNG path and returns a `Figure` record; when the
methods it needs did not run it writes nothing and the record says why (`skipped`).

An analysis that ran no generator (the original and the replicated frames only) gets Figure 3 alone:

>>> import tempfile
>>> est = {"value": 0.9, "ci": [0.8, 1.0], "n": 10}
>>> results = {"frames": [1], "classes": ["a", "b"], "num_clips": 10, "ci_level": 0.95, "motion_bound": {},
...            "accuracy": {"original": est, "uniform": {"1": est}}}
>>> for figure in make_figures(results, tempfile.mkdtemp()):
...     print(f"{figure.name}: {figure.skipped or figure.path.name}")
fig3_accuracy_vs_frames: fig3_accuracy_vs_frames.png
fig5_per_class: needs the full analysis (a generator); it did not run
fig7_pixel_vs_perceptual: needs a pixel-loss and a perceptual generator for the same k
fig8_generator_gain: needs the generator method (a generator); it did not run
per_kind: the dataset declares no kinds of class (only the embedded benchmark does)
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display: the same on a laptop, a server and CI

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from ..io import atomic_write_bytes  # noqa: E402
from .view import LABELS, class_rows, headline_k, ks_with, methods_present  # noqa: E402

DPI = 100
WIDTH, HEIGHT = 7.5, 4.5  # inches: 750×450 px for the fixed-size figures
KIND_PANEL_WIDTH = 3.4  # inches per planted kind in the per-kind figure
# Okabe–Ito colours (readable by colour-blind readers); one colour per method in every figure.
COLORS = {"original": "#000000", "uniform": "#999999", "generator": "#0072B2", "full": "#D55E00",
          "oracle": "#009E73", "random": "#CC79A7", "pixel_generator": "#E69F00"}
LINESTYLES = {"oracle": ":", "random": "--"}
STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 7.5,
         "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
         "figure.dpi": DPI, "savefig.dpi": DPI}


@dataclass
class Figure:
    """One figure: where it was written (None when skipped), and what it shows or why it is missing."""

    name: str
    title: str
    caption: str
    path: Path | None
    skipped: str | None = None
    shows: list[str] = field(default_factory=list)  # methods drawn (Figure 3), or classes in drawing order


def per_class_width(num_classes: int) -> float:
    """Width in inches of the per-class figures: room for a label per class, within 7.5–18 in."""
    return min(18.0, max(WIDTH, 1.5 + 0.17 * num_classes))


def plain(text: str) -> str:
    """Dataset text safe for matplotlib: a '$' would otherwise start mathtext (and may fail to parse)."""
    return text.replace("$", r"\$")


def _save(fig: plt.Figure, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)  # fixed canvas: no bbox_inches="tight", the size stays known
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _skip(name: str, title: str, why: str) -> Figure:
    return Figure(name=name, title=title, caption="", path=None, skipped=why)


def _accuracy_panel(ax: Axes, accuracy: dict, frames: list[int], num_classes: int, title: str) -> list[str]:
    """Accuracy (%) against k on a log2 axis: bands for methods with several k's, error bars for one.
    Returns the methods drawn."""
    drawn = []
    orig = accuracy["original"]
    if orig and orig.get("value") is not None:
        ax.axhline(100 * orig["value"], color=COLORS["original"], lw=1.6, label=LABELS["original"])
        drawn.append("original")
        ax.axhspan(100 * orig["ci"][0], 100 * orig["ci"][1], color=COLORS["original"], alpha=0.08, lw=0)
    if num_classes:
        ax.axhline(100 / num_classes, color="#666666", lw=0.8, ls=(0, (1, 3)), label="chance")
    for method in (m for m in LABELS if m in accuracy and m != "original"):
        series = sorted((int(k), e) for k, e in accuracy.get(method, {}).items() if e and e.get("value") is not None)
        if not series:
            continue
        drawn.append(method)
        ks = [k for k, _ in series]
        values = [100 * e["value"] for _, e in series]
        lo = [100 * e["ci"][0] for _, e in series]
        hi = [100 * e["ci"][1] for _, e in series]
        color, ls = COLORS[method], LINESTYLES.get(method, "-")
        if len(ks) > 1:
            ax.plot(ks, values, color=color, ls=ls, marker="o", ms=4, lw=1.6, label=LABELS[method])
            ax.fill_between(ks, lo, hi, color=color, alpha=0.15, lw=0)
        else:
            ax.errorbar(ks, values, yerr=[[v - a for v, a in zip(values, lo, strict=True)],
                                          [b - v for v, b in zip(values, hi, strict=True)]],
                        color=color, marker="o", ms=5, capsize=3, ls="none", label=LABELS[method])
    ax.set_xscale("log", base=2)
    ax.set_xticks(frames, [str(k) for k in frames])
    ax.minorticks_off()
    ax.set_xlim(min(frames) / 1.4, max(frames) * 1.4)
    ax.set_ylim(0, 100)
    ax.set_xlabel("frames kept (k)")
    ax.set_title(title)
    return drawn


def accuracy_vs_frames(results: dict, path: str | Path) -> Figure:
    """Figure 3: clip accuracy (%) against k for every method that ran, 95% bands, original as a line."""
    name, title = "fig3_accuracy_vs_frames", "Accuracy vs number of frames kept (Figure 3)"
    if not methods_present(results):
        return _skip(name, title, "no per-k method ran")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT), layout="constrained")
        title_text = f"clip accuracy on {results['num_clips']} clips ({int(100 * results['ci_level'])}% bootstrap bands)"
        shows = _accuracy_panel(ax, results["accuracy"], list(results["frames"]), len(results["classes"]), title_text)
        ax.set_ylabel("clip accuracy (%)")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        path = _save(fig, Path(path))
    caption = ("Clip accuracy when the model sees only k of the clip's frames: replicated (uniform), completed by "
               "the temporal generator, and with the frames chosen by max response (full analysis), an oracle or at "
               "random. The gap between the original line and the full analysis is the motion upper bound.")
    return Figure(name, title, caption, path, shows=shows)


def per_class_full(results: dict, path: str | Path, k: int | None = None) -> Figure:
    """Figure 5: per class, original vs full analysis at k, sorted by the bound (least motion first)."""
    k = headline_k(results) if k is None else k
    name, title = "fig5_per_class", f"Per class: original vs full analysis at k = {k} (Figure 5)"
    if k is None or k not in ks_with(results, "full"):
        return _skip(name, "Per class: original vs full analysis (Figure 5)",
                     "needs the full analysis (a generator); it did not run")
    rows = sorted((r for r in class_rows(results, k) if r.full is not None), key=lambda r: (r.original - r.full, r.name))
    within = results["class_summary"]["within_1_point"].get("full", {}).get(str(k))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(per_class_width(len(rows)), HEIGHT), layout="constrained")
        x = range(len(rows))
        ax.bar(x, [100 * r.original for r in rows], color="#dddddd", edgecolor="#888888", lw=0.5, label=LABELS["original"])
        ax.vlines(x, [100 * r.full for r in rows], [100 * r.original for r in rows], color=COLORS["full"], lw=0.8, alpha=0.6)
        ax.plot(x, [100 * r.full for r in rows], "o", color=COLORS["full"], ms=4, label=f"{LABELS['full']}, k = {k}")
        _class_ticks(ax, [r.name for r in rows])
        ax.set_ylim(0, 105)
        ax.set_ylabel("class accuracy (%)")
        ax.set_title(f"classes sorted by motion bound (original − full), least motion first; k = {k}")
        if within is not None:
            ax.text(0.01, 0.98, f"{100 * within:.0f}% of classes within 1 point of the original",
                    transform=ax.transAxes, va="top", ha="left", fontsize=9,
                    bbox={"boxstyle": "round", "fc": "white", "ec": "#888888"})
        ax.legend(loc="upper right", frameon=True)
        path = _save(fig, Path(path))
    caption = (f"Per-class accuracy of the original clip (grey bars) and of the full analysis with k = {k} frame(s) "
               "(dots); the segment between them is the class's motion bound. Classes on the left need the least "
               "motion.")
    return Figure(name, title, caption, path, shows=[r.name for r in rows])


def _class_ticks(ax: Axes, names: list[str]) -> None:
    if len(names) <= 60:
        ax.set_xticks(range(len(names)), [plain(n) for n in names], rotation=60, ha="right",
                      fontsize=max(5.5, 8 - len(names) / 20))
    else:  # labels would overlap: the per-class table in the report names them
        ax.set_xticks([])
        ax.set_xlabel(f"{len(names)} classes (named in the report's per-class table)")
    ax.set_xlim(-0.7, len(names) - 0.3)
    ax.grid(axis="x", visible=False)


def pixel_vs_perceptual(results: dict, path: str | Path) -> Figure:
    """Figure 7: uniform, pixel-loss and perceptual generator at the k's that had both, overall and per kind."""
    name, title = "fig7_pixel_vs_perceptual", "Pixel vs perceptual generator (Figure 7)"
    ks = [k for k in ks_with(results, "pixel_generator") if k in ks_with(results, "generator")]
    if not ks:
        return _skip(name, title, "needs a pixel-loss and a perceptual generator for the same k")
    k = ks[0]
    groups = [("all classes", results["accuracy"])]
    groups += [(kind, entry["accuracy"]) for kind, entry in (results.get("per_kind") or {}).items()]
    methods = ("uniform", "pixel_generator", "generator")
    width = 0.8 / len(methods)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT), layout="constrained")
        for g, (_, accuracy) in enumerate(groups):
            orig = accuracy["original"]
            if orig and orig.get("value") is not None:
                ax.hlines(100 * orig["value"], g - 0.45, g + 0.45, color=COLORS["original"], lw=1.6,
                          label=LABELS["original"] if g == 0 else None)
            for m, method in enumerate(methods):
                est = accuracy.get(method, {}).get(str(k))
                if not est or est.get("value") is None:
                    continue
                v = 100 * est["value"]
                ax.bar(g - 0.4 + width * (m + 0.5), v, width * 0.9, color=COLORS[method],
                       yerr=[[v - 100 * est["ci"][0]], [100 * est["ci"][1] - v]], capsize=2,
                       error_kw={"lw": 0.8}, label=LABELS[method] if g == 0 else None)
        ax.set_xticks(range(len(groups)), [plain(label) for label, _ in groups])
        ax.grid(axis="x", visible=False)
        ax.set_ylim(0, 105)
        ax.set_ylabel("clip accuracy (%)")
        ax.set_title(f"k = {k} frame(s) kept")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        path = _save(fig, Path(path))
    caption = (f"With k = {k}: the frames replicated (uniform), completed by a generator trained on pixels, and by one "
               "trained on the model's features (perceptual). Error bars are 95% bootstrap intervals.")
    return Figure(name, title, caption, path)


def generator_gain(results: dict, path: str | Path, k: int | None = None) -> Figure:
    """Figure 8: per class, generator − uniform accuracy at k (points), sorted, with the share improved."""
    k = headline_k(results) if k is None else k
    name, title = "fig8_generator_gain", f"Per-class gain of the generator over uniform at k = {k} (Figure 8)"
    if k is None or k not in ks_with(results, "generator"):
        return _skip(name, "Per-class gain of the generator over uniform (Figure 8)",
                     "needs the generator method (a generator); it did not run")
    rows = [r for r in class_rows(results, k) if r.generator is not None and r.uniform is not None]
    rows.sort(key=lambda r: (-(r.generator - r.uniform), r.name))
    gains = [100 * (r.generator - r.uniform) for r in rows]
    summary = results["class_summary"]
    improves = summary.get("generator_improves", {}).get(str(k))
    ties = summary.get("generator_ties", {}).get(str(k))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(per_class_width(len(rows)), HEIGHT), layout="constrained")
        colors = [COLORS["oracle"] if g > 0 else COLORS["full"] if g < 0 else "#999999" for g in gains]
        ax.bar(range(len(rows)), gains, color=colors)
        ax.axhline(0, color="black", lw=0.8)
        _class_ticks(ax, [r.name for r in rows])
        ax.set_ylabel("generator − uniform (points)")
        ax.set_title(f"k = {k}: classes sorted by gain")
        if improves is not None:
            text = f"generator improves {100 * improves:.0f}% of classes"
            if ties is not None:
                text += f", ties {100 * ties:.0f}%"
            ax.text(0.99, 0.98, text, transform=ax.transAxes, va="top", ha="right", fontsize=9,
                    bbox={"boxstyle": "round", "fc": "white", "ec": "#888888"})
        path = _save(fig, Path(path))
    caption = (f"For each class, accuracy with the generator minus accuracy with the replicated frame(s), k = {k}: "
               "green where the generator helps, orange where it hurts.")
    return Figure(name, title, caption, path, shows=[r.name for r in rows])


def per_kind(results: dict, path: str | Path) -> Figure:
    """Figure 3 once per planted kind of class of the embedded benchmark."""
    name, title = "per_kind", "Accuracy vs frames per planted kind"
    kinds = results.get("per_kind") or {}
    if not kinds:
        return _skip(name, title, "the dataset declares no kinds of class (only the embedded benchmark does)")
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(kinds), figsize=(KIND_PANEL_WIDTH * len(kinds) + 1.8, HEIGHT),
                                 sharey=True, layout="constrained", squeeze=False)
        for ax, (kind, entry) in zip(axes[0], kinds.items(), strict=True):
            _accuracy_panel(ax, entry["accuracy"], list(results["frames"]), len(results["classes"]),
                            f"{plain(kind)} ({len(entry['classes'])} classes, {entry['n']} clips)")
        axes[0][0].set_ylabel("clip accuracy (%)")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right center", frameon=False)
        path = _save(fig, Path(path))
    caption = ("The same curves per planted kind: appearance classes should need no motion, motion classes should "
               "fall to chance without it, key-frame classes should gain from choosing frames (full over uniform), "
               "and implied-motion classes, lost when a frame is replicated, should come back with the generator.")
    return Figure(name, title, caption, path)


def make_figures(results: dict, folder: str | Path) -> list[Figure]:
    """Every figure into `folder` (created) as <name>.png; skipped ones are returned with the reason."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    makers = {"fig3_accuracy_vs_frames": accuracy_vs_frames, "fig5_per_class": per_class_full,
              "fig7_pixel_vs_perceptual": pixel_vs_perceptual, "fig8_generator_gain": generator_gain,
              "per_kind": per_kind}
    return [make(results, folder / f"{name}.png") for name, make in makers.items()]
