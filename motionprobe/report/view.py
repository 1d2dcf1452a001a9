"""Reading results.json for presentation: which k to headline, what is scored, per-class rows, cells as text.

Everything here is a pure function of the results dict (schema `motionprobe.results/1`,
docs/results-schema.md), shared by the figures, the pictures and the HTML page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..analysis.methods import BEST, METHOD
from ..analysis.results import what_is_scored

# Short names for legends and table headers; the long ones (results["methods"]) go in captions.
LABELS = {
    "original": "original (all frames)",
    "uniform": "uniform (replicated)",
    "uniform_select": "replicated, max response",
    "uniform_mean": "replicated, mean response",
    "uniform_contrast": "replicated, contrast",
    "generator": "generator (perceptual)",
    "full": "full analysis (generator + max response)",
    "generator_mean": "generated, mean response",
    "generator_contrast": "generated, contrast",
    "oracle": "oracle (uses the label)",
    "random": "generated, random candidate",
    "pixel_generator": "pixel-loss generator",
    BEST: "best (chosen without the test labels)",
    "motion_bound": "motion bound (original − best)",
    "paper_bound": "the paper's bound (original − full)",
}
# How the bounds are named in sentences: the tool's first, then the paper's.
BOUND_NAMES = {
    "motion_bound": "motion bound (original − best motion-free method, chosen without the test labels)",
    "paper_bound": "the paper's bound (original − full analysis)",
}
BOUNDS = ("motion_bound", "paper_bound")  # the order every table, figure and sentence shows them in
# Under their group's header (column_group) Figure 3's columns need only a short name.
SHORT_LABELS = {
    "uniform": "uniform subset", "uniform_select": "max response", "uniform_mean": "mean response",
    "uniform_contrast": "contrast", "generator": "uniform subset", "full": "max response (the paper's full analysis)",
    "generator_mean": "mean response", "generator_contrast": "contrast", "random": "random candidate",
    "pixel_generator": "uniform subset", "oracle": "oracle", BEST: "best",
    "motion_bound": "motion bound (original − best)", "paper_bound": "the paper's bound (original − full)",
}
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


def scored(results: dict) -> str:
    """What the percentages are: "clip accuracy", or "agreement with the full-clip prediction"."""
    return what_is_scored(results)


def score_word(results: dict) -> str:
    """One word for column headers: "accuracy" or "agreement"."""
    return "agreement" if results.get("target") == "prediction" else "accuracy"


def class_word(results: dict) -> str:
    """What a per-class row groups by: the label, or (target "prediction") the model's full-clip prediction."""
    return "predicted class" if results.get("target") == "prediction" else "class"


def num_frames(results: dict) -> int:
    """T, the frames of an original clip (8, 16, 32, ...): never assume 16."""
    return int(results["num_frames"])


def bound_ks(results: dict, bound: str = "motion_bound") -> list[int]:
    """The k's (ints, ascending) with a value of `bound` (motion_bound, paper_bound)."""
    return sorted(int(k) for k in (results.get(bound) or {}))


def ks_with(results: dict, method: str) -> list[int]:
    """The k's (ints, ascending) for which `method` has an accuracy."""
    return sorted(int(k) for k in (results["accuracy"].get(method) or {}))


def headline_k(results: dict) -> int | None:
    """The k the headline uses: 1 when the motion bound exists there (the paper's headline), else the
    smallest k with one, else None.

    >>> headline_k({"motion_bound": {"4": {}, "2": {}}})
    2
    >>> headline_k({"motion_bound": {}}) is None
    True
    """
    ks = bound_ks(results)
    if not ks:
        return None
    return 1 if 1 in ks else ks[0]


def picture_k(results: dict) -> int | None:
    """The k the pictures and the per-class figures use: they show generated clips, so the headline k
    when it had a generator, else the smallest k that had one (None without any)."""
    ks = bound_ks(results, "paper_bound")
    if not ks:
        return None
    k = headline_k(results)
    return k if k in ks else ks[0]


def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as percent text; "—" for a missing value. `percent(0.1234)` → "12.3"."""
    return "—" if value is None else f"{100 * value:.{digits}f}"


def estimate_text(est: dict | None) -> str:
    """An estimate {"value", "ci"} as "12.3 [10.0, 15.1]" (percent); "—" when absent."""
    if not est or est.get("value") is None:
        return "—"
    lo, hi = est["ci"]
    return f"{percent(est['value'])} [{percent(lo)}, {percent(hi)}]"


def chosen_text(results: dict, k: int) -> str:
    """Which method `best` used at k: "full", or "uniform_contrast / full" when the two halves chose differently."""
    choice = (results.get("bound_method") or {}).get(str(k)) or {}
    return " / ".join(dict.fromkeys(choice.get("chosen_per_fold") or [])) or "—"


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
    generator_minus_uniform: dict | None = None  # estimates {value, ci, n}
    best_minus_uniform: dict | None = None
    fallback: bool = False  # the bound's method gives this class to many clips of other classes at k

    def bound(self, name: str) -> tuple[float | None, tuple[float, float] | None]:
        return getattr(self, name), getattr(self, f"{name}_ci")


def _ci(entry: dict, name: str, key: str) -> tuple[float, float] | None:
    ci = (entry.get(f"{name}_ci") or {}).get(key)
    return tuple(ci) if ci and None not in ci else None


def class_rows(results: dict, k: int) -> list[ClassRow]:
    """Per-class numbers at k for every class with clips (classes without clips have only nulls)."""
    key = str(k)
    rows = []
    for name in results["classes"]:
        entry = results["per_class"].get(name)
        if not entry or not entry.get("n") or entry.get("original") is None:
            continue
        methods = {m: (entry.get(m) or {}).get(key) for m in (*METHOD, BEST)}
        rows.append(ClassRow(
            name=name, kind=entry.get("kind"), n=int(entry["n"]), original=entry["original"],
            analysable=bool(entry.get("analysable", True)), methods=methods,
            motion_bound=(entry.get("motion_bound") or {}).get(key), motion_bound_ci=_ci(entry, "motion_bound", key),
            paper_bound=(entry.get("paper_bound") or {}).get(key), paper_bound_ci=_ci(entry, "paper_bound", key),
            motion_bound_f1=(entry.get("motion_bound_f1") or {}).get(key),
            uniform_gap=((entry.get("uniform_gap") or {}).get(key) or {}).get("value"),
            generator_minus_uniform=(entry.get("generator_minus_uniform") or {}).get(key),
            best_minus_uniform=(entry.get("best_minus_uniform") or {}).get(key),
            fallback=k in (entry.get("fallback") or {}).get(BEST, [])))
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


def motion_extremes(results: dict, k: int | None = None) -> Extremes | None:
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
