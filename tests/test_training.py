"""Model training: checkpoints round-trip, --resume ends exactly where an uninterrupted run does."""

import json

import pytest
import torch

from motionprobe.cli import main
from motionprobe.config import preset
from motionprobe.data.synthetic import CLASSES
from motionprobe.errors import ConfigError, UserError
from motionprobe.folders import ModelFolder
from motionprobe.io import load_tensors, save_tensors
from motionprobe.training.model import train_model
from motionprobe.training.state import TrainState, load_train_state, save_train_state


def small(epochs: int):
    cfg = preset("tiny")
    cfg = cfg.evolve(data={"train_per_class": 2, "test_per_class": 1})
    cfg = cfg.evolve(train={"epochs": epochs, "batch_size": 8})
    cfg = cfg.evolve(train={"min_steps": 0})  # the tiny preset's floor of 800 steps is for real training, not a test's
    return cfg


def stepped(epochs: int):
    """`small` on the step schedule, whose learning rates do not depend on the run's length: a run extended
    by resuming is then the longer run (a cosine run's rates do; test_reliability_kill resumes one mid-run)."""
    cfg = small(epochs)
    cfg = cfg.evolve(train={"schedule": "step"})
    return cfg


def test_resume_ends_exactly_like_an_uninterrupted_run(tmp_path):
    straight = train_model(stepped(2), tmp_path / "a", progress=False)
    train_model(stepped(1), tmp_path / "b", progress=False)
    resumed = train_model(stepped(2), tmp_path / "b", resume=True, progress=False)
    drop = ("seconds",)
    assert {k: v for k, v in straight.items() if k not in drop} == {k: v for k, v in resumed.items() if k not in drop}
    a, b = load_tensors(tmp_path / "a" / "model.safetensors"), load_tensors(tmp_path / "b" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    log = (tmp_path / "b" / "log.csv").read_text().splitlines()
    assert len(log) == 3 and log[0].startswith("epoch,train_loss")


def test_checkpoint_round_trip_and_self_description(tmp_path):
    train_model(small(1), tmp_path, progress=False)
    model, meta = ModelFolder(tmp_path).load()
    assert meta["classes"][0] == "red" and meta["seed"] == 0 and meta["epochs_done"] == 1
    assert meta["preprocessing"]["mean"] == [0.45, 0.45, 0.45] and "code_version" in meta
    assert json.loads((tmp_path / "config.json").read_text())["preset"] == "tiny"
    for name in ("eval.json", "per_class.csv", "confusion.csv", "log.csv"):
        assert (tmp_path / name).stat().st_size > 0
    # the reloaded model computes what the saved weights say
    again, _ = ModelFolder(tmp_path).load()
    clip = torch.rand(2, 3, 16, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(clip), again(clip))
    confusion = json.loads((tmp_path / "eval.json").read_text())["confusion"]
    assert sum(map(sum, confusion)) == len(CLASSES)  # one test clip per class


def test_a_finished_run_is_not_overwritten_without_resume(tmp_path):
    train_model(small(1), tmp_path, progress=False)
    with pytest.raises(UserError, match="already holds a training run; pass resume=True"):
        train_model(small(1), tmp_path, progress=False)


def test_train_model_and_evaluate_verbs(tmp_path, capsys):
    out = tmp_path / "m"
    assert main(["train-model", "--out", str(out), "--epochs", "1", "--train-per-class", "1",
                 "--test-per-class", "1"]) == 0
    assert "test clip accuracy" in capsys.readouterr().out
    assert main(["evaluate", "--model", str(out), "--out", str(tmp_path / "ev"), "--test-per-class", "2"]) == 0
    ev = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert ev["n_clips"] == 2 * len(CLASSES) and set(ev["per_kind"]) == {"appearance", "motion", "keyframe", "implied"}


def test_unreadable_clips_are_skipped_and_counted(tmp_path):
    from motionprobe.data.base import SkipClip
    from motionprobe.data.synthetic import SyntheticMotionDataset

    class Damaged(SyntheticMotionDataset):
        def load(self, index):
            if index in (0, 3):
                raise SkipClip(f"clip {index}: truncated file")
            return super().load(index)

    metrics = train_model(small(1), tmp_path, progress=False, train_set=Damaged("train", per_class=2),
                          test_set=Damaged("test", per_class=1))
    assert metrics["skipped_clips"] == 4  # two in each split
    ev = json.loads((tmp_path / "eval.json").read_text())
    assert ev["n_clips"] == len(CLASSES) - 2 and ev["skipped"]["count"] == 2


def test_the_training_state_round_trips_through_one_file_and_a_foreign_file_is_refused(tmp_path):
    net = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1)
    net(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    save_train_state(tmp_path, net, optimizer, TrainState(epoch=2, history=[{"loss": 1.5}], extra={"k": 1}))
    again = torch.nn.Linear(3, 2)
    state = load_train_state(tmp_path, again, torch.optim.Adam(again.parameters(), lr=0.1))
    assert (state.epoch, state.history, state.extra) == (2, [{"loss": 1.5}], {"k": 1})
    assert torch.equal(again.weight, net.weight)
    save_tensors(tmp_path / "train_state.safetensors", {"w": torch.zeros(1)})  # no state in its header
    with pytest.raises(ConfigError, match="holds no motionprobe training state") as e:
        load_train_state(tmp_path, again, torch.optim.Adam(again.parameters()))
    assert e.value.path == "resume"
