"""The methods an analysis reports per number of kept frames k: how the k frames become a clip, and how
one candidate (or class) is chosen among the pool's.

Every method but `oracle` is label-free and motion-invariant by construction: it sees the clip only
through k-frame subsets, completed by replication or by the class-agnostic generator, and chooses
with the model's own outputs. The motion bound is the original accuracy minus the best of them
(`BOUND_CANDIDATES`), the best chosen without the test labels (analysis/bound_choice.py); the paper's
bound (original − `full`) is reported beside it.

>>> [m.name for m in METHOD_SPECS if m.source == "replicate"]
['uniform', 'uniform_select', 'uniform_mean', 'uniform_contrast']
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    """`source`: replicate | generator | pixel_generator; `selector`: the fixed uniform subset, or a
    choice over the pool (max_response, mean_response, contrast, oracle, random)."""

    name: str
    source: str
    selector: str
    label: str  # results.json's `methods` and the report's captions
    legend: str  # legends and table headers
    short: str  # under its group's header in Figure 3's table (the group says how the frames become a clip)
    label_free: bool = True


METHOD_SPECS = (
    Method("uniform", "replicate", "uniform", "uniform subset, replicated", "uniform (replicated)", "uniform subset"),
    Method("uniform_select", "replicate", "max_response", "replicated, max response over the pool",
           "replicated, max response", "max response"),
    Method("uniform_mean", "replicate", "mean_response", "replicated, mean response over the pool",
           "replicated, mean response", "mean response"),
    Method("uniform_contrast", "replicate", "contrast", "replicated, contrast over the pool", "replicated, contrast",
           "contrast"),
    Method("generator", "generator", "uniform", "uniform subset, generated", "generator (perceptual)", "uniform subset"),
    Method("full", "generator", "max_response", "full analysis (the paper's: generator + max response)",
           "full analysis (generator + max response)", "max response (the paper's full analysis)"),
    Method("generator_mean", "generator", "mean_response", "generated, mean response over the pool",
           "generated, mean response", "mean response"),
    Method("generator_contrast", "generator", "contrast", "generated, contrast over the pool", "generated, contrast",
           "contrast"),
    Method("oracle", "generator", "oracle", "oracle (uses the label: an upper bound, not a method)",
           "oracle (uses the label)", "oracle", label_free=False),
    Method("random", "generator", "random", "generated, a random pool candidate", "generated, random candidate",
           "random candidate"),
    Method("pixel_generator", "pixel_generator", "uniform", "uniform subset, pixel-loss generator",
           "pixel-loss generator", "uniform subset"),
)
METHOD = {m.name: m for m in METHOD_SPECS}
METHODS = ("original", *METHOD)
# The label-free methods the motion bound chooses among, the paper's first (the default, analysis/choice.py), the
# rest in the order that breaks ties: the paper's methods and max response on replicated frames. Every challenger
# tightens the bound only where it beats the default by a margin the sign test supports over all challengers, so
# each one more costs the others power: the mean-response and contrast selectors, the pixel-loss generator and
# `random` are reported, not chosen (docs/analysis.md gives the measurements).
BOUND_CANDIDATES = ("full", "generator", "uniform_select", "uniform")
BEST = "best"  # the cross-fitted choice among BOUND_CANDIDATES, reported like a method


@dataclass(frozen=True)
class Bound:
    """A bound reported per k: original − a method's accuracy, named as `Method` is, and in sentences."""

    name: str
    legend: str
    short: str
    sentence: str  # how the report's sentences name it


BOUND_SPECS = (  # the tool's bound first, the paper's beside it: the order every table, figure and sentence shows
    Bound("motion_bound", "motion bound (original − best)", "motion bound (original − best)",
          "motion bound (original − best motion-free method, chosen without the test labels)"),
    Bound("paper_bound", "the paper's bound (original − full)", "the paper's bound (original − full)",
          "the paper's bound (original − full analysis)"),
)
BOUND = {b.name: b for b in BOUND_SPECS}
BOUNDS = tuple(BOUND)
# How every column of the results is named in legends and table headers, and under a group's header: the methods,
# the original clip, `best` and the bounds.
LEGEND = {"original": "original (all frames)", **{m.name: m.legend for m in METHOD_SPECS},
          BEST: "best (chosen without the test labels)", **{b.name: b.legend for b in BOUND_SPECS}}
SHORT = {**{m.name: m.short for m in METHOD_SPECS}, BEST: "best", **{b.name: b.short for b in BOUND_SPECS}}
