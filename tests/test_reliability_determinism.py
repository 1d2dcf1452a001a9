"""Same inputs and seed on CPU: byte-identical outputs (results.json up to its `timestamps` field)."""

from __future__ import annotations

import json

import pytest
from reliability_helpers import quiet, tiny_folders, without_timestamps

from motionprobe.io import load_tensors


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return tiny_folders(tmp_path_factory)


def test_two_analyses_write_the_same_bytes(folders, tmp_path):
    runs = [tmp_path / "first", tmp_path / "second"]
    for out in runs:
        quiet(folders.analyze_argv(out))
    assert without_timestamps(runs[0] / "results.json") == without_timestamps(runs[1] / "results.json")
    for name in ("per_class.csv", "per_clip.csv", "candidates.csv.gz", "config.json"):
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name
    results = [json.loads((out / "results.json").read_text()) for out in runs]
    assert set(results[0]["timestamps"]) == {"started", "finished"}  # the one field allowed to differ


def test_two_trainings_write_the_same_weights(folders, tmp_path):
    model_args = ["train-model", "--epochs", "1", "--train-per-class", "2", "--test-per-class", "1", "--batch-size", "8"]
    generator_args = ["train-generator", "--model", str(folders.model), "--frames", "1", "--epochs", "1",
                      "--batch-size", "4", "--train-per-class", "1"]
    for run in ("first", "second"):
        quiet([*model_args, "--out", str(tmp_path / run / "model")])
        quiet([*generator_args, "--out", str(tmp_path / run / "generator")])
    first, second = tmp_path / "first", tmp_path / "second"
    for name in ("model/model.safetensors", "generator/generator.safetensors", "model/per_class.csv",
                 "model/confusion.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    states = [load_tensors(run / "model" / "train_state.safetensors") for run in (first, second)]
    assert states[0].keys() == states[1].keys() and all(states[0][k].equal(states[1][k]) for k in states[0])
