"""Generator training: no labels on its path, the loss goes down, checkpoints round-trip, resume is exact."""

import json
from dataclasses import replace

import pytest
import torch

from motionprobe import workflows
from motionprobe.cli import main
from motionprobe.config import preset
from motionprobe.data.base import ClipDataset
from motionprobe.data.synthetic import SyntheticMotionDataset
from motionprobe.errors import UserError
from motionprobe.folders import GeneratorFolder, ModelFolder
from motionprobe.generator import build_generator, build_loss, take_frames
from motionprobe.generator.subsets import distinct_frames
from motionprobe.io import load_tensors
from motionprobe.models import build_model
from motionprobe.training.generator import _Run, batch_subsets, train_generator
from motionprobe.training.schedule import generator_lr_factor


def small_cfg():
    cfg = preset("tiny")
    cfg = cfg.evolve(data={"crop_size": 16, "resize": (16, 16), "train_per_class": 1})
    # The tiny preset's floor of 400 steps is for real training, not a test's.
    return cfg.evolve(generator={"ngf": 4, "n_blocks": 1, "batch_size": 4, "epochs": 1, "sample_every": 2,
                                 "log_every": 1, "min_steps": 0})


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    cfg = small_cfg()
    folder = tmp_path_factory.mktemp("model")
    ModelFolder(folder).save(build_model(cfg.model, cfg.data, 10), cfg, [f"c{i}" for i in range(10)])
    return folder


class _NoLabel(dict):
    def __getitem__(self, key):
        if key == "label":
            raise AssertionError("a label reached the generator's data path")
        return super().__getitem__(key)


class LabelsRaise(ClipDataset):
    """Synthetic clips whose labels raise on every kind of access."""

    def __init__(self, n: int = 6):
        self.inner = SyntheticMotionDataset("train", per_class=1, size=16)
        self.n, self.ids, self.classes, self.metadata = n, self.inner.ids[:n], self.inner.classes, {}

    @property
    def labels(self):
        raise AssertionError("a label reached the generator's data path")

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return _NoLabel(clip=self.inner.load(i), label=None, id=self.ids[i])


def test_training_never_reads_a_label(model_dir, tmp_path):
    result = train_generator(small_cfg(), model_dir, 2, tmp_path / "g", dataset=LabelsRaise(), progress=False)
    assert result["steps"] == 2 and result["loss_first"] > 0


def test_training_writes_a_complete_folder(model_dir, tmp_path):
    out = tmp_path / "g"
    result = train_generator(small_cfg(), model_dir, 1, out, loss="pixel", progress=False)
    generator, meta = GeneratorFolder(out).load()
    assert generator.k == 1 and meta["loss"] == "pixel" and meta["use_indices"] is False  # the tiny preset
    assert meta["metrics"]["steps"] == result["steps"] == 3 and meta["code_version"]
    rows = (out / "losses.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch_progress,loss,pixel") and len(rows) == 1 + 3
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_000002.png", "step_000003.png"]
    assert json.loads((out / "config.json").read_text())["generator"]["loss"] == "pixel"


@pytest.mark.parametrize("loss", ["perceptual", "pixel"])
def test_a_few_steps_lower_the_loss_on_a_fixed_batch(model_dir, loss):
    torch.manual_seed(0)
    cfg = small_cfg()
    model = ModelFolder(model_dir).load()[0]
    criterion = build_loss(loss, model, cfg.generator)
    generator = build_generator(2, cfg.generator, cfg.data.num_frames)
    optimizer = torch.optim.Adam(generator.parameters(), lr=2e-3, betas=(0.5, 0.999))
    clips = torch.stack([SyntheticMotionDataset("train", per_class=1, size=16).load(i) for i in range(4)]).float() / 255
    indices = torch.tensor([[0, 5], [3, 4], [7, 15], [1, 10]])
    losses = []
    for _ in range(12):
        loss_value = criterion(generator(take_frames(clips, indices), indices), clips)
        optimizer.zero_grad()
        loss_value.backward()
        optimizer.step()
        losses.append(loss_value.item())
    assert losses[-1] < 0.8 * losses[0]


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    cfg = small_cfg()
    cfg = cfg.evolve(generator={"use_indices": False})
    generator = build_generator(4, cfg.generator, cfg.data.num_frames)
    GeneratorFolder(tmp_path).save(generator, cfg, loss="pixel", model="m", metrics={"loss": 0.5})
    loaded, meta = GeneratorFolder(tmp_path).load()
    frames, indices = torch.rand(2, 3, 4, 16, 16), torch.tensor([[0, 1, 2, 3], [4, 8, 12, 15]])
    assert torch.equal(loaded(frames, indices), generator(frames, indices))
    assert (meta["k"], meta["use_indices"], meta["loss"], meta["model"]) == (4, False, "pixel", "m")
    assert not loaded.training


def test_loading_a_folder_that_is_not_a_generator(tmp_path):
    with pytest.raises(UserError, match="not a trained generator folder"):
        GeneratorFolder(tmp_path).load()


def test_the_most_distinct_frame_of_a_key_frame_clip_is_one_of_its_planted_key_frames():
    data = SyntheticMotionDataset("train", per_class=6, size=32, kinds=("keyframe",))
    clips = torch.stack([data.load(i) for i in range(len(data))]).float() / 255
    found = distinct_frames(clips).tolist()
    assert all(frame in data.info(i).key_frames for i, frame in enumerate(found))


@pytest.mark.parametrize("share", [0.0, 0.5])
def test_a_share_of_the_training_subsets_holds_the_most_distinct_frame(model_dir, tmp_path, share):
    cfg = small_cfg()
    cfg = cfg.evolve(generator={"distinct_share": share, "batch_size": 12})
    data = SyntheticMotionDataset("train", per_class=4, size=16, kinds=("keyframe",))  # 12 clips, one batch
    run = _Run.start(cfg, model_dir, 2, tmp_path / "g", "pixel", False, data, progress=False)
    (_, clips, indices), = list(run.batches(0))
    holds = (indices == distinct_frames(clips).view(-1, 1)).any(dim=1)
    uniform = batch_subsets(2, 12, cfg.seed, 0, 0, 16)
    assert indices.shape == (12, 2) and bool((indices[:, 0] < indices[:, 1]).all())  # sorted, distinct
    changed = (indices != uniform).any(dim=1)
    assert not changed.any() if share == 0 else 3 <= int(changed.sum()) <= 10 and bool(holds[changed].all())


class Interrupting(SyntheticMotionDataset):
    """Raises KeyboardInterrupt at the `stop_at`-th clip load, once."""

    def __init__(self, stop_at: int):
        super().__init__("train", per_class=1, size=16)
        self.calls, self.stop_at = 0, stop_at

    def load(self, index):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return super().load(index)


def test_resume_after_an_interruption_ends_where_an_uninterrupted_run_does(model_dir, tmp_path):
    cfg = small_cfg()
    # 3 steps per epoch: checkpoints at 2, 3, 4, 6; the resumed steps 5 and 6 run at a falling learning rate; the
    # subsets that depend on the clips are drawn alike after a resume.
    cfg = cfg.evolve(generator={"epochs": 2, "checkpoint_every": 2, "decay_fraction": 0.5, "distinct_share": 0.5})
    train_generator(cfg, model_dir, 2, tmp_path / "straight", loss="pixel", progress=False)
    # 4 sample clips are loaded first; then batch b of the run loads clips 4b+1..: the 19th load is in step 5.
    with pytest.raises(KeyboardInterrupt):
        train_generator(cfg, model_dir, 2, tmp_path / "resumed", loss="pixel", dataset=Interrupting(4 + 18 + 1),
                        progress=False)
    assert json.loads((tmp_path / "resumed" / "train_state.json").read_text())["extra"]["step"] == 4
    with pytest.raises(UserError, match="already holds a generator run; pass resume=True"):
        train_generator(cfg, model_dir, 2, tmp_path / "resumed", loss="pixel", progress=False)
    result = train_generator(cfg, model_dir, 2, tmp_path / "resumed", loss="pixel", resume=True, progress=False)
    assert result["steps"] == 6
    weights = {run: load_tensors(tmp_path / run / "generator.safetensors") for run in ("straight", "resumed")}
    assert all(torch.equal(weights["straight"][name], weights["resumed"][name]) for name in weights["straight"])

    def losses(run):  # step, epoch_progress, loss, pixel; timings differ between runs
        return [line.split(",")[:4] for line in (tmp_path / run / "losses.csv").read_text().splitlines()]

    assert losses("straight") == losses("resumed") and len(losses("resumed")) == 1 + 6


def test_a_step_floor_repeats_the_epochs_of_a_small_dataset(model_dir, tmp_path):
    cfg = small_cfg()
    cfg = cfg.evolve(generator={"epochs": 1, "min_steps": 5, "decay_fraction": 0.5})  # 3 steps an epoch
    out = tmp_path / "g"
    result = train_generator(cfg, model_dir, 1, out, loss="pixel", progress=False)
    assert (result["steps"], result["epochs"], result["planned_epochs"]) == (6, 2, 2)
    state = json.loads((out / "train_state.json").read_text())  # the decay spans the 6 steps, not the asked 3
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(cfg.generator.lr / 4)
    assert GeneratorFolder(out).finished_for(cfg.generator)
    cfg = cfg.evolve(generator={"min_steps": 0})  # asked for another length: not this folder's run
    assert not GeneratorFolder(out).finished_for(cfg.generator)


def test_the_learning_rate_falls_linearly_over_the_decay_fraction():
    g = replace(small_cfg().generator, epochs=3, decay_fraction=2 / 3)  # 4 steps per epoch: 4 at full rate, 8 falling
    factors = [generator_lr_factor(position, 4, g) for position in range(12)]
    assert factors[:4] == [1.0] * 4
    steps = [a - b for a, b in zip(factors[3:], factors[4:], strict=False)]
    assert all(abs(step - 1 / 9) < 1e-12 for step in steps) and factors[-1] > 0
    g = replace(g, decay_fraction=0)
    assert {generator_lr_factor(position, 4, g) for position in range(12)} == {1.0}


def test_training_ends_at_the_decayed_learning_rate(model_dir, tmp_path):
    cfg = small_cfg()
    cfg = cfg.evolve(generator={"epochs": 2, "decay_fraction": 0.5})  # 6 steps, the last 3 falling: the last at lr · 1/4
    train_generator(cfg, model_dir, 1, tmp_path / "g", loss="pixel", progress=False)
    state = json.loads((tmp_path / "g" / "train_state.json").read_text())
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(cfg.generator.lr / 4)
    cfg = cfg.evolve(generator={"decay_fraction": 1.5})  # the workflow checks the config before the loop runs
    with pytest.raises(UserError, match="generator.decay_fraction: expected 0..1"):
        workflows.train_generator(model_dir, 1, tmp_path / "bad", cfg, loss="pixel", progress=False)


def test_cli_trains_and_refuses_bad_frames(model_dir, tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["train-generator", "--model", str(model_dir), "--frames", "1", "--loss", "pixel", "--epochs", "1",
            "--train-per-class", "1", "--out", str(out)]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 3  # 10 clips in batches of 4: the model's config is the base
    assert GeneratorFolder(out).load()[1]["k"] == 1
    assert main([*args[:4], "17", *args[5:-1], str(tmp_path / "bad")]) == 2
    assert "--frames: expected a number of given frames in 1..16" in capsys.readouterr().err
    assert main(["train-generator", "--model", str(tmp_path / "nowhere"), "--frames", "1"]) == 2


def test_cli_epochs_are_trained_exactly_and_a_run_with_a_step_floor_resumes_with_them(model_dir, tmp_path, capsys):
    config = tmp_path / "floor.yaml"
    config.write_text("generator:\n  epochs: 1\n  min_steps: 5\n")
    out = tmp_path / "g"
    args = ["train-generator", "--model", str(model_dir), "--frames", "1", "--loss", "pixel", "--train-per-class", "1",
            "--config", str(config), "--out", str(out)]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 6  # 3 steps an epoch: the floor of 5 makes 2 epochs
    assert main([*args, "--epochs", "3", "--resume"]) == 0  # the floor is off, and changing it is not another run
    assert json.loads(capsys.readouterr().out)["steps"] == 9


def test_cli_refuses_a_bad_schedule_before_creating_the_output_folder(model_dir, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["train-generator", "--model", str(model_dir), "--frames", "1", "--decay-fraction", "2",
                 "--out", str(out)]) == 2
    assert "--decay-fraction: expected 0..1" in capsys.readouterr().err
    assert not out.exists()
