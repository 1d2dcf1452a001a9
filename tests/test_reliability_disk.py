"""A full disk: a one-line message, the previous complete files intact, no temporary file left, and a resume
after space is freed ends where an uninterrupted run does.

The fault is injected where every atomic write passes: the file object `os.fdopen` returns for a temporary
file whose name matches, whose `write` then raises OSError(ENOSPC) as a full disk would.
"""

from __future__ import annotations

import errno
import json
import os
import shutil

import pytest
import torch
from reliability_helpers import assert_readable, quiet, tiny_folders, without_timestamps

from motionprobe.cli import main
from motionprobe.folders import ModelFolder
from motionprobe.io import load_tensors


class FullFile:
    """A writable file on a full disk."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def fill_disk(monkeypatch, name: str, after: int = 0) -> dict:
    """From the (after+1)-th temporary file for `name` on, writes fail with ENOSPC; returns the counts."""
    real = os.fdopen
    seen = {"matched": 0, "failed": 0}

    def fdopen(fd, *args, **kwargs):
        f = real(fd, *args, **kwargs)
        target = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        if target.startswith(f".{name}") and target.endswith(".tmp"):
            seen["matched"] += 1
            if seen["matched"] > after:
                seen["failed"] += 1
                return FullFile(f)
        return f

    monkeypatch.setattr(os, "fdopen", fdopen)
    return seen


def error_line(err: str) -> str:
    assert "Traceback" not in err and err.count("motionprobe: error: ") == 1, err[-3000:]
    return err[err.index("motionprobe: error: "):].split("\n")[0]


def temporaries(folder):
    return [p for p in folder.rglob("*.tmp")]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return tiny_folders(tmp_path_factory)


@pytest.fixture(scope="module")
def straight(folders, tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    quiet(folders.analyze_argv(out))
    return out


@pytest.mark.parametrize("name", ["results.json", "candidates.csv.gz", "per_clip.csv"])
def test_full_disk_while_writing_the_outputs_keeps_the_previous_ones(folders, straight, tmp_path, capsys,
                                                                     monkeypatch, name):
    out = tmp_path / "analysis"
    shutil.copytree(straight, out)  # a complete analysis
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name != "config.json"}
    seen = fill_disk(monkeypatch, name)
    code = main(folders.analyze_argv(out, "--resume"))
    line = error_line(capsys.readouterr().err)
    assert code == 2 and seen["failed"] == 1
    assert line == f"motionprobe: error: {out / name}: no space left on device; the previous version is intact"
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name != "config.json"} == before
    assert temporaries(out) == []


def test_full_disk_in_the_middle_of_the_table_then_resume(folders, straight, tmp_path, capsys, monkeypatch):
    out = tmp_path / "analysis"
    seen = fill_disk(monkeypatch, "shard-", after=3)
    code = main(folders.analyze_argv(out))
    line = error_line(capsys.readouterr().err)
    assert code == 2 and seen["failed"] == 1 and "shard-00003.npz: no space left on device" in line
    assert sorted(p.name for p in (out / "table").glob("*.npz")) == [f"shard-0000{i}.npz" for i in range(3)]
    assert assert_readable(out) == [] and not (out / "results.json").exists()
    monkeypatch.undo()  # space freed
    assert main(folders.analyze_argv(out, "--resume")) == 0
    assert without_timestamps(out / "results.json") == without_timestamps(straight / "results.json")


MODEL_ARGS = ["train-model", "--epochs", "3", "--train-per-class", "2", "--test-per-class", "1", "--batch-size", "8"]


def test_full_disk_while_checkpointing_keeps_a_resumable_run(tmp_path, capsys, monkeypatch):
    """Epoch 2's model folder fails: epoch 1's stays whole. Then epoch 2's train_state.json fails after its
    tensors were written: the resumed run must not pair those weights with epoch 1's counter."""
    quiet([*MODEL_ARGS, "--out", str(tmp_path / "straight")])
    out = tmp_path / "run"
    seen = fill_disk(monkeypatch, "model.safetensors", after=1)
    code = main([*MODEL_ARGS, "--out", str(out)])
    assert code == 2 and "model.safetensors: no space left on device" in error_line(capsys.readouterr().err)
    model, meta = ModelFolder(out).load(allow_incomplete=True)  # epoch 1's checkpoint, whole, and known unfinished
    assert seen["failed"] == 1 and meta["epochs_done"] == 1 and temporaries(out) == []
    assert ModelFolder(out).stopped_early() == (1, 3)
    monkeypatch.undo()

    seen = fill_disk(monkeypatch, "train_state.json")  # this run's first checkpoint: epoch 2's
    code = main([*MODEL_ARGS, "--out", str(out), "--resume"])
    assert code == 2 and "train_state.json: no space left on device" in error_line(capsys.readouterr().err)
    assert json.loads((out / "train_state.json").read_text())["epoch"] == 1  # the readable copy lags behind
    monkeypatch.undo()
    assert main([*MODEL_ARGS, "--out", str(out), "--resume"]) == 0
    weights = [load_tensors(f / "model.safetensors") for f in (tmp_path / "straight", out)]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    history = [json.loads((f / "train_state.json").read_text())["history"] for f in (tmp_path / "straight", out)]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in history[0]] == \
           [{k: v for k, v in row.items() if k != "seconds"} for row in history[1]]
