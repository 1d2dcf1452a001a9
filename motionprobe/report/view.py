"""Reading results.json for presentation: which k to headline, what is scored, per-class rows, cells as text.

Everything here is a pure function of a `Results` (results.json, schema `motionprobe.results/1`,
docs/results-schema.md), shared by the figures, the pictures and the HTML page. The methods' and bounds'
names are declared with them (analysis/methods.py: `LEGEND`, `SHORT`, `BOUND`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..analysis.methods import BEST, BOUNDS, METHOD
from ..analysis.results import what_is_scored
from ..analysis.results_type import Results
from ..analysis.stats import Estimate

# Figure 3's table columns, grouped by how the k frames become a clip, then the choice and the bounds.
TABLE_COLUMNS = ("uniform", "uniform_select", "uniform_mean", "uniform_contrast", "generator", "full",
                 "generator_mean", "generator_contrast", "random", "pixel_generator", "oracle", BEST)
# The methods the per-class tables and figures show (the rest are in per_class.csv and results.json).
CLASS_METHODS = ("uniform", "generator", "full", BEST, "oracle")


def column_group(column: str) -> str:
    """The header group of a Figure-3 column: how the frames become a clip, or what the column is."""
    if column in BOUNDS:
        return "bounds (points)"
    if column == BEST:
        return "the bound's choice"
    method = METHOD.get(column)
    if method is None or not method.label_free:
        return "uses the label"
    return {"replicate": "replicated frames", "generator": "perceptual generator",
            "pixel_generator": "pixel generator"}[method.source]


def scored(results: Results) -> str:
    """What the percentages are: "clip accuracy", or "agreement with the full-clip prediction"."""
    return what_is_scored(results)


def score_word(results: Results) -> str:
    """One word for column headers: "accuracy" or "agreement"."""
    return "agreement" if results.by_prediction else "accuracy"


def class_word(results: Results) -> str:
    """What a per-class row groups by: the label, or (target "prediction") the model's full-clip prediction."""
    return "predicted class" if results.by_prediction else "class"


def headline_k(results: Results) -> int | None:
    """The k the headline uses: 1 when the motion bound exists there (the paper's headline), else the
    smallest k with one, else None.

    >>> est = {"value": 0.1, "ci": [0.0, 0.2], "n": 4}
    >>> headline_k(Results.from_json({"schema": "motionprobe.results/1", "motion_bound": {"4": est, "2": est}}))
    2
    >>> headline_k(Results.from_json({"schema": "motionprobe.results/1", "motion_bound": {}})) is None
    True
    """
    ks = results.bound_ks()
    if not ks:
        return None
    return 1 if 1 in ks else ks[0]


def picture_k(results: Results) -> int | None:
    """The k the pictures and the per-class figures use: they show generated clips, so the headline k
    when it had a generator, else the smallest k that had one (None without any)."""
    ks = results.bound_ks("paper_bound")
    if not ks:
        return None
    k = headline_k(results)
    return k if k in ks else ks[0]


def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as percent text; "—" for a missing value. `percent(0.1234)` → "12.3"."""
    return "—" if value is None else f"{100 * value:.{digits}f}"


def estimate_text(est: Estimate | None) -> str:
    """An estimate as "12.3 [10.0, 15.1]" (percent); "—" when absent."""
    if est is None or est.value is None:
        return "—"
    lo, hi = est.ci
    return f"{percent(est.value)} [{percent(lo)}, {percent(hi)}]"


def chosen_text(results: Results, k: int) -> str:
    """Which method `best` used at k: "full", or "uniform_contrast / full" when the two halves chose differently."""
    return " / ".join(results.chosen(k)) or "—"


def not_analysable_text(original: float | None) -> str:
    return f"not analysable (the model recognises only {percent(original)}% of its full clips)"


@dataclass
class ClassRow:
    """One class's numbers at one k (fractions; None where a method did not run)."""

    name: str
    kind: str | None
    n: int
    original: float
    analysable: bool
    methods: dict[str, float | None] = field(default_factory=dict)  # every method's accuracy at k
    motion_bound: float | None = None
    motion_bound_ci: tuple[float, float] | None = None
    paper_bound: float | None = None
    paper_bound_ci: tuple[float, float] | None = None
    motion_bound_f1: float | None = None
    uniform_gap: float | None = None
    generator_minus_uniform: Estimate | None = None
    best_minus_uniform: Estimate | None = None
    fallback: bool = False  # the bound's method gives this class to many clips of other classes at k

    def bound(self, name: str) -> tuple[float | None, tuple[float, float] | None]:
        return getattr(self, name), getattr(self, f"{name}_ci")


def class_rows(results: Results, k: int) -> list[ClassRow]:
    """Per-class numbers at k for every class with clips (classes without clips have only nulls)."""
    rows = []
    for name in results.classes:
        entry = results.per_class.get(name)
        if not entry or not entry.n or entry.original is None:
            continue
        bounds = {b: entry.bound(b, k) for b in BOUNDS}
        uniform_gap = entry.gap("uniform_gap", k)
        rows.append(ClassRow(
            name=name, kind=entry.kind, n=int(entry.n), original=entry.original, analysable=entry.analysable,
            methods={m: entry.accuracy(m, k) for m in (*METHOD, BEST)},
            motion_bound=bounds["motion_bound"][0], motion_bound_ci=bounds["motion_bound"][1],
            paper_bound=bounds["paper_bound"][0], paper_bound_ci=bounds["paper_bound"][1],
            motion_bound_f1=entry.motion_bound_f1.get(str(k)),
            uniform_gap=uniform_gap.value if uniform_gap else None,
            generator_minus_uniform=entry.gap("generator_minus_uniform", k),
            best_minus_uniform=entry.gap("best_minus_uniform", k), fallback=entry.is_fallback(BEST, k)))
    return rows


def most_motion_first(rows: list[ClassRow]) -> list[ClassRow]:
    """Analysable classes by their motion bound, largest first (then by name); the not analysable ones last."""
    def key(r: ClassRow) -> tuple:
        value = r.motion_bound if r.motion_bound is not None else r.uniform_gap
        return (not r.analysable, value is None, -(value or 0.0), r.name)
    return sorted(rows, key=key)


@dataclass
class Extremes:
    """The analysable classes needing the least and the most motion at k (by the per-class motion bound)."""

    k: int
    least: ClassRow
    most: ClassRow


def motion_extremes(results: Results, k: int | None = None) -> Extremes | None:
    """Least and most motion-dependent analysable classes by the per-class motion bound (original − best) at k.

    A class the model does not recognise on its full clips is not analysable and never picked: its bound
    is small because there was nothing to lose, not because it needs no motion. Ties go to the class the
    original gets more right, then to the earlier class. None without an analysable class with a bound at k.
    """
    k = picture_k(results) if k is None else k
    if k is None:
        return None
    rows = [r for r in class_rows(results, k) if r.motion_bound is not None and r.analysable]
    if not rows:
        return None
    least = min(rows, key=lambda r: (r.motion_bound, -r.original))
    most = max(rows, key=lambda r: (r.motion_bound, r.original))
    return Extremes(k=k, least=least, most=most)
