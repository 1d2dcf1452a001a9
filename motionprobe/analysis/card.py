"""A run's card: the few numbers that say how much a model uses motion, each with its interval, on one screen.

- `motion_bound`: the motion bound at the headline k (1 where analysed), as results.json's;
- `bound_area`: the bound's area over k (`perclip.area_weights`: the mean bound over log2 k), its interval
  from the bootstrap that repeats the bound's cross-fitted choice at every k, on the same resamples;
- `shuffle_drop`: original − shuffled (the probe most read as "temporal sensitivity");
- `temporal_demand`: accuracy lost from stride 1 to the largest stride (infoRates' Temporal Demand Score);
- `robustness`: the mean relative robustness over the graded probe families (Schiappa et al.'s);
- `most_motion`: the analysable classes with the largest motion bound at the headline k.

A number the run did not measure is None, never guessed. `motionprobe compare` lines the cards up.
"""

from __future__ import annotations

import numpy as np

from .perclip import PerClip, area_weights, bound_draws
from .stats import CI_LEVEL, Estimate

MOST_MOTION = 3  # classes listed on the card


def headline_k(ks: list[int]) -> int:
    return 1 if 1 in ks else min(ks)


def bound_area(clips: PerClip, results: dict, n_boot: int, level: float = CI_LEVEL) -> dict:
    """The motion bound's area over the k's analysed, with its interval, and the k's it spans."""
    ks = [int(k) for k in results["frames"]]
    seed = int((results.get("provenance") or {}).get("seed", 0))
    candidates = {k: results["bound_method"][str(k)]["candidates"] for k in ks}
    points, draws = bound_draws(clips, candidates, seed, ks, n_boot, [seed, 0])
    weights = area_weights(ks)
    area = sum(w * draws[k] for w, k in zip(weights, ks, strict=True))
    alpha = (1 - level) / 2
    lo, hi = np.quantile(area, [alpha, 1 - alpha]) if len(clips.ids) else (np.nan, np.nan)
    point = float(sum(w * points[k] for w, k in zip(weights, ks, strict=True)))
    return {**Estimate(point, (float(lo), float(hi)), len(clips.ids)).to_dict(), "ks": ks}


def make_card(results: dict, clips: PerClip, n_boot: int, level: float = CI_LEVEL) -> dict:
    """results.json's `card` (see the module docstring)."""
    ks = [int(k) for k in results["frames"]]
    k = headline_k(ks)
    probes = results.get("probes") or {}
    graded = results.get("graded") or {}
    ranked = sorted(((entry["motion_bound"].get(str(k)), name, entry.get("motion_bound_ci", {}).get(str(k)))
                     for name, entry in results["per_class"].items()
                     if entry.get("analysable") and entry["motion_bound"].get(str(k)) is not None),
                    key=lambda item: (-item[0], item[1]))
    return {
        "k": k,
        "target": results.get("target"),
        "num_clips": results["num_clips"],
        "original": results["accuracy"]["original"],
        "motion_bound": results["motion_bound"].get(str(k)),
        "bound_area": bound_area(clips, results, n_boot, level) if results.get("bound_method") else None,
        "shuffle_drop": (probes.get("drop") or {}).get("shuffle"),
        "temporal_demand": (results.get("sampling") or {}).get("temporal_demand"),
        "robustness": (graded.get("robustness") or {}).get("overall"),
        "most_motion": [{"class": name, "motion_bound": bound, "ci": ci} for bound, name, ci in ranked[:MOST_MOTION]],
    }
