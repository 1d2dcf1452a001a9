"""The agreement target against the label target on the embedded benchmark, from one engine pass
(`target: both`): on the clips whose full-clip prediction is the label the two targets are the same thing,
so every fixed method's agreement and accuracy differ only by what the other clips contribute, counted
here from each clip's recorded predictions (per_clip.csv)."""

from __future__ import annotations

import csv

import pytest
from report_fixtures import run_analysis, save_folders

# The methods whose choice of frames does not depend on the target (the oracle and `best` do).
FIXED = ("uniform", "uniform_select", "uniform_mean", "uniform_contrast", "generator", "full", "generator_mean",
         "generator_contrast", "random", "pixel_generator")


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("agreement")
    out = root / "analysis"
    # a random-init model: its full-clip prediction is the label on some clips only, so both parts are tested
    results = run_analysis(save_folders(root / "folders"), out, test_per_class=2, probes=(), target="both",
                           class_floor=0).to_json()
    with open(out / "per_clip.csv", newline="", encoding="utf-8") as f:
        return results, list(csv.DictReader(f))


def test_agreement_equals_accuracy_where_the_prediction_is_the_label(both):
    results, rows = both
    agreement = results["agreement"]
    assert results["target"] == "label" and agreement["target"] == "prediction"
    n = len(rows)
    same = [r for r in rows if r["original"] == r["label"]]
    assert 0 < len(same) < n  # clips of both kinds
    assert agreement["accuracy"]["original"]["value"] == 1.0  # the full clip agrees with itself
    assert results["accuracy"]["original"]["value"] == pytest.approx(len(same) / n, abs=1e-6)
    checked = 0
    for method in FIXED:
        for k, cell in results["accuracy"].get(method, {}).items():
            column = f"{method}@{k}"
            right = sum(r[column] == r["label"] for r in rows)
            agree = sum(r[column] == r["original"] for r in rows)
            assert cell["value"] == pytest.approx(right / n, abs=1e-6), column
            assert agreement["accuracy"][method][k]["value"] == pytest.approx(agree / n, abs=1e-6), column
            # the engine's two numbers, less what the clips whose prediction is not the label add to each,
            # are the same count: one set of predictions scored twice
            other = [r for r in rows if r["original"] != r["label"]]
            off_right = sum(r[column] == r["label"] for r in other)
            off_agree = sum(r[column] == r["original"] for r in other)
            assert round(n * cell["value"]) - off_right == round(n * agreement["accuracy"][method][k]["value"]) - off_agree
            checked += 1
    assert checked >= 12  # every fixed method at k = 1 and 2 (the pixel generator at k = 1)
