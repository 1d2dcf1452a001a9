"""What every figure of the report shares: the record it returns, its canvas sizes, style and colours,
and how it is saved (matplotlib, Agg, PNG, atomically)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display: the same on a laptop, a server and CI

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from ..analysis.methods import BEST  # noqa: E402
from ..analysis.stats import Estimate  # noqa: E402
from ..io import atomic_write_bytes  # noqa: E402

DPI = 100
WIDTH, HEIGHT = 7.5, 4.5  # inches: 750×450 px for the fixed-size figures
FIG3_WIDTH, FIG3_HEIGHT = 11.0, 5.2  # Figure 3 has two panels (accuracy, bounds) and a legend below
KIND_PANEL_WIDTH = 3.4  # inches per planted kind in the per-kind figure
# Okabe–Ito colours (readable by colour-blind readers); one colour per method in every figure. Each bound
# takes the colour of the method it subtracts.
COLORS = {"original": "#000000", "uniform": "#999999", "generator": "#0072B2", "full": "#D55E00",
          "oracle": "#009E73", "random": "#CC79A7", "pixel_generator": "#E69F00", BEST: "#56B4E9",
          "motion_bound": "#56B4E9", "paper_bound": "#D55E00"}
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


def save(fig: plt.Figure, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)  # fixed canvas: no bbox_inches="tight", the size stays known
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def skip(name: str, title: str, why: str) -> Figure:
    return Figure(name=name, title=title, caption="", path=None, skipped=why)


def class_ticks(ax: Axes, names: list[str]) -> None:
    """One x tick per class, named (or, past 60 classes, counted: the per-class table names them)."""
    if len(names) <= 60:
        ax.set_xticks(range(len(names)), [plain(n) for n in names], rotation=60, ha="right",
                      fontsize=max(5.5, 8 - len(names) / 20))
    else:  # labels would overlap: the per-class table in the report names them
        ax.set_xticks([])
        ax.set_xlabel(f"{len(names)} classes (named in the report's per-class table)")
    ax.set_xlim(-0.7, len(names) - 0.3)
    ax.grid(axis="x", visible=False)


def grouped_bars(ax: Axes, groups: list[tuple[str, Estimate | None, dict]], series: list[str], colors: dict[str, str],
                 labels: dict[str, str], *, original_label: str, ylabel: str, capsize: float = 2.0,
                 error_lw: float = 0.8, original_lw: float = 1.6) -> None:
    """One group of bars per (label, original estimate, {series: estimate}), each bar with its 95% interval,
    the original drawn as a line across its group; estimates are in [0, 1], shown in %."""
    width = 0.8 / len(series)
    for g, (_, original, estimates) in enumerate(groups):
        if original and original.value is not None:
            ax.hlines(100 * original.value, g - 0.45, g + 0.45, color=colors["original"], lw=original_lw,
                      label=original_label if g == 0 else None, zorder=3)
        for j, name in enumerate(series):
            est = estimates.get(name)
            if not est or est.value is None:
                continue
            v = 100 * est.value
            ax.bar(g - 0.4 + width * (j + 0.5), v, width * 0.9, color=colors.get(name, "#777777"),
                   yerr=[[v - 100 * est.ci[0]], [100 * est.ci[1] - v]], capsize=capsize,
                   error_kw={"lw": error_lw}, label=labels.get(name, name) if g == 0 else None)
    ax.set_xticks(range(len(groups)), [plain(label) for label, _, _ in groups])
    ax.grid(axis="x", visible=False)
    ax.set_ylim(0, 105)
    ax.set_ylabel(ylabel)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
