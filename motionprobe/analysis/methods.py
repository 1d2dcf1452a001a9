"""The methods an analysis reports per number of kept frames k: how the k frames become a clip, and how
one candidate (or class) is chosen among the pool's.

Every method but `oracle` is label-free and motion-invariant by construction: it sees the clip only
through k-frame subsets, completed by replication or by the class-agnostic generator, and chooses
with the model's own outputs. The motion bound is the original accuracy minus the best of them
(`BOUND_CANDIDATES`), the best chosen without the test labels (analysis/summary.py); the paper's
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
    label: str
    label_free: bool = True


METHOD_SPECS = (
    Method("uniform", "replicate", "uniform", "uniform subset, replicated"),
    Method("uniform_select", "replicate", "max_response", "replicated, max response over the pool"),
    Method("uniform_mean", "replicate", "mean_response", "replicated, mean response over the pool"),
    Method("uniform_contrast", "replicate", "contrast", "replicated, contrast over the pool"),
    Method("generator", "generator", "uniform", "uniform subset, generated"),
    Method("full", "generator", "max_response", "full analysis (the paper's: generator + max response)"),
    Method("generator_mean", "generator", "mean_response", "generated, mean response over the pool"),
    Method("generator_contrast", "generator", "contrast", "generated, contrast over the pool"),
    Method("oracle", "generator", "oracle", "oracle (uses the label: an upper bound, not a method)", False),
    Method("random", "generator", "random", "generated, a random pool candidate"),
    Method("pixel_generator", "pixel_generator", "uniform", "uniform subset, pixel-loss generator"),
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
