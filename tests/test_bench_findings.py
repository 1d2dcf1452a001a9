"""The arithmetic of the finding benchmarks on hand-made inputs: the held-out lifts of benchmarks/real_generator.py
(paired over clips and over videos) and the label-vs-agreement rank comparison of benchmarks/agreement_vs_label.py."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from benchmarks.agreement_vs_label import ranks_compared
from benchmarks.real_generator import held_out_summary, paired_lift
from motionprobe.analysis.results_type import SCHEMA, Results


def _per_clip(path, rows):
    """per_clip.csv as the analysis writes it: clip_id, label (the target), then method@k columns."""
    header = ["clip_id", "label", "class"] + [f"{m}@{k}" for m in ("uniform", "generator", "full") for k in (1, 4)]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for clip_id, label, preds in rows:
            w.writerow([clip_id, label, ""] + preds)


def test_held_out_summary_keeps_only_held_out_videos_and_pairs_the_lift(tmp_path):
    # Two held-out videos of two clips, one training video whose clips must not count. At k = 1 the generator
    # agrees on 3 of 4 held-out clips, uniform on 1 (the same clip): lift +50 points.
    rows = [("held_a.mp4#0", 7, [7, 7, 7, 7, 7, 7]), ("held_a.mp4#1", 7, [1, 7, 7, 7, 7, 7]),
            ("held_b.mp4#0", 3, [0, 3, 3, 3, 0, 3]), ("held_b.mp4#1", 3, [0, 3, 0, 3, 0, 3]),
            ("train.mp4#0", 5, [5, 5, 0, 0, 0, 0])]
    (tmp_path / "analysis").mkdir()
    _per_clip(tmp_path / "analysis" / "per_clip.csv", rows)
    s = held_out_summary(tmp_path / "analysis", ("held_a.mp4", "held_b.mp4"))
    assert s["clips"] == 4 and s["videos"] == ["held_a.mp4", "held_b.mp4"]
    k1 = s["1"]
    assert k1["agreement"]["uniform"]["value"] == 0.25 and k1["agreement"]["generator"]["value"] == 0.75
    assert k1["lift_generator_vs_uniform"]["value"] == 0.5 and k1["lift_full_vs_uniform"]["value"] == 0.25
    assert s["4"]["lift_generator_vs_uniform"]["value"] == 0.0


def test_paired_lift_intervals_cover_the_value_and_clusters_widen_them():
    rng = np.random.default_rng(0)
    a, b = (rng.random(60) < 0.7).astype(float), (rng.random(60) < 0.4).astype(float)
    groups = [f"v{i // 10}" for i in range(60)]  # 6 videos of 10 clips
    r = paired_lift(a, b, groups)
    assert r["ci_clips"][0] <= r["value"] <= r["ci_clips"][1] and r["n_videos"] == 6
    same = paired_lift(a, a, groups)
    assert same["value"] == 0 and same["ci_clips"] == [0, 0] and same["ci_videos"] == [0, 0]


def _results(label_bounds, agree_bounds, accuracy):
    def block(bounds, n):
        return {c: {"motion_bound": {"1": v}, "n": n, "original": accuracy.get(c, 1.0), "kind": "x",
                    "analysable": accuracy.get(c, 1.0) >= 0.5} for c, v in bounds.items()}

    return Results.from_json({"schema": SCHEMA, "per_class": block(label_bounds, 10),
                              "agreement": {"per_class": block(agree_bounds, 10)}})


def test_ranks_compared_gives_spearman_and_orders_classes_by_rank_gap():
    label = {"a": 0.0, "b": 0.1, "c": 0.5, "d": 0.9}
    same_order = {"a": 0.05, "b": 0.2, "c": 0.6, "d": 1.0}
    r = ranks_compared(_results(label, same_order, {}), 1)
    assert r["spearman"] == pytest.approx(1.0) and r["classes"] == 4
    swapped = {"a": 0.9, "b": 0.1, "c": 0.5, "d": 0.0}  # the extremes trade places
    r = ranks_compared(_results(label, swapped, {"d": 0.3}), 1)
    assert r["spearman"] == pytest.approx(-0.8) and {row["class"] for row in r["rows"][:2]} == {"a", "d"}
    assert r["analysable_classes"] == 3  # d is recognised on 30% of its clips
