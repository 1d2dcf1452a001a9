"""Hostile input, end to end through `motionprobe.cli.main`: model folders that name code to run, folders and
options that do not fit each other, unwritable outputs, malformed run folders, interrupted runs.

Each case ends in one line on stderr and exit status 2 (and, when refused, no output folder left behind),
a correct result, or a warning that is one line; never a traceback, never a lost result. The table in
docs/troubleshooting.md ("Bad input") lists the same cases with their outcomes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from reliability_helpers import (
    REPO,
    cli,
    edit_json,
    error_line,
    files_of,
    quiet,
    start,
    tiny_folders,
    wait_until,
    written_since,
)
from test_data_helpers import write_video

from motionprobe.cli import main
from motionprobe.io import load_tensors, save_tensors

ANALYZE = ["--test-per-class", "1", "--frames", "1", "--bootstrap", "20", "--no-progress"]
TRAIN = ["--epochs", "1", "--train-per-class", "1", "--test-per-class", "1", "--batch-size", "8"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return tiny_folders(tmp_path_factory)


@pytest.fixture(scope="module")
def other_model(tmp_path_factory):
    """A second tiny model, trained one epoch longer: the same classes, shapes and data settings, other weights."""
    out = tmp_path_factory.mktemp("other_model") / "model"
    quiet(["train-model", *TRAIN[2:], "--epochs", "2", "--out", str(out)])
    return out


@pytest.fixture(scope="module")
def analysis(folders, tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile_analysis") / "analysis"
    quiet(["analyze", "--model", str(folders.model), *ANALYZE, "--out", str(out)])
    return out


# -- 2. a model folder never runs the code its config.json names ---------------------------------------------

PAYLOAD = "import pathlib\npathlib.Path('payload-ran').touch()\n\ndef build(num_classes):\n    raise SystemExit(3)\n"


def shared_folder(model: Path, where: Path, module: str) -> Path:
    """A model folder as received from someone else: its config names `module:build`, and `module`.py lies beside it."""
    shutil.copytree(model, where / "model")
    edit_json(where / "model" / "config.json", lambda c: {**c, "model": {**c["model"], "model_factory": f"{module}:build"}})
    (where / f"{module}.py").write_text(PAYLOAD)
    return where / "model"


def test_python_dash_m_in_a_shared_folder_does_not_run_its_helper(folders, tmp_path):
    """`python -m motionprobe` puts the working directory on sys.path, so `helpers:build` was importable and ran."""
    shared_folder(folders.model, tmp_path, "helpers")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    argv = [sys.executable, "-m", "motionprobe", "evaluate", "--model", "model", "--test-per-class", "1"]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    line = error_line(done.stderr)
    assert done.returncode == 2 and "'helpers:build'" in line and "--trust-model-code" in line
    assert not (tmp_path / "payload-ran").exists()
    # The switch is the user's say-so: then the factory is imported and called (here it exits with status 3).
    done = subprocess.run([*argv, "--trust-model-code"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 3 and (tmp_path / "payload-ran").exists()


@pytest.mark.parametrize("verb", ["analyze", "train-generator", "invert", "pipeline", "evaluate"])
def test_no_verb_imports_a_model_folders_factory_without_the_switch(folders, tmp_path, capsys, monkeypatch, verb):
    module = f"payload_{verb.replace('-', '_')}"
    model = shared_folder(folders.model, tmp_path, module)
    monkeypatch.syspath_prepend(str(tmp_path))  # importable, as under python -m: only refusing passes
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    argv = {"analyze": ["analyze", "--model", model, *ANALYZE],
            "train-generator": ["train-generator", "--model", model, "--frames", "1", *TRAIN[:4]],
            "invert": ["invert", "--model", model, "--steps", "1", "--test-per-class", "1", "--no-progress"],
            "pipeline": ["pipeline", "--model", model, "--fast", "--frames", "1"],
            "evaluate": ["evaluate", "--model", model, "--test-per-class", "1"]}[verb]
    code, _, err = cli(capsys, *argv, "--out", out)
    assert code == 2 and f"'{module}:build'" in error_line(err) and "--trust-model-code" in error_line(err)
    assert not (tmp_path / "payload-ran").exists() and module not in sys.modules
    assert not (out / "results.json").exists() and not (out / "generator.safetensors").exists()


# -- 3. the model's clips win over a preset --------------------------------------------------------------------

def test_the_model_folders_clips_win_over_the_paper_preset(folders, tmp_path, capsys):
    """Before: analyze/evaluate --preset paper on a tiny model died in torch (mat1 and mat2 shapes cannot be multiplied)."""
    note = (f"clips as the model in {folders.model} was trained: 16 frames, crop 32, resize 32×32 (the config asked "
            "for crop 112, resize 128×171)")
    code, _, err = cli(capsys, "analyze", "--model", folders.model, "--preset", "paper", *ANALYZE, "--out", tmp_path / "a")
    assert code == 0 and note in err and "Traceback" not in err
    results = json.loads((tmp_path / "a" / "results.json").read_text())
    assert results["config"]["data"]["crop_size"] == 32 and results["config"]["analysis"]["bootstrap"] == 20
    code, _, err = cli(capsys, "evaluate", "--model", folders.model, "--preset", "paper", "--test-per-class", "1",
                       "--out", tmp_path / "ev")
    assert code == 0 and note in err
    assert json.loads((tmp_path / "ev" / "config.json").read_text())["data"]["resize"] == [32, 32]


def test_pipeline_with_a_model_trains_generators_for_its_clips(folders, tmp_path, capsys):
    """Before: pipeline --model TINY under the paper preset died in the generator stage (mat1 and mat2 shapes)."""
    small = tmp_path / "small.yaml"  # the paper preset, with a generator and a pool small enough for seconds
    small.write_text("generator: {ngf: 8, n_blocks: 1, batch_size: 24}\nanalysis: {candidates: 2}\n")
    out = tmp_path / "run"
    code, _, err = cli(capsys, "pipeline", "--model", folders.model, "--preset", "paper", "--fast", "--frames", "1",
                       "--config", small, "--out", out)
    assert code == 0, err[-3000:]
    assert "crop 32, resize 32×32 (the config asked for crop 112, resize 128×171)" in err
    generator = json.loads((out / "generator_k1_perceptual" / "config.json").read_text())
    assert generator["data"]["crop_size"] == 32 and generator["generator"]["ngf"] == 8
    assert json.loads((out / "analysis" / "results.json").read_text())["config"]["data"]["crop_size"] == 32


# -- 4. mismatched folders are refused ------------------------------------------------------------------------

def test_a_generator_is_bound_to_its_model_by_hash(folders, other_model, tmp_path, capsys):
    meta = json.loads((folders.generator / "meta.json").read_text())
    assert meta["model_sha256"] == hashlib.sha256((folders.model / "model.safetensors").read_bytes()).hexdigest()
    analyze = ["analyze", "--model", other_model, "--generator", f"2={folders.generator}", "--test-per-class", "1",
               "--frames", "2", "--candidates", "2", "--bootstrap", "20", "--no-progress"]
    code, _, err = cli(capsys, *analyze, "--out", tmp_path / "a")
    line = error_line(err)
    assert code == 2 and line.startswith(f"motionprobe: error: --generator: {folders.generator} holds a generator "
                                         f"trained against another model (weights sha256 {meta['model_sha256'][:12]}")
    assert not (tmp_path / "a").exists()
    # A generator folder that records no model hash cannot be checked against the model: refused, one line.
    unbound = tmp_path / "unbound"
    shutil.copytree(folders.generator, unbound)
    edit_json(unbound / "meta.json", lambda m: {k: v for k, v in m.items() if k != "model_sha256"})
    code, _, err = cli(capsys, *[a if a != f"2={folders.generator}" else f"2={unbound}" for a in analyze],
                       "--out", tmp_path / "b")
    assert code == 2 and error_line(err) == (f"motionprobe: error: --generator: {unbound} records no model hash, so "
                                             "nothing says which model's features it learned; train it again against "
                                             "this model (train-generator)")
    assert not (tmp_path / "b").exists()


def test_resuming_a_generator_against_another_model_is_refused(folders, other_model, tmp_path, capsys):
    out = tmp_path / "g"
    args = ["train-generator", "--frames", "1", "--train-per-class", "1", "--batch-size", "8", "--out", out]
    assert cli(capsys, *args, "--model", folders.model, "--epochs", "1")[0] == 0
    before = files_of(out)
    code, _, err = cli(capsys, *args, "--model", other_model, "--epochs", "2", "--resume")
    assert code == 2 and "--resume: " in error_line(err) and "holds a generator run against another model" in err
    assert files_of(out) == before
    assert cli(capsys, *args, "--model", folders.model, "--epochs", "2", "--resume")[0] == 0  # its own model: resumes


def test_resuming_a_training_run_with_another_seed_is_refused(tmp_path, capsys):
    out = tmp_path / "m"
    assert cli(capsys, "train-model", *TRAIN, "--out", out)[0] == 0
    before = files_of(out)
    code, _, err = cli(capsys, "train-model", *TRAIN[2:], "--epochs", "2", "--seed", "7", "--resume", "--out", out)
    assert code == 2 and error_line(err) == (f"motionprobe: error: --resume: {out} holds a run with other settings "
                                             "(started with seed=0, not 7); resume it with the settings it was started "
                                             "with, or choose another folder")
    assert files_of(out) == before and json.loads((out / "config.json").read_text())["seed"] == 0


# -- 6, 7, 8, 13, 14: refused options and config values, one line, no folder left behind -----------------------

POOL = "expected a positive number of subsets or 'all'"  # the one validator's words, for flag and config alike
NO_KS = "expected numbers of kept frames like 1, 2, 4, 8, got none"
M = ["--model", "{model}"]

REFUSED_OPTIONS = [
    (["train-model", "--lr", "nan"], "--lr: expected a positive learning rate, got nan"),
    (["train-model", "--epochs", "0"], "--epochs: expected a positive integer, got 0"),
    (["train-model", "--batch-size", "0"], "--batch-size: expected a positive integer, got 0"),
    (["train-model", "--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
    (["train-model", "--epochs", "two"], "argument --epochs: invalid int value: 'two' (see 'motionprobe train-model "
                                         "--help')"),
    (["train-model", "--weights", "{text_pth}"], "is not a PyTorch weights file (neither the zip archive torch.save"),
    (["train-model", "--weights", "{missing}"], "--weights: {missing} not found"),
    (["train-generator", *M, "--frames", "1", "--lr", "-1"], "--lr: expected a positive learning rate, got -1.0"),
    (["train-generator", *M, "--frames", "1", "--epochs", "0"], "--epochs: expected a positive integer, got 0"),
    (["train-generator", *M, "--frames", "1", "--batch-size", "0"], "--batch-size: expected a positive integer, got 0"),
    (["train-generator", *M, "--frames", "0"], "--frames: expected a number of given frames in 1..16, got 0"),
    (["train-generator", *M, "--frames", "17"], "--frames: expected a number of given frames in 1..16, got 17"),
    (["analyze", *M, "--frames", "0"], "--frames: k must be an integer in 1..16, got 0"),
    (["analyze", *M, "--frames", ""], f"--frames: {NO_KS}"),
    (["analyze", *M, "--candidates", "0"], f"--candidates: {POOL}, got 0"),
    (["analyze", *M, "--candidates", "some"], f"--candidates: {POOL}, got 'some'"),
    (["analyze", *M, "--bootstrap", "0"], "--bootstrap: expected a positive integer, got 0"),
    (["analyze", *M, "--bootstrap", "-5"], "--bootstrap: expected a positive integer, got -5"),
    (["analyze", *M, "--batch-size", "0"], "--batch-size: expected a positive integer, got 0"),
    (["analyze", *M, "--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
    (["evaluate", *M, "--batch-size", "0"], "--batch-size: expected a positive integer, got 0"),
    (["invert", *M, "--lr", "nan"], "--lr: expected a positive learning rate, got nan"),
    (["invert", *M, "--steps", "0"], "--steps: expected a positive number of steps, got 0"),
    (["invert", *M, "--tv", "-1"], "--tv: expected a finite weight ≥ 0, got -1.0"),
    (["pipeline", "--frames", "17"], "--frames: k must be an integer in 1..16, got 17"),
    (["pipeline", *M, "--frames", "0"], "--frames: k must be an integer in 1..16, got 0"),
]


@pytest.fixture(scope="module")
def placeholders(folders, tmp_path_factory):
    root = tmp_path_factory.mktemp("placeholders")
    (root / "weights.pth").write_text("this is a text file, not weights\n")
    return {"model": str(folders.model), "text_pth": str(root / "weights.pth"), "missing": str(root / "no.pth")}


@pytest.mark.parametrize("argv, message", REFUSED_OPTIONS, ids=[" ".join(a[:1] + a[-2:]) for a, _ in REFUSED_OPTIONS])
def test_a_refused_option_is_one_line_and_leaves_no_folder(placeholders, tmp_path, capsys, argv, message):
    out = tmp_path / "out" / "run"
    code, _, err = cli(capsys, *[a.format(**placeholders) for a in argv], "--out", out)
    assert code == 2 and message.format(**placeholders) in error_line(err)
    assert not (tmp_path / "out").exists()


REFUSED_CONFIGS = [
    ("train-model", "device: tpu\n", "--device: expected one of cpu, cuda, got 'tpu'"),
    ("train-model", "data: {resize: abc}\n", "data.resize: expected two positive integers [height, width], got ['abc']"),
    ("train-model", "data: {resize: [32]}\n", "data.resize: expected two positive integers [height, width], got [32]"),
    ("train-model", "data: {crop_size: 0}\n", "data.crop_size: expected a positive integer, got 0"),
    # The paper's C3D (no global pooling): at 8 frames fc6 would have had 0 inputs.
    ("train-model", "preset: paper\ndata: {num_frames: 8}\n", "data.num_frames: C3D pools time 4 times and needs clips "
                                                              "of at least 16 frames, got 8"),
    ("train-model", "data: {num_frames: 0}\n", "data.num_frames: expected a positive integer, got 0"),
    ("train-model", "preset: paper\ndata: {crop_size: 12, resize: [12, 12]}\n", "data.crop_size: C3D pools space 5 "
                                                                              "times and needs a crop of at least 16 "
                                                                              "pixels, got 12"),
    ("train-model", "train: {lr: .nan}\n", "--lr: expected a positive learning rate, got nan"),
    ("train-model", "train: {momentum: -1}\n", "train.momentum: expected a finite number ≥ 0, got -1.0"),
    ("train-model", "data: {root: [a, b]}\n", "--root: expected a path or name (text), got ('a', 'b')"),
    ("train-model", "resume: 'yes'\n", "--config: {config}: resume: expected true or false, got 'yes'"),
    ("train-model", "preset: [tiny]\n", "preset: unknown preset ['tiny']; expected one of paper, tiny"),
    ("pipeline", "data: {crop_size: 30, resize: [32, 32]}\n", "data.crop_size: the temporal generator needs a crop side "
                                                              "that is a multiple of 4 and at least 8, got 30"),
    ("analyze", "analysis: {candidates: 0}\n", f"--candidates: {POOL}, got 0"),
    ("analyze", "candidates: 0\n", f"--candidates: {POOL}, got 0"),
    ("analyze", "analysis: {candidates: some}\n", f"--candidates: {POOL}, got 'some'"),
    ("analyze", "analysis: {ks: []}\n", f"--frames: {NO_KS}"),
    ("analyze", "bootstrap: 0\n", "--bootstrap: expected a positive integer, got 0"),
    ("analyze", "model: [a, b]\n", "--config: {config}: model: expected a value as on the command line, got ['a', 'b']"),
]


@pytest.mark.parametrize("verb, text, message", REFUSED_CONFIGS, ids=[f"{v} {t.strip()}" for v, t, _ in REFUSED_CONFIGS])
def test_a_refused_config_value_is_one_line_and_leaves_no_folder(folders, tmp_path, capsys, verb, text, message):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    model = [] if verb in ("train-model", "pipeline") or text.startswith("model:") else ["--model", folders.model]
    out = tmp_path / "out" / "run"
    code, _, err = cli(capsys, verb, *model, "--config", config, "--out", out)
    assert code == 2 and message.format(config=config) in error_line(err)
    assert not (tmp_path / "out").exists()


def test_the_generator_size_is_checked_before_anything_trains(folders, tmp_path, capsys):
    model = tmp_path / "model30"  # a model trained on 30×30 crops (config.json is what the generator's clips follow)
    shutil.copytree(folders.model, model)
    edit_json(model / "config.json", lambda c: {**c, "data": {**c["data"], "crop_size": 30, "resize": [30, 30]}})
    out = tmp_path / "out" / "g"
    code, _, err = cli(capsys, "train-generator", "--model", model, "--frames", "1", "--out", out)
    assert code == 2 and "data.crop_size: the temporal generator needs a crop side that is a multiple of 4" in \
        error_line(err)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("spelling", [["--candidates", "all"], ["--candidates", " ALL"], "analysis: {candidates: all}\n",
                                      "candidates: ALL\n"])
def test_all_candidates_is_one_value_whether_flag_or_config(folders, tmp_path, capsys, spelling):
    if isinstance(spelling, str):
        (tmp_path / "c.yaml").write_text(spelling)
        spelling = ["--config", tmp_path / "c.yaml"]
    code, _, err = cli(capsys, "analyze", "--model", folders.model, *ANALYZE, *spelling, "--out", tmp_path / "a")
    assert code == 0, err
    assert json.loads((tmp_path / "a" / "results.json").read_text())["config"]["analysis"]["candidates"] == "all"


# -- 6. unwritable output folders ---------------------------------------------------------------------------------

@pytest.fixture
def unwritable(tmp_path):
    """(folder, reason): a read-only file system (a read-only tmpfs, mounted when running as root) or else a
    folder without write permission; either way the kernel refuses every write into it."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], check=True)
        yield folder, "read-only file system"
        subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        yield folder, "permission denied"
        folder.chmod(0o755)


UNWRITABLE = {
    "train-model": ["train-model", *TRAIN],
    "train-generator": ["train-generator", "--model", "{model}", "--frames", "1", *TRAIN[:4]],
    "evaluate": ["evaluate", "--model", "{model}", "--test-per-class", "1"],
    "analyze": ["analyze", "--model", "{model}", *ANALYZE],
    "invert": ["invert", "--model", "{model}", "--steps", "1", "--test-per-class", "1", "--no-progress"],
    "report": ["report", "{analysis}"],
    "pipeline": ["pipeline", "--fast", "--frames", "1"],
    "demo": ["demo", "--fast", "--frames", "1"],
    "data info": ["data", "info", "--test-per-class", "1"],
    "data export-synthetic": ["data", "export-synthetic", "--train-per-class", "1", "--test-per-class", "1"],
}


@pytest.mark.parametrize("verb", list(UNWRITABLE))
@pytest.mark.parametrize("inside", [False, True], ids=["the folder itself", "a new folder inside"])
def test_an_unwritable_out_is_one_line_naming_it(folders, analysis, unwritable, capsys, verb, inside):
    """Before: every verb ended in a traceback (OSError: [Errno 30] Read-only file system)."""
    folder, reason = unwritable
    out = folder / "new" if inside else folder
    argv = [a.format(model=folders.model, analysis=analysis) for a in UNWRITABLE[verb]]
    code, _, err = cli(capsys, *argv, "--out", out)
    assert code == 2 and error_line(err) == f"motionprobe: error: {out}: cannot write here ({reason})"


def test_an_out_below_a_file_is_one_line(folders, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "a"
    code, _, err = cli(capsys, "analyze", "--model", folders.model, *ANALYZE, "--out", out)
    assert code == 2 and error_line(err) == f"motionprobe: error: {out}: cannot write here (not a directory)"


def test_a_write_the_file_system_refuses_midway_is_one_line_and_keeps_the_old_file(tmp_path, monkeypatch):
    from motionprobe import io as mpio
    from motionprobe.errors import UserError

    target = tmp_path / "results.json"
    mpio.atomic_write_json(target, {"old": True})

    def refused(fd):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "fsync", refused)
    with pytest.raises(UserError) as e:
        mpio.atomic_write_json(target, {"new": True})
    monkeypatch.undo()
    assert str(e.value) == f"{target}: cannot write here (read-only file system); the previous version is intact"
    assert json.loads(target.read_text()) == {"old": True} and [p.name for p in tmp_path.iterdir()] == ["results.json"]


# -- 9. an output folder of another kind of run is refused, untouched ---------------------------------------------

def test_out_holding_another_kind_of_run_is_refused_untouched(folders, analysis, tmp_path, capsys):
    model, generator = tmp_path / "model", tmp_path / "generator"
    shutil.copytree(folders.model, model)
    shutil.copytree(folders.generator, generator)
    cases = [(["analyze", "--model", folders.model, *ANALYZE], model, "holds a model run; write the analysis into another"),
             (["train-model", *TRAIN], analysis, "holds an analysis run; write the model into another folder"),
             (["train-generator", "--model", folders.model, "--frames", "1", *TRAIN[:4]], model,
              "holds a model run; write the generator into another folder"),
             (["train-model", *TRAIN], generator, "holds a generator run; write the model into another folder")]
    for argv, out, message in cases:
        before = files_of(out)
        code, _, err = cli(capsys, *argv, "--out", out)
        assert code == 2 and f"--out: {out} {message}" in error_line(err)
        assert files_of(out) == before


# -- malformed run folders: one line naming the file ----------------------------------------------------------------

MALFORMED = [
    ("meta.json", lambda m: {**m, "preprocessing": {**m["preprocessing"], "mean": [0.4, 0.4]}},
     "meta.json: preprocessing.mean: expected 3 numbers, got [0.4, 0.4]"),
    ("meta.json", lambda m: [m], "meta.json: expected a JSON object, got list"),
    ("meta.json", lambda m: {k: v for k, v in m.items() if k != "classes"},
     "meta.json: classes: expected a non-empty list of class names, got None"),
    ("meta.json", lambda m: {**m, "preprocessing": "imagenet"},
     "meta.json: preprocessing: expected an object, got 'imagenet'"),
    ("meta.json", lambda m: {**m, "preprocessing": {**m["preprocessing"], "std": [0, 1, 1]}},
     "meta.json: preprocessing.std: expected 3 non-zero numbers, got [0, 1, 1]"),
    ("meta.json", lambda m: {**m, "spec": {**m["spec"], "colour": "red"}}, "meta.json: spec: unknown field 'colour'"),
    ("meta.json", lambda m: {**m, "spec": {**m["spec"], "num_frames": "16"}},
     "meta.json: spec.num_frames: expected a positive integer, got '16'"),
    ("config.json", lambda c: [c], "config.json: expected a JSON object of config sections, got list"),
    ("config.json", lambda c: {**c, "data": {**c["data"], "colour": 1}}, "config.json: data.colour: unknown option"),
    ("config.json", lambda c: {**c, "data": {**c["data"], "crop_size": "big"}},
     "config.json: data.crop_size: expects an integer, got 'big'"),
]


@pytest.mark.parametrize("verb", ["analyze", "evaluate"])
@pytest.mark.parametrize("name, change, message", MALFORMED, ids=[m for _, _, m in MALFORMED])
def test_a_malformed_model_folder_is_one_line_naming_the_file(folders, tmp_path, capsys, verb, name, change, message):
    model = tmp_path / "model"
    shutil.copytree(folders.model, model)
    edit_json(model / name, change)
    extra = ANALYZE if verb == "analyze" else ["--test-per-class", "1"]
    code, _, err = cli(capsys, verb, "--model", model, *extra, "--out", tmp_path / "out")
    assert code == 2 and f"{model}/{message}" in error_line(err)
    assert not (tmp_path / "out").exists()


def test_a_malformed_generator_folder_is_one_line_naming_the_file(folders, tmp_path, capsys):
    generator = tmp_path / "generator"
    shutil.copytree(folders.generator, generator)
    edit_json(generator / "meta.json", lambda m: {**m, "k": "two"})
    code, _, err = cli(capsys, "analyze", "--model", folders.model, *ANALYZE[:2], "--frames", "2", "--generator",
                       f"2={generator}", "--out", tmp_path / "out")
    assert code == 2
    assert f"{generator}/meta.json: k: expected the number of given frames (1..16), got 'two'" in error_line(err)


# -- 14. models that cannot be right, weights that are not weights ---------------------------------------------------

def poisoned(model: Path, where: Path, change) -> Path:
    shutil.copytree(model, where)
    state = load_tensors(where / "model.safetensors")
    change(state)
    save_tensors(where / "model.safetensors", state)
    return where


@pytest.mark.parametrize("verb", ["analyze", "evaluate"])
def test_a_model_with_nan_weights_is_refused_naming_the_file(folders, tmp_path, capsys, verb):
    """Before: analysed silently, every clip class 0 (8.3% on the 12 classes)."""
    model = poisoned(folders.model, tmp_path / "nan", lambda s: s["fc8.weight"].fill_(float("nan")))
    extra = ANALYZE if verb == "analyze" else ["--test-per-class", "1"]
    code, _, err = cli(capsys, verb, "--model", model, *extra, "--out", tmp_path / "out")
    assert code == 2 and error_line(err) == (f"motionprobe: error: {model}/model.safetensors: the weights are not finite "
                                             "(fc8.weight holds NaN or infinity); retrain the model or take an earlier "
                                             "checkpoint")
    assert not (tmp_path / "out").exists()


def overflowing(state: dict) -> None:
    """Finite weights whose logits overflow on any input: fc7's outputs are at least 1000 (its bias), and fc8
    multiplies their sum by 3e38, near float32's largest value."""
    state["fc7.bias"].fill_(1000.0)
    state["fc8.weight"].fill_(3e38)


def test_a_model_whose_outputs_overflow_is_refused_naming_the_file(folders, tmp_path, capsys):
    model = poisoned(folders.model, tmp_path / "huge", overflowing)
    assert all(torch.isfinite(t).all() for t in load_tensors(model / "model.safetensors").values())
    code, _, err = cli(capsys, "analyze", "--model", model, *ANALYZE, "--out", tmp_path / "out")
    line = error_line(err)
    assert code == 2 and line.startswith(f"motionprobe: error: {model}/model.safetensors: the model's outputs on test clip ")
    assert "are not finite (NaN or infinity)" in line and not (tmp_path / "out").exists()


# -- 14. Ctrl-C says something true ----------------------------------------------------------------------------------

def test_ctrl_c_before_the_first_checkpoint_says_there_is_nothing_to_resume(tmp_path):
    """Before: 'rerun with --resume to continue', and --resume then said the folder held no training state."""
    out, log = tmp_path / "run", tmp_path / "log.txt"
    # 600 steps before the first checkpoint: the tiny model takes ~20 steps a second, so the signal always lands
    # inside the epoch (at 45 steps a fast machine could finish it first)
    argv = ["train-model", "--epochs", "1", "--train-per-class", "400", "--test-per-class", "1", "--batch-size", "8",
            "--out", str(out)]
    since = time.time_ns()
    proc = start(argv, log)
    # config.json is written once the model is built, moments before the first step.
    assert wait_until(lambda: written_since(out / "config.json", since), proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) == 130, log.read_text()[-3000:]
    assert not (out / "train_state.safetensors").exists()
    said = [line for line in log.read_text().splitlines() if line.startswith("motionprobe: ")]
    assert said == [f"motionprobe: interrupted before the first checkpoint: {out} holds nothing to resume; "
                    "rerun without --resume"], log.read_text()[-3000:]
    assert "Traceback" not in log.read_text()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        assert main([*argv, "--resume"]) == 2  # what the message says is true: there is nothing to resume
    assert "holds no training state" in error_line(err.getvalue())


# -- 12. files are written with the umask's permissions -------------------------------------------------------------

UMASK_RUN = r'''
import hashlib, io, json, os, sys, tarfile
from pathlib import Path
from motionprobe.cli import main
from motionprobe.weights import fetch, registry

model, root, steps = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3].split(",")
modes = {}
def mode(path):
    modes[str(path.relative_to(root))] = oct(path.stat().st_mode & 0o777)
if "analyze" in steps:
    assert main(["analyze", "--model", str(model), "--test-per-class", "1", "--frames", "1", "--bootstrap", "20",
                 "--no-progress", "--out", str(root / "analysis")]) == 0
    mode(root / "analysis" / "results.json")
if "report" in steps:
    assert main(["report", str(root / "analysis")]) == 0
    mode(root / "analysis" / "report.html")
if "export" in steps:
    assert main(["data", "export-synthetic", "--train-per-class", "1", "--test-per-class", "1", "--out",
                 str(root / "export")]) == 0
    mode(root / "export" / "ucfTrainTestlist" / "testlist01.txt")
if "weights" in steps:  # a package archive served by a stand-in pip, as tests/test_weights_fetch.py does
    data = b"64 bytes of weights".ljust(64, b".")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("pkg-1.0/pkg/w.ckpt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (root / "dist").mkdir()
    (root / "dist" / "pkg-1.0.tar.gz").write_bytes(buf.getvalue())
    (root / "pip.py").write_text("import shutil, sys\nshutil.copy(%r, sys.argv[sys.argv.index('-d') + 1])\n"
                                 % str(root / "dist" / "pkg-1.0.tar.gz"))
    registry.WEIGHTS["fake"] = registry.NamedWeights(
        name="fake", arch="i3d", description="test", package="pkg", version="1.0", archive="pkg-1.0.tar.gz",
        archive_sha256=hashlib.sha256(buf.getvalue()).hexdigest(), member="pkg-1.0/pkg/w.ckpt",
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), classes="kinetics400_classes.txt")
    mode(fetch.fetch_weights("fake", root / "cache", pip=[sys.executable, str(root / "pip.py")]))
print(json.dumps(modes))
'''


def run_under_umask(mask: int, model: Path, root: Path, steps: str) -> dict[str, str]:
    root.mkdir()
    done = subprocess.run([sys.executable, "-c", UMASK_RUN, str(model), str(root), steps], cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=600,
                          preexec_fn=lambda: os.umask(mask))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_outputs_get_the_permissions_the_umask_allows(folders, tmp_path):
    """Before: every output was 0600 (mkstemp's mode), unreadable by the group a shared analysis is for."""
    modes = run_under_umask(0o022, folders.model, tmp_path / "shared", "analyze,report,export,weights")
    assert modes == {"analysis/results.json": "0o644", "analysis/report.html": "0o644",
                     "export/ucfTrainTestlist/testlist01.txt": "0o644", "cache/weights/w.ckpt": "0o644"}
    # The umask is applied, not a fixed mode: a private umask keeps files private.
    assert run_under_umask(0o077, folders.model, tmp_path / "private", "analyze,weights") == {
        "analysis/results.json": "0o600", "cache/weights/w.ckpt": "0o600"}


# -- round three: every traceback of the list is one line -------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile(folders, analysis, tmp_path_factory):
    """Files the cases below feed in: config files of every hostile shape, list datasets with hostile labels,
    a results.json without classes, a video."""
    root = tmp_path_factory.mktemp("round_three")
    write_video(root / "v.avi", frames=20)
    write_video(root / "v3.avi", frames=3)
    texts = {"deep.yaml": "x: " + "[" * 5000 + "]" * 5000 + "\n", "deep.json": '{"a": ' * 5000 + "1" + "}" * 5000,
             "deep.toml": "a = " + "[" * 5000 + "]" * 5000 + "\n", "long_int.yaml": "seed: " + "9" * 5000 + "\n",
             "batch.yaml": "train: {batch_size: 1.0e+20}\n", "seed.yaml": "seed: -5\n", "cuda99.yaml": "device: cuda:99\n",
             "laughs.yaml": "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else 'lol'}]\n" for i in range(9))
             + "data: {resize: *l8}\n", "bootstrap.yaml": "bootstrap: 1.0e+20\n",
             "huge_clip.yaml": "data: {num_frames: 1024, crop_size: 4096, resize: [4096, 4096]}\n",
             "huge_batch.yaml": "preset: paper\ntrain: {batch_size: 65536}\n",
             "all32.yaml": "data: {num_frames: 32}\nanalysis: {ks: [16], candidates: all}\n"}
    for name, text in texts.items():
        (root / name).write_text(text)
    (root / "binary.yaml").write_bytes(b"seed: \xff\xfe\x00\x81\n")
    for name, label in (("minus", "--1"), ("superscript", "³")):
        (root / name).mkdir()
        shutil.copy(root / "v.avi", root / name / "a.avi")
        (root / name / "classes.txt").write_text("red\ngreen\n")
        for split in ("train", "test"):
            (root / name / f"{split}.txt").write_text(f"a.avi {label}\n")
    no_classes = root / "no_classes"
    shutil.copytree(analysis, no_classes)
    edit_json(no_classes / "results.json", lambda r: {k: v for k, v in r.items() if k != "classes"})
    return {"root": root, "model": folders.model, "analysis": analysis}


ONE_LINE = [  # (argv, the one error line's words); {root} is the fixture's folder, {model} the tiny model
    (["predict", "--model", "{model}", "--frames", "-3", "{root}/v.avi"],
     "--frames: expected a number of frames per clip in 1..1024, got -3"),
    (["predict", "--model", "{model}", "--frames", "1", "{root}/v.avi"],
     "--frames: the model cannot take clips of 1 frames (it was made for 16)"),
    (["predict", "--model", "{model}", "--frames", "0", "{root}/v.avi"],  # before: silently 16
     "--frames: expected a number of frames per clip in 1..1024, got 0"),
    (["data", "info", "--dataset", "list", "--root", "{root}/minus"], "train.txt:1: expected 'relative/path label_index', "
                                                                       "got 'a.avi --1'"),
    (["data", "info", "--dataset", "list", "--root", "{root}/superscript"], "train.txt:1: expected 'relative/path "
                                                                             "label_index', got 'a.avi ³'"),
    (["train-model", "--config", "{root}/deep.yaml"], "deep.yaml: values nested too deeply (at most 32 levels)"),
    (["train-model", "--config", "{root}/deep.json"], "deep.json: values nested too deeply (at most 32 levels)"),
    (["train-model", "--config", "{root}/deep.toml"], "deep.toml: values nested too deeply (at most 32 levels)"),
    (["train-model", "--config", "{root}/long_int.yaml"], "long_int.yaml is not valid YAML: an integer of more than 4300 "
                                                           "digits"),
    (["train-model", "--config", "{root}/batch.yaml"], "--batch-size: expected at most 65536, got an integer of about "
                                                        "21 digits"),
    (["train-model", "--batch-size", str(10**20)], "--batch-size: expected at most 65536, got an integer of about 21"),
    (["train-model", "--config", "{root}/binary.yaml"], "binary.yaml is not a UTF-8 text file (is it a config file?)"),
    (["train-model", "--config", "{model}/model.safetensors"], "model.safetensors is not a UTF-8 text file"),
    (["train-model", "--seed", "-1"], "--seed: expected an integer in 0..4294967295, got -1"),
    (["train-model", "--seed", str(10**20)], "--seed: expected an integer in 0..4294967295, got an integer of about 21"),
    (["train-model", "--config", "{root}/seed.yaml"], "--seed: expected an integer in 0..4294967295, got -5"),
    (["report", "{root}/no_classes"], "no_classes/results.json: classes: expected a non-empty list of class names, got "
                                      "None"),
    (["invert", "--model", "{model}", "--steps", str(10**20)], "--steps: expected at most 1000000 steps, got "),
    # resource bounds: refused before any work starts
    (["train-model", "--config", "{root}/laughs.yaml"], "laughs.yaml holds more than 10000 values (YAML aliases count "
                                                        "each time they are used)"),
    (["predict", "--model", "{model}", "--frames", "100000", "{root}/v.avi"],
     "--frames: expected a number of frames per clip in 1..1024, got 100000"),
    (["predict", "--model", "{model}", "--clips", "100000", "{root}/v3.avi"],
     "--clips: expected a number of clips per video in 1..1000, got 100000"),
    (["analyze", "--model", "{model}", "--bootstrap", str(10**20)], "--bootstrap: expected at most 100000, got an "
                                                                     "integer of about 21 digits"),
    (["analyze", "--model", "{model}", "--config", "{root}/bootstrap.yaml"], "--bootstrap: expected at most 100000"),
    (["train-model", "--config", "{root}/huge_clip.yaml"], "data.num_frames: one clip of 1024 frames of 4096×4096 "
                                                            "needs 206.2 GB as float32, more than this machine's"),
    (["train-model", "--config", "{root}/huge_batch.yaml"], "--batch-size: a batch of 65536 clips of 16×112×112 needs "
                                                             "157.8 GB as float32, more than this machine's"),
    (["analyze", "--model", "{model}", "--config", "{root}/all32.yaml"], "--candidates: all C(32, 16) = 6.01e+08 "
                                                                         "subsets of k = 16 are too many"),
    (["data", "cache", "--dataset", "list", "--root", "{root}/minus", "--workers", "100000"],
     "--workers: expected a number of processes in 0..256 (0: one per CPU), got 100000"),
]


@pytest.mark.parametrize("argv, message", ONE_LINE, ids=[m.split(":")[0] + " " + " ".join(a[:1] + a[-2:])
                                                          for a, m in ONE_LINE])
def test_round_three_cases_are_one_line(hostile, tmp_path, capsys, argv, message):
    """Before: each ended in a traceback (RecursionError, ValueError, MemoryError after 2.8 GB, ...), ran on for
    ever (10²⁰ resamples, 10⁵ clips of a 3-frame video) or, for --frames 0, silently used 16 frames."""
    out = tmp_path / "out" / "run"
    words = [a.format(**hostile) for a in argv]
    writes = words[0] not in ("predict", "report") and words[:2] != ["data", "info"]
    code, _, err = cli(capsys, *words, *(["--out", out] if writes else []))
    assert code == 2 and message in error_line(err)
    assert not (tmp_path / "out").exists()


def test_a_device_this_machine_lacks_is_one_line(hostile, tmp_path, capsys):
    (tmp_path / "d.yaml").write_text("device: cuda:99\n")
    for argv in (["train-model", "--config", tmp_path / "d.yaml", "--out", tmp_path / "o"],
                 ["predict", "--model", hostile["model"], "--device", "cuda", hostile["root"] / "v.avi"]):
        code, _, err = cli(capsys, *argv)
        line = error_line(err)
        assert code == 2 and "--device: " in line and ("no CUDA device is available here" in line
                                                         or "expected cuda or cuda:0.." in line)


def test_a_cache_folder_of_a_user_that_does_not_exist_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("MOTIONPROBE_CACHE", "~no_such_user_of_motionprobe/x")
    for argv in (["weights", "list"], ["weights", "get", "i3d-kinetics400"], ["data", "samples"]):
        code, _, err = cli(capsys, *argv)
        assert code == 2 and "MOTIONPROBE_CACHE: cannot expand '~no_such_user_of_motionprobe/x'" in error_line(err)


def test_a_video_name_the_terminal_cannot_encode_is_printed_escaped(hostile, tmp_path):
    """Before: PYTHONIOENCODING=ascii and a video named vidé.avi ended in UnicodeEncodeError after the prediction."""
    video = tmp_path / "vidé.avi"
    shutil.copy(hostile["root"] / "v.avi", video)
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONIOENCODING="ascii")
    done = subprocess.run([sys.executable, "-m", "motionprobe", "predict", "--model", str(hostile["model"]), str(video)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, encoding="ascii", errors="replace",
                          timeout=300)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "vid\\xe9.avi" in done.stdout


def test_predict_gives_a_short_video_the_clips_it_has(hostile, capsys):
    """Before: --clips 100000 on a 3-frame video ran 10⁵ forward passes of the same looped clip."""
    code, out, err = cli(capsys, "predict", "--model", hostile["model"], "--clips", "50", "--json",
                         hostile["root"] / "v3.avi")
    assert code == 0, err
    assert json.loads(out)["videos"][0]["clips"] == 1


# -- round three: weights files that are not what they say --------------------------------------------------------

@contextlib.contextmanager
def within(seconds: int):
    """Fail instead of hanging: a FIFO read by mistake blocks for ever."""
    def expired(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_fifo_given_as_weights_or_video_is_refused_at_once(folders, tmp_path, capsys):
    fifo = tmp_path / "weights.pth"
    os.mkfifo(fifo)
    with within(120):
        code, _, err = cli(capsys, "train-model", "--weights", fifo, "--out", tmp_path / "m")
        assert code == 2 and f"--weights: {fifo} is not a regular file (a pipe, socket or device)" in error_line(err)
        code, _, err = cli(capsys, "predict", "--arch", "i3d", "--weights", fifo, tmp_path / "v.avi")
        assert code == 2 and f"--weights: {fifo} is not a regular file" in error_line(err)
        code, _, err = cli(capsys, "predict", "--model", folders.model, fifo)
        assert code == 2 and f"{fifo}: not a regular file (a pipe, socket or device)" in err


@pytest.fixture
def known_weights(tmp_path, monkeypatch):
    """A known weights entry ('fake', file w.ckpt) whose published bytes are a small state dict, cached in tmp_path."""
    from motionprobe.weights import registry

    data = b"published weights".ljust(64, b".")
    monkeypatch.setitem(registry.WEIGHTS, "fake", registry.NamedWeights(
        name="fake", arch="i3d", description="test", package="pkg", version="1.0", archive="pkg-1.0.tar.gz",
        archive_sha256="0" * 64, member="pkg-1.0/pkg/w.ckpt", sha256=hashlib.sha256(data).hexdigest(), size=len(data),
        classes="kinetics400_classes.txt"))
    monkeypatch.setenv("MOTIONPROBE_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "cache" / "weights" / "w.ckpt"
    path.parent.mkdir(parents=True)
    path.write_bytes(data[:10] + bytes([data[10] ^ 1]) + data[11:])  # one flipped byte
    return path


def test_a_corrupted_known_weights_file_is_refused_by_path_and_by_name(known_weights, tmp_path, capsys):
    """Before: by path it loaded (one flipped byte in I3D's checkpoint changed its top class); by name it was 'not
    downloaded yet'; and an unwritable cache was found out only after the whole download."""
    video = write_video(tmp_path / "v.avi", frames=20)
    expected = f"{known_weights}: not the published fake weights (its size or sha256 differs"
    code, _, err = cli(capsys, "predict", "--arch", "i3d", "--weights", known_weights, video)
    assert code == 2 and expected in error_line(err) and "motionprobe weights get fake" in error_line(err)
    code, _, err = cli(capsys, "train-model", "--arch", "i3d", "--weights", known_weights, "--out", tmp_path / "m")
    assert code == 2 and expected in error_line(err) and not (tmp_path / "m").exists()
    code, _, err = cli(capsys, "predict", "--weights", "fake", video)
    assert code == 2 and f"--weights fake: {known_weights} is corrupted (its sha256 is not the published one)" in \
        error_line(err)


def test_an_unwritable_weights_cache_is_refused_before_the_download(known_weights, unwritable, capsys, monkeypatch):
    from motionprobe.weights import fetch

    def no_download(*args, **kwargs):
        raise AssertionError("pip ran")

    folder, reason = unwritable
    monkeypatch.setattr(fetch, "fetch_members", no_download)
    monkeypatch.setenv("MOTIONPROBE_CACHE", str(folder))
    code, _, err = cli(capsys, "weights", "get", "fake")
    assert code == 2 and f"{folder / 'weights'}: cannot write here ({reason})" in error_line(err)


# -- round three: Hugging Face folders that lie ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory):
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("hf_videomae")
    config = transformers.VideoMAEConfig(num_frames=16, tubelet_size=2, image_size=32, patch_size=8, num_hidden_layers=1,
                                         hidden_size=32, num_attention_heads=2, intermediate_size=64, num_labels=12)
    transformers.VideoMAEForVideoClassification(config).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({"image_mean": [0.5] * 3, "image_std": [0.25] * 3,
                                                                 "do_center_crop": False, "do_resize": False}))
    return folder


@pytest.mark.parametrize("lie, message", [
    ("garbage weights", "cannot load it as a transformers video classifier"),
    ("image_std 0", "preprocessor_config.json: image_mean, image_std: expected finite numbers and a non-zero std"),
    ("num_frames 100000", "its config asks for 100000 frames per clip; expected 1..1024"),
])
def test_a_lying_hugging_face_folder_is_one_line(hf_folder, tmp_path, capsys, lie, message):
    """Before: garbage model.safetensors was a traceback, image_std 0 'training diverged … lower train.lr', and
    num_frames 100000 built for minutes."""
    folder = tmp_path / "hf"
    shutil.copytree(hf_folder, folder)
    if lie == "garbage weights":
        (folder / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage}" + b"\x00" * 64)
    elif lie == "image_std 0":
        edit_json(folder / "preprocessor_config.json", lambda p: {**p, "image_std": [0, 0.25, 0.25]})
    else:
        edit_json(folder / "config.json", lambda c: {**c, "num_frames": 100000})
    code, _, err = cli(capsys, "train-model", "--hf-model", folder, *TRAIN, "--out", tmp_path / "m")
    assert code == 2 and message in error_line(err)
    assert not (tmp_path / "m" / "model.safetensors").exists()


# -- round three: smaller cases --------------------------------------------------------------------------------------

def test_class_names_that_are_formulas_are_written_as_text(tmp_path, capsys):
    """Before: a class folder named `=2+5` went raw into per_class.csv and confusion.csv, a formula to a spreadsheet."""
    for name in ("=2+5", "plain"):
        for i in range(2):
            write_video(tmp_path / "videos" / name / f"{i}.avi", frames=18)
    out = tmp_path / "model"
    code, _, err = cli(capsys, "train-model", "--dataset", "folder", "--root", tmp_path / "videos", "--preset", "tiny",
                       "--test-fraction", "0.5", *TRAIN, "--out", out)
    assert code == 0, err[-3000:]
    for name in ("per_class.csv", "confusion.csv"):
        text = (out / name).read_text()
        assert "'=2+5" in text and "\n=2+5" not in text and ",=2+5" not in text, name


def test_report_never_writes_through_a_linked_figures_folder(analysis, tmp_path, capsys):
    """Before: a figures/ that links elsewhere got the 8 PNGs written into its target."""
    folder = tmp_path / "analysis"
    shutil.copytree(analysis, folder)
    shutil.rmtree(folder / "figures", ignore_errors=True)
    (tmp_path / "elsewhere").mkdir()
    (folder / "figures").symlink_to(tmp_path / "elsewhere")
    code, _, err = cli(capsys, "report", folder)
    assert code == 2 and f"{folder}/figures is a symbolic link (to {tmp_path / 'elsewhere'}); the report writes only " \
                         f"inside {folder}" in error_line(err)
    assert not any((tmp_path / "elsewhere").iterdir())


def test_what_is_not_a_video_file_says_what_it_is(folders, tmp_path, capsys):
    """Before: a folder, a FIFO or a link to /dev/zero given as a video was 'file not found'."""
    (tmp_path / "folder.avi").mkdir()
    (tmp_path / "zero.avi").symlink_to("/dev/zero")
    code, _, err = cli(capsys, "predict", "--model", folders.model, tmp_path / "folder.avi", tmp_path / "zero.avi",
                       tmp_path / "gone.avi")
    assert code == 2 and "Traceback" not in err
    assert f"{tmp_path / 'folder.avi'}: a folder, not a video file" in err
    assert f"{tmp_path / 'zero.avi'}: not a regular file (a pipe, socket or device)" in err
    assert f"{tmp_path / 'gone.avi'}: file not found" in err


def test_silent_cases_now_say_so(tmp_path, capsys):
    """A blank line in classes.txt shifted every later label; empty class folders were dropped without a count;
    `data info` exited 0 when a split's annotation file was invalid."""
    listed = tmp_path / "listed"
    write_video(listed / "a.avi", frames=18)
    (listed / "classes.txt").write_text("red\n\ngreen\n")
    (listed / "train.txt").write_text("a.avi 1\n")
    (listed / "test.txt").write_text("a.avi 1\n")
    code, _, err = cli(capsys, "data", "info", "--dataset", "list", "--root", listed)
    assert code == 2 and "classes.txt:2: a blank line among the class names; line k names label k" in error_line(err)
    (listed / "classes.txt").write_text("red\ngreen\n")
    (listed / "test.txt").write_text("a.avi one\n")
    code, out, err = cli(capsys, "data", "info", "--dataset", "list", "--root", listed)
    assert code == 2 and "train: 1 videos" in out
    assert "test split: " in error_line(err) and "test.txt:1: expected 'relative/path label_index'" in error_line(err)
    folders = tmp_path / "folders"
    for name in ("run", "jump"):
        write_video(folders / name / "a.avi", frames=18)
        write_video(folders / name / "b.avi", frames=18)
    (folders / "swim").mkdir()
    code, out, err = cli(capsys, "data", "info", "--dataset", "folder", "--root", folders, "--out", tmp_path / "info")
    assert code == 0, err
    assert "1 class folder(s) without a video, so no class: swim" in out
    assert json.loads((tmp_path / "info" / "info.json").read_text())["empty_classes"] == ["swim"]
