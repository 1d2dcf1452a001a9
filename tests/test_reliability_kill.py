"""Killed at random points and resumed, every long verb ends exactly where an uninterrupted run does.

Each run is `python -m motionprobe ...` in a subprocess, SIGKILLed (once SIGINTed) at seeded random
points: after a random number of new shards (analysis), epochs (model) or steps (generator), plus a random
fraction of the measured time one of them takes. After every kill, every file under a final name must open
completely; then `--resume` runs on. The finished outputs must equal the uninterrupted run's: results.json
byte for byte up to its `timestamps` field, every clip once, the same weights and metrics.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
import signal
import time
from pathlib import Path

import pytest
from reliability_helpers import (
    assert_readable,
    kill,
    quiet,
    read_json_or_none,
    run,
    start,
    tiny_folders,
    wait_until,
    without_timestamps,
    written_since,
)

from motionprobe.analysis.table import read_shard
from motionprobe.data.synthetic import CLASSES
from motionprobe.io import load_tensors
from motionprobe.training.holdout import holdout_positions

SEED = 20261127


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return tiny_folders(tmp_path_factory)


def shards(out: Path) -> list[Path]:
    return sorted((out / "table").glob("shard-*.npz"))


def test_analyze_killed_five_times_then_resumed_equals_an_uninterrupted_run(folders, tmp_path):
    log = tmp_path / "log.txt"
    straight = tmp_path / "straight"
    quiet(folders.analyze_argv(straight))  # in this process: the killed runs must match it across processes too
    # The phases of the uninterrupted run, from its files' times: engine start (config.json), shards, results.
    engine_start = (straight / "config.json").stat().st_mtime_ns
    shard_times = sorted(p.stat().st_mtime_ns for p in shards(straight))
    num_shards = len(shard_times)
    per_shard = (shard_times[-1] - engine_start) / num_shards / 1e9
    tail = ((straight / "results.json").stat().st_mtime_ns - shard_times[-1]) / 1e9
    assert num_shards == len(CLASSES)  # 2 clips per class, 2 per shard

    rng = random.Random(SEED)
    out, kills, finished_alone = tmp_path / "killed", [], 0
    while len(kills) < 5:
        assert finished_alone < 3, f"runs kept finishing before their kill point; kills so far {kills}"
        before = len(shards(out))
        final_phase = len(kills) == 4  # the last kill lands after the last shard, while the outputs are written
        target = num_shards if final_phase else min(num_shards, before + rng.randint(0, 2))
        delay = rng.uniform(0, 0.8) * tail if final_phase else rng.uniform(0, 1.5) * per_shard
        since = time.time_ns()
        proc = start(folders.analyze_argv(out, *(["--resume"] if (out / "table").exists() else [])), log)
        # config.json is rewritten by every run just before the engine starts: the process is past its imports.
        if wait_until(lambda o=out, t0=since, n=target: written_since(o / "config.json", t0) and len(shards(o)) >= n, proc):
            time.sleep(delay)
        if kill(proc):
            kills.append({"after_shards": target, "delay_s": round(delay, 3), "shards_on_disk": len(shards(out))})
            temporaries = assert_readable(out)
            assert all(p.name.startswith(".") and p.name.endswith(".tmp") for p in temporaries)
        else:  # it finished before its kill point: check it, then go on killing in a fresh folder
            assert proc.returncode == 0, log.read_text()[-3000:]
            assert without_timestamps(out / "results.json") == without_timestamps(straight / "results.json")
            out, finished_alone = tmp_path / f"killed_{len(kills)}_{finished_alone}", finished_alone + 1
    assert any(k["shards_on_disk"] < num_shards for k in kills), kills  # some kills landed mid-table
    run(folders.analyze_argv(out, "--resume"), log)

    assert without_timestamps(out / "results.json") == without_timestamps(straight / "results.json"), kills
    for name in ("per_class.csv", "per_clip.csv", "candidates.csv.gz"):
        assert (out / name).read_bytes() == (straight / name).read_bytes(), name
    results = json.loads((out / "results.json").read_text())
    ids = [row["clip_id"] for row in csv.DictReader((out / "per_clip.csv").open())]
    assert results["num_clips"] == len(ids) == len(set(ids)) == 2 * len(CLASSES)  # no clip lost, none counted twice
    covered = sorted(i for p in shards(out) for i in read_shard(p).clip_index.tolist())
    assert covered == list(range(2 * len(CLASSES)))
    with gzip.open(out / "candidates.csv.gz", "rt") as f:
        rows = list(csv.DictReader(f))
    per_clip = {i: sum(r["clip_id"] == i for r in rows) for i in ids}
    assert len(set(per_clip.values())) == 1  # every clip has all its inputs, once
    # Each input once: a temporal probe's versions of a clip share its frames and differ by probe and variant.
    inputs = {(r["clip_id"], r["source"], r["k"], r["frames"], r.get("probe", ""), r.get("variant", "")) for r in rows}
    assert len(inputs) == len(rows)


MODEL_ARGS = ["train-model", "--epochs", "3", "--train-per-class", "2", "--test-per-class", "1", "--batch-size", "8"]


def _epochs_done(out: Path) -> int:
    state = read_json_or_none(out / "train_state.json")
    return state["epoch"] if state else 0


def _without(rows: list[dict], *keys: str) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in keys} for row in rows]


def test_train_model_killed_and_interrupted_then_resumed_equals_an_uninterrupted_run(tmp_path):
    straight, out, log = tmp_path / "straight", tmp_path / "killed", tmp_path / "log.txt"
    started = time.monotonic()
    quiet([*MODEL_ARGS, "--out", str(straight)])
    per_epoch = (time.monotonic() - started) / 3
    rng = random.Random(SEED + 1)
    kills = []
    for sig in (signal.SIGKILL, signal.SIGINT):
        done = _epochs_done(out)
        target = min(2, done + rng.randint(0, 1))
        delay = rng.uniform(0, 0.8) * per_epoch
        since = time.time_ns()
        proc = start([*MODEL_ARGS, "--out", str(out), *(["--resume"] if done else [])], log)
        if wait_until(lambda t0=since, n=target: written_since(out / "config.json", t0) and _epochs_done(out) >= n, proc):
            time.sleep(delay)
        if kill(proc, sig):
            assert_readable(out)
            if sig == signal.SIGINT and proc.returncode == 0:  # the signal landed as the run was exiting
                assert (out / "eval.json").exists(), log.read_text()[-3000:]
                continue
            kills.append((sig.name, target, round(delay, 3), _epochs_done(out)))
            if sig == signal.SIGINT:
                assert proc.returncode == 130, log.read_text()[-3000:]
                # One true line: a resumable checkpoint or none yet (a run interrupted before its first epoch).
                said = [line for line in log.read_text().splitlines() if line.startswith("motionprobe: ")][-1]
                if (out / "train_state.safetensors").is_file():
                    assert said == f"motionprobe: interrupted; finished work is saved in {out}: rerun with --resume " \
                                   "to continue", said
                else:
                    assert said.startswith("motionprobe: interrupted before the first checkpoint"), said
                assert "Traceback" not in log.read_text()
    assert kills and kills[0][0] == "SIGKILL", kills
    run([*MODEL_ARGS, "--out", str(out), "--resume"], log)

    assert (out / "model.safetensors").read_bytes() == (straight / "model.safetensors").read_bytes(), kills
    history = [json.loads((f / "train_state.json").read_text())["history"] for f in (straight, out)]
    assert _without(history[0], "seconds") == _without(history[1], "seconds") and len(history[0]) == 3
    evals = [json.loads((f / "eval.json").read_text()) for f in (straight, out)]
    assert _without(evals, "provenance")[0] == _without(evals, "provenance")[1]  # provenance names the folder


# One clip per class, less the tiny preset's held-out fifth (2 of 12), in batches of 2, 2 epochs of 5 steps;
# checkpoints every 3 steps and at each epoch's end; a row of losses.csv every 4 steps and at each epoch's end
# (steps 4, 5, 8, 10), so the checkpoints at steps 3 and 9 fall inside a row's window: a run resumed from them
# must log the rows an uninterrupted run logs, and keep the same best held-out state.
HELD_OUT = holdout_positions(len(CLASSES), seed=0, clips=64).size
GENERATOR_STEPS = 2 * ((len(CLASSES) - HELD_OUT) // 2)
LOSS_ROWS = [4, 5, 8, 10]


def _steps_done(out: Path) -> int:
    state = read_json_or_none(out / "train_state.json")
    return state["extra"]["step"] if state else 0


def _steps_in_window(out: Path) -> int:
    """Steps the checkpoint holds in the loss window of the next losses.csv row (0: it ends at a row)."""
    state = read_json_or_none(out / "train_state.json")
    return state["extra"].get("window", {}).get("steps", 0) if state else 0


def test_train_generator_killed_then_resumed_equals_an_uninterrupted_run(folders, tmp_path):
    (tmp_path / "every3.yaml").write_text("generator:\n  checkpoint_every: 3\n  log_every: 4\n")
    args = ["train-generator", "--model", str(folders.model), "--frames", "2", "--epochs", "2", "--batch-size", "2",
            "--train-per-class", "1", "--config", str(tmp_path / "every3.yaml")]
    straight, log = tmp_path / "straight", tmp_path / "log.txt"
    started = time.monotonic()
    quiet([*args, "--out", str(straight)])
    per_step = (time.monotonic() - started) / GENERATOR_STEPS
    rng = random.Random(SEED + 2)
    # A run that outpaces its kill point, or is killed where its checkpoint ends at a row of losses.csv, is
    # retried with new draws in a fresh folder: the kill must leave a checkpoint in the middle of a loss window.
    for attempt in range(5):
        out = tmp_path / f"killed_{attempt}"
        target = rng.choice([1, 2, 3, 7, 8, 9])  # wait for the checkpoint at step 3 or 9 (mid-window), then a delay
        delay = rng.uniform(0, 1) * per_step
        since = time.time_ns()
        proc = start([*args, "--out", str(out)], log)
        if wait_until(lambda t0=since, o=out, n=target: written_since(o / "config.json", t0) and _steps_done(o) >= n,
                      proc):
            time.sleep(delay)
        kills = [(target, round(delay, 3), _steps_done(out), _steps_in_window(out))]
        if kill(proc) and _steps_in_window(out) > 0:
            break
    else:
        raise AssertionError(f"no kill left a checkpoint inside a loss window: {kills}")
    assert_readable(out)
    run([*args, "--out", str(out), "--resume"], log)

    weights = [load_tensors(f / "generator.safetensors") for f in (straight, out)]
    assert weights[0].keys() == weights[1].keys()
    assert all(weights[0][k].equal(weights[1][k]) for k in weights[0]), kills
    timing = ("clips_per_s", "seconds")
    losses = [_without(list(csv.DictReader((f / "losses.csv").open())), *timing) for f in (straight, out)]
    assert [int(row["step"]) for row in losses[0]] == LOSS_ROWS
    assert losses[0] == losses[1], kills  # every loss column of every row, the row the kill cut through included
    metrics = [json.loads((f / "meta.json").read_text())["metrics"] for f in (straight, out)]
    assert _without(metrics, "train_seconds")[0] == _without(metrics, "train_seconds")[1]
