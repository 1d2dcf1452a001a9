"""The benchmark exported as UCF101-style videos loads back through `ucf101` close to the rendered clips;
the `data` verb's three commands and their error paths."""

from __future__ import annotations

import json
import re

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from motionprobe.cli import main
from motionprobe.config import preset
from motionprobe.data import build_dataset, collate_clips, to_float
from motionprobe.data.export import clip_name, export_synthetic
from motionprobe.data.synthetic import CLASSES, KIND, SyntheticMotionDataset
from motionprobe.models import build_model


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    summary = export_synthetic(out, train_per_class=3, test_per_class=2, size=32, seed=5, progress=False)
    assert summary.videos == {"train": 3 * len(CLASSES), "test": 2 * len(CLASSES)}
    return out


def _ucf_cfg(root, **data):
    cfg = preset("tiny")
    cfg = cfg.evolve(seed=5)
    cfg = cfg.evolve(data={"dataset": "ucf101", "root": str(root)})
    for key, value in data.items():
        cfg = cfg.evolve(data={key: value})
    return cfg


def test_group_naming_follows_ucf101():
    assert clip_name("jump", "test", 0) == "v_jump_g01_c01.avi"
    assert clip_name("jump", "test", 7) == "v_jump_g01_c02.avi"
    assert clip_name("jump", "train", 0) == "v_jump_g08_c01.avi"
    assert clip_name("jump", "train", 18) == "v_jump_g08_c02.avi"


def test_export_layout_and_truth(exported):
    lists = exported / "ucfTrainTestlist"
    assert (lists / "classInd.txt").read_text().splitlines() == [f"{i + 1} {c}" for i, c in enumerate(CLASSES)]
    train_lines = (lists / "trainlist01.txt").read_text().splitlines()
    test_lines = (lists / "testlist01.txt").read_text().splitlines()
    assert len(train_lines) == 3 * len(CLASSES) and len(test_lines) == 2 * len(CLASSES)
    assert all(" " not in line for line in test_lines)
    truth = json.loads((exported / "truth.json").read_text())
    assert truth["classes"] == list(CLASSES) and truth["kinds"] == KIND
    for line in train_lines:
        rel, index = line.split()
        assert truth["clips"][rel]["label"] == int(index) - 1 and truth["clips"][rel]["split"] == "train"
        assert int(re.search(r"_g(\d\d)_c\d\d\.avi$", rel).group(1)) >= 8  # training groups are g08–g25
    with av.open(str(exported / "UCF-101" / test_lines[0])) as c:
        assert c.format.name == "avi" and c.streams.video[0].codec_context.name == "mpeg4"


def test_ucf101_loads_the_export_back_close_to_the_rendered_clips(exported):
    truth = json.loads((exported / "truth.json").read_text())["clips"]
    test = build_dataset(_ucf_cfg(exported).data, "test")
    memory = SyntheticMotionDataset("test", per_class=2, size=32, seed=5)
    assert test.classes == list(CLASSES) and len(test) == len(memory)
    assert test.metadata["kinds"] == KIND  # truth.json travels with the export
    errors, chroma_only = [], []
    for i in range(len(test)):
        item = test[i]
        planted = truth[item["id"].split("#")[0]]
        assert item["label"] == planted["label"]
        rendered = memory.load(memory.ids.index(planted["synthetic_id"]))
        assert item["clip"].shape == rendered.shape == (3, 16, 32, 32)
        errors.append((item["clip"].float() - rendered.float()).abs().mean().item())
        # what 4:2:0 chroma subsampling alone costs, the floor for any MPEG-4 part 2 file
        frames = rendered.permute(1, 2, 3, 0).numpy()
        back = np.stack([av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24").reformat(format="yuv420p")
                         .reformat(format="rgb24").to_ndarray() for f in frames])
        chroma_only.append(np.abs(back.astype(float) - frames).mean())
    assert np.mean(errors) < 8.0  # of 255
    assert np.mean(errors) < np.mean(chroma_only) + 1.0  # the codec adds little beyond the subsampling
    # the same clip must not match another one: errors are codec noise, not a mix-up
    other = memory.load((memory.ids.index(truth[test.ids[0].split("#")[0]]["synthetic_id"]) + 1) % len(memory))
    assert (test[0]["clip"].float() - other.float()).abs().mean().item() > 2 * np.mean(errors)


def test_exported_files_feed_a_model(exported):
    """The plumbing a training loop uses: DataLoader + collate_clips over the files, into the tiny C3D."""
    torch.manual_seed(0)
    cfg = _ucf_cfg(exported)
    train = build_dataset(cfg.data, "train", training=True, seed=cfg.seed)
    batch = next(iter(DataLoader(train, batch_size=10, shuffle=True, collate_fn=collate_clips)))
    assert batch["clip"].shape == (10, 3, 16, 32, 32) and batch["clip"].dtype == torch.uint8
    assert batch["skipped"] == [] and set(batch["label"].tolist()) <= set(range(len(CLASSES)))
    model = build_model(cfg.model, cfg.data, len(train.classes))
    loss = F.cross_entropy(model(to_float(batch["clip"])), batch["label"])
    loss.backward()
    assert torch.isfinite(loss) and all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_cli_export_info_cache(tmp_path, capsys):
    out = tmp_path / "bench"
    assert main(["data", "export-synthetic", "--out", str(out), "--train-per-class", "1", "--test-per-class", "1",
                 "--seed", "3"]) == 0
    assert "--dataset ucf101 --root" in capsys.readouterr().out
    assert json.loads((out / "truth.json").read_text())["seed"] == 3

    (out / "UCF-101" / CLASSES[0] / clip_name(CLASSES[0], "test", 0)).write_text("broken")
    assert main(["data", "info", "--dataset", "ucf101", "--root", str(out), "--preset", "tiny", "--check",
                 "--out", str(tmp_path / "info")]) == 0
    printed = capsys.readouterr().out
    n = len(CLASSES)
    assert f"{n} classes" in printed and f"train: {n} videos" in printed and f"1 unreadable of {n}" in printed
    info = json.loads((tmp_path / "info" / "info.json").read_text())
    assert info["splits"]["test"]["videos"] == n
    assert list(info["splits"]["test"]["unreadable"]) == [f"{CLASSES[0]}/{clip_name(CLASSES[0], 'test', 0)}"]

    cache = tmp_path / "cache"
    assert main(["data", "cache", "--dataset", "ucf101", "--root", str(out), "--preset", "tiny", "--out", str(cache),
                 "--workers", "1"]) == 0
    assert f"cached {2 * n - 1} videos" in capsys.readouterr().out  # both splits, less the broken one
    skipped = json.loads((cache / "skipped.json").read_text())
    assert [s["path"] for s in skipped] == [f"{CLASSES[0]}/{clip_name(CLASSES[0], 'test', 0)}"]
    assert main(["data", "cache", "--dataset", "ucf101", "--root", str(out), "--preset", "tiny", "--out", str(cache),
                 "--workers", "1"]) == 0
    assert f"{2 * n - 1} already cached" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["data", "cache", "--dataset", "ucf101", "--root", "."], "--out DIR is required"),
    (["data", "cache", "--dataset", "synthetic", "--out", "x"], "nothing to cache"),
    (["data", "info", "--dataset", "ucf101", "--root", "/no/such/folder"], "--root: /no/such/folder does not exist"),
    (["data", "info", "--dataset", "hmdb51", "--root", "."], "no <class>_test_split1.txt files found"),
    (["data", "export-synthetic", "--out", "x", "--test-per-class", "0"], "--test-per-class: expected a positive"),
])
def test_cli_errors_are_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_data_commands_read_a_config_file(exported, tmp_path, capsys):
    config = tmp_path / "data.yaml"
    config.write_text(f"dataset: ucf101\nroot: {exported}\npreset: tiny\nsubset: test\nworkers: 1\n")
    assert main(["data", "info", "--config", str(config)]) == 0
    assert f"test: {2 * len(CLASSES)} videos" in capsys.readouterr().out
    assert main(["data", "cache", "--config", str(config), "--out", str(tmp_path / "cache")]) == 0
    assert f"cached {2 * len(CLASSES)} videos" in capsys.readouterr().out  # subset: test from the file
