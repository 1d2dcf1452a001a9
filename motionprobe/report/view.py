"""Reading results.json for presentation: which k to headline, which methods ran, cells as text.

Everything here is a pure function of the results dict (schema `motionprobe.results/1`,
docs/results-schema.md), shared by the figures, the pictures and the HTML page.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.summary import METHODS

# Methods run per k, in the order tables and legends list them.
K_METHODS = tuple(m for m in METHODS if m != "original")
LABELS = {
    "original": "original (all frames)",
    "uniform": "uniform (replicated frames)",
    "generator": "generator (perceptual loss)",
    "full": "full analysis (max response)",
    "oracle": "oracle",
    "random": "random candidate",
    "pixel_generator": "pixel-loss generator",
    "motion_bound": "motion bound (original − full)",
}


def methods_present(results: dict) -> list[str]:
    """Per-k methods that ran for at least one k, in table order."""
    return [m for m in K_METHODS if results["accuracy"].get(m)]


def ks_with(results: dict, method: str) -> list[int]:
    """The k's (as ints, ascending) for which `method` has an accuracy."""
    return sorted(int(k) for k in results["accuracy"].get(method, {}))


def headline_k(results: dict) -> int | None:
    """The k the headline and the per-class figures use: 1 when a generator ran there (the paper's
    headline), else the smallest k with a generator, else None.

    >>> headline_k({"motion_bound": {"4": {}, "2": {}}})
    2
    >>> headline_k({"motion_bound": {}}) is None
    True
    """
    ks = sorted(int(k) for k in results.get("motion_bound", {}))
    if not ks:
        return None
    return 1 if 1 in ks else ks[0]


def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as percent text; "—" for a missing value. `percent(0.1234)` → "12.3"."""
    return "—" if value is None else f"{100 * value:.{digits}f}"


def estimate_text(est: dict | None) -> str:
    """An estimate {"value", "ci"} as "12.3 [10.0, 15.1]" (percent); "—" when absent."""
    if not est or est.get("value") is None:
        return "—"
    lo, hi = est["ci"]
    return f"{percent(est['value'])} [{percent(lo)}, {percent(hi)}]"


@dataclass
class ClassRow:
    """One class's numbers at one k (fractions; None where a method did not run)."""

    name: str
    kind: str | None
    n: int
    original: float
    uniform: float | None
    generator: float | None
    full: float | None
    oracle: float | None
    pixel_generator: float | None
    motion_bound: float | None
    motion_bound_ci: tuple[float, float] | None
    motion_bound_f1: float | None
    uniform_gap: float | None


def class_rows(results: dict, k: int) -> list[ClassRow]:
    """Per-class numbers at k for every class with clips (classes without clips have only nulls)."""
    key = str(k)
    rows = []
    for name in results["classes"]:
        entry = results["per_class"].get(name)
        if not entry or not entry.get("n") or entry.get("original") is None:
            continue
        ci = entry.get("motion_bound_ci", {}).get(key)
        rows.append(ClassRow(
            name=name, kind=entry.get("kind"), n=int(entry["n"]), original=entry["original"],
            uniform=entry.get("uniform", {}).get(key), generator=entry.get("generator", {}).get(key),
            full=entry.get("full", {}).get(key), oracle=entry.get("oracle", {}).get(key),
            pixel_generator=entry.get("pixel_generator", {}).get(key),
            motion_bound=entry.get("motion_bound", {}).get(key), motion_bound_ci=tuple(ci) if ci else None,
            motion_bound_f1=entry.get("motion_bound_f1", {}).get(key), uniform_gap=entry.get("uniform_gap", {}).get(key)))
    return rows


@dataclass
class Extremes:
    """The classes needing the least and the most motion at k (by the per-class motion bound)."""

    k: int
    least: ClassRow
    most: ClassRow


def motion_extremes(results: dict, k: int | None = None) -> Extremes | None:
    """Least and most motion-dependent classes by the per-class bound (original − full) at k.

    Ties go to the class the original gets more right (a class the model knows and still needs no
    motion says more than one it never knew), then to the earlier class. None without a bound at k.
    """
    k = headline_k(results) if k is None else k
    if k is None:
        return None
    rows = [r for r in class_rows(results, k) if r.motion_bound is not None]
    if not rows:
        return None
    least = min(rows, key=lambda r: (r.motion_bound, -r.original))
    most = max(rows, key=lambda r: (r.motion_bound, r.original))
    return Extremes(k=k, least=least, most=most)
