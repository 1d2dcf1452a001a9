"""The analysis: candidate table (engine), selectors, bootstrap statistics and the results files.

`analyze(model, dataset, out, generators={k: G})` runs it all; see docs/results-schema.md for the outputs.
"""

from .engine import Plan, evaluate_clips, run_engine
from .methods import METHODS
from .outcomes import collect_outcomes
from .run import analyze
from .stats import Estimate, auroc, bootstrap_means, estimate_means
from .summary import summarize

__all__ = ["METHODS", "Estimate", "Plan", "analyze", "auroc", "bootstrap_means", "collect_outcomes",
           "estimate_means", "evaluate_clips", "run_engine", "summarize"]
