"""`motionprobe analyze` end to end on saved model and generator folders (random init, tiny preset)."""

from __future__ import annotations

import json

import pytest
import torch

from motionprobe.cli import main
from motionprobe.config import preset
from motionprobe.data.synthetic import CLASSES
from motionprobe.folders import GeneratorFolder, ModelFolder
from motionprobe.generator import build_generator
from motionprobe.models.registry import build_model


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("analyze_cli")
    cfg = preset("tiny")
    torch.manual_seed(0)
    ModelFolder(root / "model").save(build_model(cfg.model, cfg.data, len(CLASSES)).eval(), cfg, list(CLASSES))
    bound = {"model_sha256": ModelFolder(root / "model").sha256()}  # a perceptual generator names its model
    for name, k, loss in (("g1", 1, "perceptual"), ("g2", 2, "perceptual"), ("p1", 1, "pixel")):
        GeneratorFolder(root / name).save(build_generator(k, cfg.generator, cfg.data.num_frames), cfg, loss=loss,
                                          **(bound if loss == "perceptual" else {}))
    return root


def analyze(folders, out, *extra):
    return main(["analyze", "--model", str(folders / "model"), "--test-per-class", "1", "--bootstrap", "50",
                 "--no-progress", "--out", str(out), *extra])


def test_analyze_verb_writes_results_and_resumes(folders, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--generator", f"1={folders / 'g1'}", "--pixel-generator", f"1={folders / 'p1'}",
            "--frames", "1,2", "--candidates", "3"]
    assert analyze(folders, out, *args) == 0
    printed = capsys.readouterr()
    assert "motion_bound" in printed.out and "results.json" in printed.out
    assert "no generator for k=2" in printed.err  # k=2 runs original and uniform only, and says so
    results = json.loads((out / "results.json").read_text())
    assert results["frames"] == [1, 2] and results["num_clips"] == len(CLASSES)
    assert results["candidates"] == {"1": 3, "2": 3} and set(results["accuracy"]["uniform"]) == {"1", "2"}
    assert set(results["accuracy"]["full"]) == {"1"} and set(results["accuracy"]["uniform_select"]) == {"1", "2"}
    assert set(results["accuracy"]["pixel_generator"]) == {"1"} and set(results["motion_bound"]) == {"1", "2"}
    assert set(results["paper_bound"]) == {"1"}
    assert results["provenance"]["generators"]["1"]["loss"] == "perceptual"
    assert len(results["provenance"]["model"]["sha256"]) == 64
    config = json.loads((out / "config.json").read_text())
    assert config["analysis"]["ks"] == [1, 2] and config["analysis"]["candidates"] == 3
    for name in ("per_class.csv", "per_clip.csv", "candidates.csv.gz"):
        assert (out / name).is_file()

    assert analyze(folders, out, *args) == 2  # a finished analysis is not overwritten
    assert "--resume" in capsys.readouterr().err
    assert analyze(folders, out, *args, "--resume") == 0
    again = json.loads((out / "results.json").read_text())
    assert {k: v for k, v in again.items() if k != "timestamps"} == {k: v for k, v in results.items() if k != "timestamps"}


@pytest.mark.parametrize("extra,message", [
    (["--generator", "1"], "expected K=DIR"),
    (["--generator", "one=dir"], "expected K=DIR"),
    (["--generator", "2={g1}", "--frames", "2"], "trained for k=1"),
    (["--generator", "4={g1}", "--frames", "1"], "which is not among the k's analysed"),
    (["--pixel-generator", "1={g1}", "--frames", "1"], "perceptual loss"),
    (["--generator", "1={p1}", "--frames", "1"], "pixel loss"),
    (["--generator", "1={missing}", "--frames", "1"], "not a trained generator folder"),
    (["--frames", "0"], "k must be an integer in 1..16"),
    (["--candidates", "some"], "--candidates: expected a positive number of subsets or 'all'"),
])
def test_bad_input_is_one_line_and_exit_2(folders, tmp_path, capsys, extra, message):
    extra = [e.format(g1=folders / "g1", p1=folders / "p1", missing=folders / "nope") for e in extra]
    if message is None:  # argparse rejects it before motionprobe runs
        with pytest.raises(SystemExit) as e:
            analyze(folders, tmp_path / "bad", *extra)
        assert e.value.code == 2
        return
    assert analyze(folders, tmp_path / "bad", *extra) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_model_folder_must_exist(tmp_path, capsys):
    assert main(["analyze", "--model", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "not a trained model folder" in capsys.readouterr().err
