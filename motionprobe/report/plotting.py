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
