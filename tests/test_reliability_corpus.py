"""A corpus of bad input, each fed through the verbs a user would run: a one-line message with exit status 2,
or a skip-and-count visible in the outputs; never a traceback; nothing already computed lost.

The layouts' own unit tests (tests/test_data_*.py) check the parsers; here the same kinds of input go
end to end through `motionprobe.cli.main`, as from the command line.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil

import pytest
import torch
from reliability_helpers import make_corpus, tiny_folders

from motionprobe.cli import main
from motionprobe.data.synthetic import CLASSES
from motionprobe.folders import ModelFolder
from motionprobe.io import load_tensors


def error_line(err: str) -> str:
    """The one error line a failed verb prints (progress bars may share stderr, never a traceback)."""
    assert "Traceback" not in err, err[-3000:]
    assert err.count("motionprobe: error: ") == 1, err[-3000:]
    return err[err.index("motionprobe: error: "):].split("\n")[0]


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def corpus_model(corpus, tmp_path_factory):
    """A model trained for one epoch on the corpus (its training split holds an empty video)."""
    out = tmp_path_factory.mktemp("corpus_model")
    assert main(["train-model", "--dataset", "ucf101", "--root", str(corpus.root), "--preset", "tiny", "--epochs", "1",
                 "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def analysed(corpus, corpus_model, tmp_path_factory):
    """analyze on the corpus: (out folder, stdout, stderr); capsys is per test, so capture by hand."""
    out = tmp_path_factory.mktemp("corpus_analysis")
    with contextlib.redirect_stdout(io.StringIO()) as o, contextlib.redirect_stderr(io.StringIO()) as e:
        code = main(["analyze", "--model", str(corpus_model), "--dataset", "ucf101", "--root", str(corpus.root),
                     "--frames", "1,2", "--bootstrap", "20", "--no-progress", "--out", str(out)])
    assert code == 0, e.getvalue()[-3000:]
    return out, o.getvalue(), e.getvalue()


# -- bad videos: skipped and counted ------------------------------------------------------------------

UNREADABLE = {"truncated_mp4": "not a readable video", "zero_bytes": "empty file (0 bytes)",
              "text_avi": "not a readable video"}


def test_analyze_skips_and_counts_unreadable_videos_and_names_missing_ones(corpus, analysed):
    out, stdout, stderr = analysed
    results = json.loads((out / "results.json").read_text())
    skipped = {item["id"]: item["reason"] for item in results["skipped"]["items"]}
    assert results["skipped"]["count"] == 3 and set(skipped) == {corpus.test_ids[r] for r in UNREADABLE}
    for role, reason in UNREADABLE.items():
        assert reason in skipped[corpus.test_ids[role]]
    assert "skipped 3 clip(s) that failed to load" in stdout
    # A truncated .avi keeps its first frames; short and one-frame videos loop (the default policy).
    analysed_ids = [row["clip_id"] for row in csv.DictReader((out / "per_clip.csv").open())]
    assert {corpus.test_ids[r] for r in ("truncated_avi", "short", "one_frame")} <= set(analysed_ids)
    assert results["num_clips"] == len(analysed_ids) == 7
    assert results["provenance"]["dataset"]["missing"] == [corpus.missing]
    assert "Traceback" not in stderr  # (the warning naming the missing video goes to the log: pytest holds it)


def test_short_video_policy_skip_counts_short_videos_too(corpus, corpus_model, tmp_path, capsys):
    code, out, err = cli(capsys, "analyze", "--model", corpus_model, "--dataset", "ucf101", "--root", corpus.root,
                         "--frames", "1", "--bootstrap", "20", "--no-progress", "--short-video-policy", "skip",
                         "--out", tmp_path)
    assert code == 0 and "Traceback" not in err
    skipped = {i["id"]: i["reason"] for i in json.loads((tmp_path / "results.json").read_text())["skipped"]["items"]}
    short = {corpus.test_ids[r] for r in ("truncated_avi", "short", "one_frame")}
    assert set(skipped) == short | {corpus.test_ids[r] for r in UNREADABLE}
    assert all("shorter than one clip" in skipped[i] for i in short)


@pytest.mark.parametrize("policy", ["loop", "skip"])
def test_a_shard_without_a_readable_clip_is_skipped_and_counted(corpus, corpus_model, tmp_path, capsys, policy):
    """Before: all the work done, then `argmax of an empty sequence` in the summary, no results.json (and the same
    on --resume): with one clip a shard, every unreadable (or, under skip, short) video makes an empty shard."""
    argv = ["analyze", "--model", corpus_model, "--dataset", "ucf101", "--root", corpus.root, "--frames", "1",
            "--bootstrap", "20", "--no-progress", "--shard-size", "1", "--short-video-policy", policy, "--out", tmp_path]
    code, _, err = cli(capsys, *argv)
    assert code == 0, err[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    unreadable = {corpus.test_ids[r] for r in UNREADABLE}
    short = {corpus.test_ids[r] for r in ("truncated_avi", "short", "one_frame")} if policy == "skip" else set()
    assert {i["id"] for i in results["skipped"]["items"]} == unreadable | short
    assert results["num_clips"] == 10 - len(unreadable | short)
    assert cli(capsys, *argv, "--resume")[0] == 0  # the resumed run reads the same empty shards


def test_an_analysis_of_no_readable_clip_is_one_line(corpus_model, tmp_path, capsys):
    lists = tmp_path / "ucfTrainTestlist"
    root = tmp_path / "root"
    (root / "UCF-101" / "Alpha").mkdir(parents=True)
    (root / "UCF-101" / "Alpha" / "v_Alpha_g01_c01.avi").write_text("not a video\n")
    lists.mkdir()
    (lists / "classInd.txt").write_text("1 Alpha\n2 Beta\n")
    (lists / "testlist01.txt").write_text("Alpha/v_Alpha_g01_c01.avi\n")
    (lists / "trainlist01.txt").write_text("Alpha/v_Alpha_g01_c01.avi 1\n")
    code, _, err = cli(capsys, "analyze", "--model", corpus_model, "--dataset", "ucf101", "--root", root, "--annotations",
                       lists, "--frames", "1", "--no-progress", "--out", tmp_path / "a")
    assert code == 2 and "none of the 1 test clip(s) could be read, so there is nothing to analyse" in error_line(err)
    assert not (tmp_path / "a" / "results.json").exists()


def test_training_and_evaluation_skip_and_count(corpus, corpus_model, tmp_path, capsys):
    meta = json.loads((corpus_model / "meta.json").read_text())
    assert meta["metrics"]["skipped_clips"] == 1 + 3  # the empty training video, the 3 unreadable test videos
    code, _, err = cli(capsys, "evaluate", "--model", corpus_model, "--dataset", "ucf101", "--root", corpus.root,
                       "--out", tmp_path / "eval")
    assert code == 0 and "Traceback" not in err
    assert json.loads((tmp_path / "eval" / "eval.json").read_text())["skipped"]["count"] == 3
    # A batch of one unreadable clip is no step; the sample strip passes over unreadable clips.
    code, out, err = cli(capsys, "train-generator", "--model", corpus_model, "--dataset", "ucf101", "--root",
                         corpus.root, "--frames", "2", "--loss", "pixel", "--epochs", "1", "--batch-size", "1",
                         "--out", tmp_path / "gen")
    assert code == 0 and "Traceback" not in err
    result = json.loads(out)
    assert result["skipped_clips"] == 1 and result["steps"] == 6  # 7 training videos, one unreadable


# -- bad annotation files: one line, exit 2, the previous analysis untouched -----------------------------

@pytest.mark.parametrize("name, edit, message", [
    ("unknown class", lambda lists: _append(lists / "testlist01.txt", "Gamma/v_Gamma_g01_c01.avi"),
     "testlist01.txt:12: unknown class 'Gamma' (not in classInd.txt)"),
    ("malformed line", lambda lists: _append(lists / "testlist01.txt", "Alpha/v_Alpha_g01_c01.avi 1 extra"),
     "testlist01.txt:12: expected 'Class/video.avi [index]'"),
    ("escapes the root", lambda lists: _append(lists / "testlist01.txt", "Alpha/../../outside/v_Alpha_g01_c01.avi"),
     "testlist01.txt:12: path 'Alpha/../../outside/v_Alpha_g01_c01.avi' leaves the dataset root"),
    ("absolute path", lambda lists: _append(lists / "testlist01.txt", "/etc/passwd"),
     "testlist01.txt:12: path '/etc/passwd' leaves the dataset root"),
    ("class index gap", lambda lists: (lists / "classInd.txt").write_text("1 Alpha\n3 Beta\n"),
     "classInd.txt: class indices must run 1..2 without gaps"),
    ("split file absent", lambda lists: (lists / "testlist01.txt").unlink(), "--split: "),
])
def test_bad_annotations_are_one_line_errors_that_touch_nothing(corpus, corpus_model, analysed, tmp_path, capsys,
                                                                 name, edit, message):
    lists = tmp_path / "lists"
    shutil.copytree(corpus.lists, lists)
    edit(lists)
    # A real video where the escaping path points: reading it would succeed, so only refusing passes.
    outside = corpus.root.parent / "outside"
    outside.mkdir(exist_ok=True)
    shutil.copy(corpus.root / "UCF-101" / "Alpha" / "v_Alpha_g01_c01.avi", outside / "v_Alpha_g01_c01.avi")
    out = analysed[0]
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    code, _, err = cli(capsys, "analyze", "--model", corpus_model, "--dataset", "ucf101", "--root", corpus.root,
                       "--annotations", lists, "--frames", "1", "--no-progress", "--out", out, "--resume")
    assert code == 2
    assert message in error_line(err)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def _append(path, line):
    with path.open("a") as f:
        f.write(line + "\n")


# -- wrong model, layer, k or generator --------------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return tiny_folders(tmp_path_factory)


def test_checkpoint_for_another_number_of_classes(corpus, corpus_model, synthetic, tmp_path, capsys):
    args = ["--dataset", "ucf101", "--root", corpus.root, "--frames", "1", "--no-progress"]
    code, _, err = cli(capsys, "analyze", "--model", synthetic.model, *args, "--out", tmp_path / "a")
    assert code == 2 and f"classes differ from the {len(CLASSES)} the model" in error_line(err)
    code, _, err = cli(capsys, "evaluate", "--model", synthetic.model, "--dataset", "ucf101", "--root", corpus.root)
    assert code == 2 and f"classes differ from the {len(CLASSES)}" in error_line(err)
    # A model folder whose weights file came from a synthetic-benchmark model: the keys are named, not a torch traceback.
    swapped = tmp_path / "swapped"
    shutil.copytree(corpus_model, swapped)
    shutil.copy(synthetic.model / "model.safetensors", swapped / "model.safetensors")
    code, _, err = cli(capsys, "analyze", "--model", swapped, *args, "--out", tmp_path / "b")
    mismatch = f"shape mismatch fc8.weight ({len(CLASSES)}, 128) != (2, 128)"
    assert code == 2 and f"weights do not fit the model: {mismatch}" in error_line(err)
    # Resuming a synthetic-benchmark training run on the 2-class corpus.
    run = tmp_path / "run"
    shutil.copytree(synthetic.model, run)
    code, _, err = cli(capsys, "train-model", "--dataset", "ucf101", "--root", corpus.root, "--preset", "tiny",
                       "--epochs", "2", "--out", run, "--resume")
    line = error_line(err)
    assert code == 2 and "--resume:" in line and "holds a run with other settings" in line
    assert "(started with data.dataset='synthetic', not 'ucf101')" in line  # config.json says so before any weights
    # Without a config.json to compare with, the checkpoint's own tensors still refuse it, naming the keys.
    (run / "config.json").unlink()
    code, _, err = cli(capsys, "train-model", "--dataset", "ucf101", "--root", corpus.root, "--preset", "tiny",
                       "--epochs", "2", "--out", run, "--resume")
    line = error_line(err)
    assert code == 2 and "--resume:" in line and "holds a run with other settings" in line and "fc8.weight" in line
    shutil.copy(synthetic.model / "config.json", run / "config.json")
    assert ModelFolder(run).load()[1]["epochs_done"] == 1  # the run it refused is untouched


def test_unknown_feature_layer_k_outside_range_and_generator_for_another_k(synthetic, tmp_path, capsys):
    (tmp_path / "layer.yaml").write_text("generator:\n  perceptual_layers: [conv9]\n")
    code, _, err = cli(capsys, "train-generator", "--model", synthetic.model, "--frames", "1", "--config",
                       tmp_path / "layer.yaml", "--train-per-class", "1", "--out", tmp_path / "g")
    line = error_line(err)
    assert code == 2 and "unknown feature layer 'conv9'; this model has: conv1" in line
    assert not (tmp_path / "g" / "generator.safetensors").exists()
    analyze = ["analyze", "--model", synthetic.model, "--test-per-class", "1", "--no-progress", "--out", tmp_path / "a"]
    for k in ("17", "0"):
        code, _, err = cli(capsys, *analyze, "--frames", k)
        assert code == 2 and f"--frames: k must be an integer in 1..16, got {k}" in error_line(err)
    code, _, err = cli(capsys, "train-generator", "--model", synthetic.model, "--frames", "0", "--out", tmp_path / "g0")
    assert code == 2 and "--frames: expected a number of given frames in 1..16, got 0" in error_line(err)
    code, _, err = cli(capsys, *analyze, "--frames", "1", "--generator", f"1={synthetic.generator}")
    assert code == 2 and "holds a generator trained for k=2, not k=1" in error_line(err)
    assert not (tmp_path / "a" / "results.json").exists()


# -- diverging training: one line, and the last good checkpoint stays loadable -----------------------------

TINY_TRAIN = ["--train-per-class", "1", "--test-per-class", "1", "--batch-size", "16"]


@pytest.mark.parametrize("lr, message", [
    ("1e300", "training diverged at epoch 1 (the update overflowed float32)"),
    ("nan", "--lr: expected a positive learning rate, got nan"),
    ("-0.1", "--lr: expected a positive learning rate, got -0.1"),
])
def test_impossible_learning_rates(tmp_path, capsys, lr, message):
    code, _, err = cli(capsys, "train-model", *TINY_TRAIN, "--epochs", "1", "--lr", lr, "--out", tmp_path)
    assert code == 2 and message in error_line(err)
    assert not (tmp_path / "model.safetensors").exists()


def test_training_that_diverges_after_a_good_epoch_keeps_that_epoch(tmp_path, capsys):
    # Epoch 1 at lr 1e-3, then ×1e30 per epoch: epoch 2's first step makes the weights enormous, its second loss NaN.
    (tmp_path / "diverge.yaml").write_text("train:\n  schedule: step\n  lr_step_epochs: 1\n  lr_gamma: 1.0e+30\n")
    out = tmp_path / "run"
    code, _, err = cli(capsys, "train-model", *TINY_TRAIN, "--train-per-class", "2", "--batch-size", "8", "--epochs", "3",
                       "--config", tmp_path / "diverge.yaml", "--out", out)
    line = error_line(err)
    assert code == 2 and "training diverged at epoch 2 (loss nan)" in line and f"last good checkpoint in {out}" in line
    assert ModelFolder(out).stopped_early() == (1, 3)  # loadable, and known to be unfinished
    assert all(torch.isfinite(t).all() for t in load_tensors(out / "model.safetensors").values() if t.is_floating_point())
    assert json.loads((out / "train_state.json").read_text())["epoch"] == 1


def test_weights_that_turn_non_finite_at_an_epochs_end_are_not_saved(tmp_path, capsys, monkeypatch):
    """The loss is checked before each step; a last step that breaks the weights must not be checkpointed."""
    import motionprobe.training.model as training

    steps = {"n": 0}
    real_step = training.optimizer_step

    def poisoning_step(optimizer, message):
        real_step(optimizer, message)
        steps["n"] += 1
        if steps["n"] == 2:  # the last step of epoch 2 (one step per epoch)
            with torch.no_grad():
                optimizer.param_groups[0]["params"][0].fill_(float("nan"))

    monkeypatch.setattr(training, "optimizer_step", poisoning_step)
    out = tmp_path / "run"
    code, _, err = cli(capsys, "train-model", *TINY_TRAIN, "--epochs", "2", "--out", out)
    assert code == 2 and "training diverged at epoch 2 (non-finite weights" in error_line(err)
    assert ModelFolder(out).epochs_done() == 1 and ModelFolder(out).stopped_early() == (1, 2)
    state = load_tensors(out / "train_state.safetensors")
    assert all(torch.isfinite(t).all() for t in state.values() if t.is_floating_point())


def test_generator_that_diverges_keeps_its_last_checkpoint(synthetic, tmp_path, capsys):
    # the painting generator: the flow generator's bounded outputs keep even this rate's losses finite
    (tmp_path / "every.yaml").write_text("generator:\n  kind: pixels\n  checkpoint_every: 1\n")
    out = tmp_path / "g"
    code, _, err = cli(capsys, "train-generator", "--model", synthetic.model, "--frames", "1", "--lr", "1e30",
                       "--batch-size", "4", "--train-per-class", "1", "--config", tmp_path / "every.yaml", "--out", out)
    assert code == 2 and "generator training diverged at step 2 (loss nan)" in error_line(err)
    state = json.loads((out / "train_state.json").read_text())
    assert state["extra"]["step"] == 1
    tensors = load_tensors(out / "train_state.safetensors")
    assert all(torch.isfinite(t).all() for t in tensors.values() if t.is_floating_point())
    code, _, err = cli(capsys, "train-generator", "--model", synthetic.model, "--frames", "1", "--lr", "1e300",
                       "--train-per-class", "1", "--out", tmp_path / "g2")
    assert code == 2 and "generator training diverged at step 1 (the update overflowed float32)" in error_line(err)


def test_resuming_a_generator_run_with_another_k_or_loss_is_refused(synthetic, tmp_path, capsys):
    """The generator's weights have the same shapes for every k: only the checkpoint can tell the runs apart."""
    out = tmp_path / "g"
    args = ["train-generator", "--model", synthetic.model, "--loss", "pixel", "--train-per-class", "1",
            "--batch-size", "8", "--out", out]
    code, _, _ = cli(capsys, *args, "--frames", "1", "--epochs", "1")
    assert code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    code, _, err = cli(capsys, *args, "--frames", "2", "--epochs", "2", "--resume")
    assert code == 2 and "holds a generator run for k=1, not k=2; resume it with k=1" in error_line(err)
    code, _, err = cli(capsys, *[a if a != "pixel" else "perceptual" for a in args], "--frames", "1", "--epochs", "2",
                       "--resume")
    assert code == 2 and "holds a generator run for loss=pixel, not loss=perceptual" in error_line(err)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
