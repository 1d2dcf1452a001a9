"""Hostile input, round three: nothing overwritten, nothing mixed. Reruns and output folders end to end through
`motionprobe.cli.main`, as a user types them.

- every verb that writes a folder refuses one that holds another kind of run (a model's config.json is never
  overwritten by `data info --out MODEL`), and `data export-synthetic` refuses a folder that is no export of the
  same settings;
- `analyze --resume` with a setting that changes a number (frame stride, short-video policy, ...) is refused,
  naming it; summary-only settings (the bootstrap) are not compared;
- a model or generator folder whose training stopped midway is refused by every verb that reads it, with how to
  finish it;
- `pipeline` compares every stage folder with the rerun's settings before anything runs: a refused rerun writes
  nothing (pipeline_config.json included), and a stage records the settings it was made with.

The table in docs/troubleshooting.md ("Bad input") lists the same cases with their outcomes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from reliability_helpers import cli, edit_json, error_line, files_of, quiet, tiny_folders
from test_data_helpers import write_video

ANALYZE = ["--test-per-class", "1", "--frames", "1", "--bootstrap", "20", "--no-probes", "--no-progress"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return tiny_folders(tmp_path_factory)


@pytest.fixture(scope="module")
def analysis(folders, tmp_path_factory):
    out = tmp_path_factory.mktemp("reruns_analysis") / "analysis"
    quiet(["analyze", "--model", str(folders.model), *ANALYZE, "--shard-size", "4", "--out", str(out)])
    return out


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """A two-class annotation list of two tiny videos (the `list` layout): a dataset on disk to cache."""
    root = tmp_path_factory.mktemp("list_dataset")
    for name in ("a", "b"):
        write_video(root / f"{name}.avi", frames=18)
    (root / "classes.txt").write_text("red\ngreen\n")
    (root / "train.txt").write_text("a.avi 0\nb.avi 1\n")
    (root / "test.txt").write_text("a.avi 0\nb.avi 1\n")
    return root


# -- 1. a folder of another kind is refused, untouched ---------------------------------------------------------

def test_every_verb_that_writes_refuses_a_folder_of_another_kind(folders, analysis, videos, tmp_path, capsys):
    """Before: `data info --out MODEL` and `data cache --out MODEL` overwrote the model's config.json (evaluate then
    said the weights did not fit), and report, pipeline and evaluate wrote into any folder."""
    model = tmp_path / "model"
    shutil.copytree(folders.model, model)
    listed = ["--dataset", "list", "--root", videos]
    cases = [(["data", "info", *listed], model, "holds a model run; write the dataset summary into another folder"),
             (["data", "cache", *listed], model, "holds a model run; write the frame cache into another folder"),
             (["data", "export-synthetic", "--train-per-class", "1", "--test-per-class", "1"], model,
              "holds a model run; write the export into another folder"),
             (["report", analysis], model, "holds a model run; write the report into another folder"),
             (["pipeline", "--fast", "--frames", "1"], model, "holds a model run; write the pipeline into another"),
             (["evaluate", "--model", folders.model, "--test-per-class", "1"], analysis,
              "holds an analysis run; write the evaluation into another folder")]
    for argv, out, message in cases:
        before = files_of(out)
        code, _, err = cli(capsys, *argv, "--out", out)
        assert code == 2 and f"--out: {out} {message}" in error_line(err), argv
        assert files_of(out) == before
    assert cli(capsys, "evaluate", "--model", model, "--test-per-class", "1", "--out", tmp_path / "ev")[0] == 0
    # A frame cache and a dataset summary are kinds of their own: no run is written into them either.
    cache, info = tmp_path / "cache", tmp_path / "info"
    assert cli(capsys, "data", "cache", *listed, "--workers", "1", "--out", cache)[0] == 0
    assert cli(capsys, "data", "info", *listed, "--out", info)[0] == 0
    for folder, held in ((cache, "a frame cache"), (info, "a dataset summary")):
        before = files_of(folder)
        code, _, err = cli(capsys, "train-model", "--epochs", "1", "--out", folder)
        assert code == 2 and f"--out: {folder} holds {held}; write the model into another folder" in error_line(err)
        assert files_of(folder) == before


def test_a_refused_frame_cache_leaves_no_folder_inside_the_target(videos, tmp_path, capsys):
    """Before: a folder holding someone else's index.json was refused after frames/ had been made inside it."""
    (tmp_path / "index.json").write_text('{"their": "index"}\n')
    code, _, err = cli(capsys, "data", "cache", "--dataset", "list", "--root", videos, "--out", tmp_path)
    assert code == 2 and "is not a motionprobe frame cache; choose an empty folder" in error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.json"]
    code, _, err = cli(capsys, "data", "cache", "--dataset", "list", "--root", videos, "--workers", "-1",
                       "--out", tmp_path / "c")
    assert code == 2 and "--workers: expected a number of processes in 0..256" in error_line(err)


# -- 2. an export never overwrites a dataset or another export ------------------------------------------------

def test_export_refuses_a_folder_that_is_no_export_of_the_same_settings(tmp_path, capsys):
    """Before: exporting into a UCF101 root replaced its classInd.txt and split lists and added 12 class folders;
    into an older export it overwrote that export's videos."""
    ucf = tmp_path / "UCF101"
    (ucf / "ucfTrainTestlist").mkdir(parents=True)
    (ucf / "ucfTrainTestlist" / "classInd.txt").write_text("1 ApplyEyeMakeup\n")
    before = files_of(ucf)
    export = ["data", "export-synthetic", "--train-per-class", "1", "--test-per-class", "1"]
    code, _, err = cli(capsys, *export, "--out", ucf)
    assert code == 2 and f"--out: {ucf} is not empty (it holds ucfTrainTestlist) and is no export of the benchmark; " \
                         "export into an empty folder" in error_line(err)
    assert files_of(ucf) == before
    out = tmp_path / "export"
    assert cli(capsys, *export, "--out", out)[0] == 0
    exported = files_of(out)
    code, _, err = cli(capsys, *export, "--seed", "3", "--out", out)
    assert code == 2 and "holds an export of the benchmark with other settings (seed=0, not 3)" in error_line(err)
    assert files_of(out) == exported
    assert cli(capsys, *export, "--out", out)[0] == 0  # the same settings again: the same files
    assert {k: v for k, v in files_of(out).items() if k != "truth.json"} == \
        {k: v for k, v in exported.items() if k != "truth.json"}


# -- 3. a resumed analysis never mixes settings ------------------------------------------------------------------

@pytest.mark.parametrize("change, named", [
    (["--frame-stride", "2"], "identity.data.frame_stride: 1, not 2"),
    (["--short-video-policy", "pad"], 'identity.data.short_video_policy: "loop", not "pad"'),
    (["--clips-per-video", "2"], "identity.data.clips_per_video: 1, not 2"),
    (["--seed", "3"], "identity.seed: 0, not 3"),
])
def test_resuming_an_analysis_with_a_setting_that_changes_a_number_is_refused(folders, analysis, tmp_path, capsys,
                                                                               change, named):
    """Before: killed after a shard and resumed with --frame-stride 2, per_clip.csv held clips of both strides
    while results.json said stride 2 throughout: the data options were not in the plan's fingerprint."""
    out = tmp_path / "a"
    shutil.copytree(analysis, out)
    before = files_of(out)
    code, _, err = cli(capsys, "analyze", "--model", folders.model, *ANALYZE, "--shard-size", "4", *change, "--resume",
                       "--out", out)
    line = error_line(err)
    assert code == 2 and f"--resume: {out} holds an analysis of different inputs or settings ({named})" in line
    assert files_of(out) == before


def test_a_summary_setting_is_no_new_analysis_and_is_recorded(folders, analysis, tmp_path, capsys):
    out = tmp_path / "a"
    shutil.copytree(analysis, out)
    code, _, err = cli(capsys, "analyze", "--model", folders.model, *ANALYZE, "--bootstrap", "30", "--shard-size", "4",
                       "--resume", "--out", out)
    assert code == 0, err[-3000:]
    assert json.loads((out / "results.json").read_text())["config"]["analysis"]["bootstrap"] == 30


# -- 6. a folder whose training stopped midway is not taken for a finished one -----------------------------------

def stopped(folder: Path, where: Path) -> Path:
    """A copy of a one-epoch model folder as if its training had stopped after epoch 1 of 5."""
    shutil.copytree(folder, where)
    edit_json(where / "meta.json", lambda m: {**m, "complete": False, "planned_epochs": 5})
    return where


def test_a_model_stopped_midway_is_refused_by_every_verb_that_reads_it(folders, tmp_path, capsys):
    """Before: meta.json is written after every epoch, and a model stopped at epoch 1 of 5 was evaluated, analysed
    and predicted with, without a word."""
    model = stopped(folders.model, tmp_path / "model")
    video = write_video(tmp_path / "v.avi", frames=20)
    expected = (f"{model} holds a model whose training stopped after epoch 1 of 5; finish it first: rerun train-model "
                "into it with --resume and the settings it was started with")
    for argv in (["evaluate", "--model", model, "--test-per-class", "1", "--out", tmp_path / "ev"],
                 ["analyze", "--model", model, *ANALYZE, "--out", tmp_path / "an"],
                 ["predict", "--model", model, video],
                 ["train-generator", "--model", model, "--frames", "1", "--out", tmp_path / "g"],
                 ["invert", "--model", model, "--steps", "1", "--test-per-class", "1", "--out", tmp_path / "inv"]):
        code, _, err = cli(capsys, *argv)
        assert code == 2 and expected in error_line(err), argv
    assert not any((tmp_path / name).exists() for name in ("ev", "an", "g", "inv"))


def test_finishing_a_stopped_model_makes_it_usable(folders, tmp_path, capsys):
    model = stopped(folders.model, tmp_path / "model")
    # Resumed with the epochs it has: nothing to train, and the folder is complete.
    code, _, err = cli(capsys, "train-model", "--epochs", "1", "--train-per-class", "2", "--test-per-class", "1",
                       "--batch-size", "8", "--resume", "--out", model)
    assert code == 0, err[-3000:]
    assert json.loads((model / "meta.json").read_text())["complete"] is True
    assert cli(capsys, "evaluate", "--model", model, "--test-per-class", "1", "--out", tmp_path / "ev")[0] == 0


def test_a_generator_stopped_midway_is_refused(folders, tmp_path, capsys):
    generator = tmp_path / "generator"
    shutil.copytree(folders.generator, generator)
    edit_json(generator / "meta.json", lambda m: {**m, "complete": False,
                                                  "metrics": {**m["metrics"], "epochs": 1, "planned_epochs": 4}})
    code, _, err = cli(capsys, "analyze", "--model", folders.model, *ANALYZE[:2], "--frames", "2", "--candidates", "2",
                       "--no-progress", "--generator", f"2={generator}", "--out", tmp_path / "a")
    assert code == 2 and (f"--generator: {generator} holds a generator whose training stopped after epoch 1 of 4; "
                          "finish it first: rerun train-generator into it with --resume") in error_line(err)
    assert not (tmp_path / "a").exists()


# -- 5, 8. a pipeline rerun compares every stage before anything runs ----------------------------------------------

SMALL = ["--train-per-class", "1", "--test-per-class", "1", "--frames", "1", "--no-probes"]
MADE_WITH = {"train": {"epochs": 1, "lr": 0.01}, "generator": {"ngf": 8, "epochs": 1, "min_steps": 0},
             "analysis": {"candidates": 2, "bootstrap": 20}}


def config_file(path: Path, **changes: dict) -> Path:
    """MADE_WITH with `changes` per section (a value of None drops the setting: the preset's is used)."""
    tree = {section: {k: v for k, v in {**values, **changes.get(section, {})}.items() if v is not None}
            for section, values in MADE_WITH.items()}
    path.write_text(yaml.safe_dump(tree))
    return path


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    """A finished tiny pipeline whose model and generators were made with non-default settings (a config file)."""
    root = tmp_path_factory.mktemp("pipeline_rerun")
    quiet(["pipeline", *SMALL, "--config", str(config_file(root / "made.yaml")), "--out", str(root / "run")])
    return root


@pytest.mark.parametrize("changes, extra, named", [
    ({"train": {"lr": None}}, [], "model made with train.lr=0.01, not 0.001"),
    ({"generator": {"ngf": None}}, [], "generator made with generator.ngf=8, not 16"),
    ({"generator": {"distinct_share": 0.25}}, [], "generator made with generator.distinct_share=0.5, not 0.25"),
    ({}, ["--seed", "5"], "model made with seed=0, not 5"),
    ({"analysis": {"candidates": 3}}, [], "analysis made with analysis.candidates=2, not 3"),
    ({"train": {"epochs": 2}}, [], "was made from the model in"),
], ids=["train.lr", "generator.ngf", "generator.distinct_share", "seed", "analysis.candidates", "more model epochs"])
def test_a_pipeline_rerun_with_other_settings_is_refused_before_anything_runs(pipeline_run, tmp_path, capsys, changes,
                                                                               extra, named):
    """Before: a rerun without the file took the model for complete (only epochs were compared) and recorded lr 0.001
    in pipeline_config.json and the analysis; a refused `--seed 5` rerun had already rewritten pipeline_config.json."""
    out = tmp_path / "run"
    shutil.copytree(pipeline_run / "run", out)
    before = files_of(out)
    code, _, err = cli(capsys, "pipeline", *SMALL, *extra, "--config", config_file(tmp_path / "rerun.yaml", **changes),
                       "--out", out)
    line = error_line(err)
    assert code == 2 and line.startswith(f"motionprobe: error: --out: {out}/") and named in line
    assert files_of(out) == before  # pipeline_config.json included


def test_every_stage_records_the_settings_it_was_made_with(pipeline_run):
    run = pipeline_run / "run"
    results = json.loads((run / "analysis" / "results.json").read_text())
    assert results["config"]["train"]["lr"] == 0.01 and results["config"]["generator"]["ngf"] == 8
    assert results["provenance"]["generators"]["1"]["generator"]["ngf"] == 8
    for stage in ("model", "generator_k1_perceptual", "generator_k1_pixel", "analysis"):
        recorded = json.loads((run / stage / "config.json").read_text())
        assert recorded["train"]["lr"] == 0.01 and recorded["generator"]["ngf"] == 8, stage
    assert json.loads((run / "model" / "meta.json").read_text())["complete"] is True
