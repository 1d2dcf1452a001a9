"""torch.distributed on CPU (gloo, 2 processes): an analysis split over ranks equals the single-process one;
DDP training runs to a loadable model folder; the helpers that divide work cover it exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from report_fixtures import spread_model

from motionprobe import distributed
from motionprobe.analysis.table import read_shard
from motionprobe.cli import main
from motionprobe.config import preset
from motionprobe.data.synthetic import CLASSES, SyntheticMotionDataset
from motionprobe.folders import GeneratorFolder, ModelFolder
from motionprobe.generator import build_generator
from motionprobe.training.model import epoch_loader
from motionprobe.training.schedule import MODEL_STREAM, epoch_order


def torchrun(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "motionprobe", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


# -- dividing work (no processes needed) ---------------------------------------------------------

@pytest.mark.parametrize("num_shards,size", [(7, 2), (3, 4), (0, 2), (5, 1)])
def test_owned_shards_are_disjoint_and_cover_every_shard(num_shards, size):
    owned = [list(distributed.owned_shards(num_shards, distributed.World(r, size))) for r in range(size)]
    assert sorted(i for part in owned for i in part) == list(range(num_shards))


@pytest.mark.parametrize("batch_len,size", [(8, 2), (7, 3), (2, 4), (1, 2)])
def test_batch_positions_cover_the_batch_and_leave_no_rank_idle(batch_len, size):
    parts = [distributed.batch_positions(batch_len, distributed.World(r, size)) for r in range(size)]
    assert all(parts)  # every rank takes part in every step
    assert set(i for p in parts for i in p) == set(range(batch_len))
    if batch_len >= size:
        assert sorted(i for p in parts for i in p) == list(range(batch_len))  # no clip twice


def test_ranks_batches_together_are_one_seeded_permutation():
    cfg = preset("tiny")
    cfg = cfg.evolve(train={"batch_size": 6})
    data = SyntheticMotionDataset("train", per_class=2, size=32)  # 24 clips: 3 ranks × 2 clips × 4 steps
    ids = {clip_id: i for i, clip_id in enumerate(data.ids)}
    per_rank = [[[ids[c] for c in batch["id"]] for batch in epoch_loader(data, cfg, 3, distributed.World(r, 3))]
                for r in range(3)]
    assert len({len(batches) for batches in per_rank}) == 1  # the same number of steps on every rank
    expected = epoch_order(len(data), cfg.seed, 3, MODEL_STREAM).tolist()
    assert sorted(expected) == list(range(len(data)))
    for step in range(len(per_rank[0])):
        together = [per_rank[r][step][i] for i in range(2) for r in range(3)]
        assert together == expected[6 * step:6 * step + 6]
    single = [[ids[c] for c in b["id"]] for b in epoch_loader(data, cfg, 3, distributed.World(0, 1))]
    assert single == [expected[6 * step:6 * step + 6] for step in range(4)]  # the ranks train on the one-process batches
    again = [[ids[c] for c in b["id"]] for b in epoch_loader(data, cfg, 3, distributed.World(1, 3))]
    assert again == per_rank[1]  # a pure function of (seed, epoch, rank)


def test_single_process_helpers_are_pass_through():
    assert distributed.world() == distributed.World(0, 1, 0) and distributed.init("cpu").size == 1
    assert distributed.all_reduce_sum([1, 2.5]) == [1.0, 2.5] and not distributed.any_rank(False)
    assert distributed.merged({"b": 1, "a": 2}) == {"a": 2, "b": 1}
    assert distributed.run_on_main(lambda: 7) == 7
    module = torch.nn.Linear(2, 2)
    assert distributed.wrap_ddp(module) is module


# -- two processes ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A tiny C3D (Kaiming re-initialised, so its scores spread) and two random generators."""
    root = tmp_path_factory.mktemp("distributed")
    cfg = preset("tiny")
    ModelFolder(root / "model").save(spread_model(cfg, zero_bias=False), cfg, list(CLASSES))
    for k in (1, 2):
        GeneratorFolder(root / f"g{k}").save(build_generator(k, cfg.generator, cfg.data.num_frames), cfg, loss="perceptual",
                                             model_sha256=ModelFolder(root / "model").sha256())
    return root


def test_analysis_on_two_processes_equals_the_single_process_run(folders):
    args = ["analyze", "--model", "model", "--generator", "1=g1", "2=g2", "--frames", "1,2", "--candidates", "3",
            "--test-per-class", "1", "--shard-size", "3", "--bootstrap", "50", "--no-progress"]
    cwd = os.getcwd()
    try:
        os.chdir(folders)
        assert main([*args, "--out", "single"]) == 0
    finally:
        os.chdir(cwd)
    run = torchrun(*args, "--out", "multi", cwd=folders)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "2 processes (torch.distributed, gloo)" in run.stderr
    assert run.stdout.count("results: multi/results.json") == 1  # one report, from rank 0

    single, multi = folders / "single", folders / "multi"
    a, b = (json.loads((d / "results.json").read_text()) for d in (single, multi))
    for results in (a, b):  # the time, and the commit (another may land in the checkout between the two runs)
        results.pop("timestamps"), results["provenance"].pop("code_version")
    assert a == b
    for name in ("per_clip.csv", "per_class.csv"):
        assert (single / name).read_text() == (multi / name).read_text()
    shards = sorted(p.name for p in (multi / "table").glob("shard-*.npz"))
    assert shards == [f"shard-{i:05d}.npz" for i in range(4)]  # 10 clips in shards of 3, each written once
    for name in shards:
        x, y = read_shard(single / "table" / name), read_shard(multi / "table" / name)
        assert x.ids == y.ids and all(np.array_equal(getattr(x.rows, c), getattr(y.rows, c)) for c in x.rows.DTYPES)
        assert len(np.unique(y.rows.max_prob)) > len(y.rows) // 2  # scores depend on the input: equality means something


def test_ddp_training_writes_one_loadable_model_folder(tmp_path):
    run = torchrun("train-model", "--out", "model", "--epochs", "1", "--train-per-class", "2", "--test-per-class", "1",
                   "--batch-size", "8", cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("model folder: model") == 1
    model, meta = ModelFolder(tmp_path / "model").load()
    assert meta["classes"] == list(CLASSES) and meta["epochs_done"] == 1
    log = (tmp_path / "model" / "log.csv").read_text().splitlines()
    assert len(log) == 2  # a header and one epoch, written once
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert model(torch.rand(2, 3, 16, 32, 32)).shape == (2, len(CLASSES))
