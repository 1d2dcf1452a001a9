"""benchmarks/planted_truth.py reads its checks from results.json: met, missed, and missing figures as "—"."""

from __future__ import annotations

import csv

import pytest

from benchmarks.planted_truth import TARGETS, fallback_classes, figures, table, verdicts


def estimate(value, lo=None, hi=None):
    return {"value": value, "ci": [value if lo is None else lo, value if hi is None else hi], "n": 14}


def results_with(**changes):
    """A results.json of four classes, one per kind, at k = 1 and 2, that meets every check."""
    per_class = {
        "rose": {"kind": "appearance", "original": 1.0, "paper_bound": {"1": 0.0}, "motion_bound": {"1": 0.05}},
        "roll": {"kind": "motion", "original": 0.9, "paper_bound": {"1": 0.7}, "motion_bound": {"1": 0.7}},
        "flash": {"kind": "keyframe", "original": 0.95, "paper_bound": {"1": 0.1}, "motion_bound": {"1": 0.1}},
        "comet": {"kind": "implied", "original": 0.85, "paper_bound": {"1": 0.2}, "motion_bound": {"1": 0.2}},
    }
    results = {
        "classes": list(per_class), "frames": [1, 2], "bootstrap": 200, "ci_level": 0.95,
        "accuracy": {"original": estimate(0.93)}, "per_class": per_class,
        "motion_bound": {"1": estimate(0.30), "2": estimate(0.10)},
        "paper_bound": {"1": estimate(0.29), "2": estimate(0.12)},
        "bound_method": {"1": {"chosen_per_fold": ["full", "full"]}},
        "planted_truth": {"motion_bound_auroc": {"1": 1.0}, "paper_bound_auroc": {"1": 0.9}},
        "per_kind": {"keyframe": {"best_minus_uniform": {"1": estimate(0.45)}, "accuracy": {"best": {"1": estimate(0.9)}}},
                     "implied": {"motion_bound": {"1": estimate(0.2)}}},
        "generator_minus_uniform": {"1": estimate(0.05, -0.02, 0.12), "2": estimate(0.0, -0.05, 0.04)},
    }
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = results
        for key in parents:
            node = node[key]
        if value is None:
            node.pop(last)
        else:
            node[last] = value
    return results


def row_of(results, tmp_path, seed=0):
    row = {"seed": seed, "seconds": 700, **figures(results, tmp_path / "per_clip.csv")}
    row["verdicts"] = verdicts(row)
    return row


def test_a_run_that_meets_every_target_passes(tmp_path):
    row = row_of(results_with(), tmp_path)
    assert all(row["verdicts"].values()) and row["worst_class"] == "comet"
    assert row["bounds"]["1"]["excess"] == pytest.approx(0.01)
    assert "all pass" in table([row]).splitlines()[1]


@pytest.mark.parametrize("path, value, check", [
    ("motion_bound.2", estimate(0.12 + TARGETS["bound"] + 0.001), "bound"),
    ("per_class.rose.motion_bound", {"1": 0.25}, "appearance"),  # motion pinned on an appearance class
    ("planted_truth.motion_bound_auroc", {"1": 0.9}, "auroc"),
    ("per_kind.keyframe.best_minus_uniform", {"1": estimate(0.1)}, "keyframe"),
    ("per_kind.implied.motion_bound", {"1": estimate(0.5)}, "implied"),
    ("generator_minus_uniform.2", estimate(-0.1, -0.2, -0.01), "generator"),
    ("per_class.comet.original", 0.79, "model"),
])
def test_each_check_misses_on_its_own_figure(tmp_path, path, value, check):
    row = row_of(results_with(**{path: value}), tmp_path)
    assert [name for name, ok in row["verdicts"].items() if ok is False] == [check]
    assert table([row]).splitlines()[1].endswith(check)


def test_an_appearance_class_the_paper_already_blames_is_not_judged(tmp_path):
    per_class = results_with()["per_class"]
    per_class["rose"].update(paper_bound={"1": 0.3}, motion_bound={"1": 0.3})
    assert row_of(results_with(per_class=per_class), tmp_path)["verdicts"]["appearance"] is None


def test_missing_figures_print_a_dash_and_stay_undecided(tmp_path):
    results = results_with(**{"planted_truth": None, "per_kind": None, "generator_minus_uniform": None})
    row = row_of(results, tmp_path)  # no per_clip.csv either
    assert {row["verdicts"][c] for c in ("auroc", "keyframe", "implied", "generator")} == {None}
    line = table([row]).splitlines()[1]
    assert line.count("—") >= 5 and "?auroc ?keyframe ?implied ?generator" in line


def test_the_generator_interval_comes_from_per_clip_csv_when_results_lack_it(tmp_path):
    # 20 clips: the generator right on all, replication on none at k = 1; equal at k = 2.
    with open(tmp_path / "per_clip.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["clip_id", "label", "class", "generator@1", "uniform@1", "generator@2", "uniform@2"])
        for i in range(20):
            writer.writerow([f"v{i}#0", 1, "roll", 1, 0, 1, 1])
    row = row_of(results_with(generator_minus_uniform=None), tmp_path)
    lift = row["generator_minus_uniform"]
    assert lift["1"]["value"] == 1.0 and lift["1"]["from"] == "per_clip.csv" and lift["2"]["ci"] == [0.0, 0.0]
    assert row["verdicts"]["generator"] is True


@pytest.mark.parametrize("flags", [
    {"fallback_classes": ["roll"]},
    {"fallback": {"1": ["roll"], "2": []}},
    {"fallback": {"roll": True, "rose": False}},
    {"per_class.roll.fallback": {"1": True, "2": False}},
    {"per_class.roll.fallback": True},
])
def test_fallback_flags_are_read_wherever_results_keep_them(flags):
    assert fallback_classes(results_with(**flags)) == ["roll"]
    assert fallback_classes(results_with()) == []
