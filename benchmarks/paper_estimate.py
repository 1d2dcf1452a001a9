"""Wall time of a full UCF101 split-1 analysis at the paper's size, from FLOP counts and FLOP/s.

Work per test clip (3,783 clips), k = 1, 2, 4, 8, one perceptual generator per k and the pixel
generator at k = 1 (the paper's Figure 7), 48 or all candidates. What the engine evaluates per clip is
counted, not predicted: `analyze` runs on one 4×4-pixel clip with stand-in networks (a pooled linear
classifier; nearest-frame replication as every generator) while forward pre-hooks count the clips
through the model and through the generators, so the estimate follows the engine whatever it evaluates
(the original, replicated frames, generated candidates, probes). At the time of writing that was

    generated inputs  per k: the candidate pool plus the uniform subset when the pool lacks it,
                      + 1 pixel-generator input at k = 1
                      48 candidates: 16 + 49 + 49 + 49 (+1) = 164      all: 16 + 120 + 1820 + 12870 (+1) = 14,827
    C3D forwards      1 original + per k the replicated pool (16 subsets) and the uniform subset: 16 + 17 + 17
                      + 17 = 67 + every generated input + 30 temporal probe inputs (14 probes, 5 draws of each
                      random one; the 4 sped-up ones read the video): 1 + 67 + 164 + 30 = 262 with 48
                      candidates, 1 + 67 + 14,827 + 30 = 14,925 with all

    FLOPs per clip = forwards · F(C3D) + generated · F(generator)
    F(C3D) = 77.09 GFLOP, F(generator) = 26.05 GFLOP (benchmarks/flops.py, from the layer shapes, both
    checked against torch's FlopCounterMode)

    wall time on G devices = ceil(shards / G) · (total FLOPs / shards) / (FLOP/s per device)

Shards are the engine's resumable units (256 clips, fewer with `all` so that a shard's table stays
bounded; read from the plan the stand-in analysis wrote); ranks own whole shards, so G devices finish
in ceil(shards / G) shard-times. Data loading (3,783 clips from the frame cache) and merging are left out.

Assumptions where no GPU rate is measured:
    H100 SXM bf16 dense tensor-core peak: 989 TFLOP/s (NVIDIA's data sheet, without sparsity)
    achieved fraction of that peak by bf16 C3D / generator inference: 0.40 (an assumption; convolutions
    with many channels usually reach 30-60% on tensor cores; `python -m benchmarks.gpu` measures it)
The CPU line uses the end-to-end FLOP/s `make bench` measured at the paper size on this machine (fp32).

Training is counted beside the analysis, from FlopCounterMode on the meta device (shapes only): one step of
each loop as training/model.py and training/generator.py take it, forward and backward.

    model (when the user trains one)  the paper preset's C3D recipe: `train.epochs` × 9,537 UCF101 split-1
                                      training clips × (forward + backward of one clip, cross-entropy)
    generators                        per generator `generator.epochs` × ceil(9,537 / batch) steps ×
                                      (generator forward + backward on a batch; for the perceptual loss C3D's
                                      forward on the real and on the generated clip and its backward to the
                                      generated clip, no weight gradients); 4 perceptual (k = 1, 2, 4, 8) + 1 pixel

Training runs fp32 on a GPU for the generators (training/generator.py keeps the loss fp32; cuDNN runs the
convolutions in TF32 by default) and bf16 autocast for the model: the TF32 rate is assumed as H100 SXM's dense
TF32 tensor-core peak, 494.7 TFLOP/s (data sheet), × the same fraction.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from motionprobe.analysis import analyze
from motionprobe.config import AnalysisConfig
from motionprobe.data.base import StridedRead
from motionprobe.generator import replicate_nearest

from .flops import generator_flops, model_flops, paper_models

UCF101_TEST_CLIPS = 3783
KS = (1, 2, 4, 8)
PIXEL_KS = (1,)
H100_BF16_DENSE_PEAK = 989e12  # FLOP/s, assumption (data sheet)
H100_TF32_DENSE_PEAK = 494.7e12  # FLOP/s, assumption (data sheet): the generators train in fp32, convolutions TF32
UCF101_TRAIN_CLIPS = 9537
ASSUMED_FRACTION = 0.40  # assumption
SHARD_SIZE = 256  # the paper preset's analysis.shard_size
NUM_FRAMES = 16


@dataclass
class Workload:
    candidates: str
    forwards_per_clip: int
    generated_per_clip: int
    generated_per_k: dict[str, int]
    shards: int
    flops_per_clip: float
    total_flops: float


class _StandInModel(nn.Module):
    """Logits from the clip's mean colour: costs nothing, shaped like a classifier of `classes`."""

    def __init__(self, classes: int = 2):
        super().__init__()
        self.fc = nn.Linear(3, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean(dim=(2, 3, 4)))


class _StandInGenerator(nn.Module):
    """Nearest-frame replication as a module of k (the engine checks a generator's k), so hooks can count it."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, frames: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        return replicate_nearest(frames, indices, NUM_FRAMES)


class _Clips(list):
    """One stand-in clip; its reads at 2 … 16 times its stride are itself (each costs one forward, whether a UCF101
    video, ~180 frames, holds the read's window or the short-video policy fills it)."""

    classes = ["a", "b"]

    def read_clip(self, i: int, factor: int) -> StridedRead:
        return StridedRead(self[i]["clip"])


def engine_counts(pool: int | str) -> dict:
    """Per clip of the paper's analysis: clips through the model and through each generator, and the shard size,
    as the engine ran them on one stand-in clip."""
    model = _StandInModel()
    generators = {k: _StandInGenerator(k) for k in KS}
    pixel = {k: _StandInGenerator(k) for k in PIXEL_KS}
    counts = {"model": 0, **{f"k={k}": 0 for k in KS}, **{f"pixel k={k}": 0 for k in PIXEL_KS}}

    def counter(name: str):
        def count(_module: nn.Module, args: tuple) -> None:
            counts[name] += int(args[0].shape[0])
        return count

    model.register_forward_pre_hook(counter("model"))
    for k in KS:
        generators[k].register_forward_pre_hook(counter(f"k={k}"))
    for k in PIXEL_KS:
        pixel[k].register_forward_pre_hook(counter(f"pixel k={k}"))
    torch.manual_seed(0)
    clip = torch.randint(0, 256, (3, NUM_FRAMES, 4, 4), dtype=torch.uint8)  # 4×4 pixels: the counts need no more
    with tempfile.TemporaryDirectory(prefix="motionprobe-estimate-") as tmp:
        settings = AnalysisConfig(ks=KS, candidates=pool, batch_size=4096, shard_size=SHARD_SIZE, bootstrap=10)
        analyze(model, _Clips([{"id": "clip0", "label": 0, "clip": clip}]), tmp, settings, generators=generators,
                pixel_generators=pixel, seed=0, num_frames=NUM_FRAMES, write_csv=False, progress=False)
        shard_clips = json.loads((Path(tmp) / "table" / "plan.json").read_text())["shard_clips"]
    return {**counts, "shard_clips": shard_clips}


def workload(pool: int | str, c3d_flops: float, gen_flops: float, clips: int = UCF101_TEST_CLIPS) -> Workload:
    counted = engine_counts(pool)
    per_k = {str(k): counted[f"k={k}"] + counted.get(f"pixel k={k}", 0) for k in KS}
    generated = sum(per_k.values())
    forwards = counted["model"]
    per_clip = forwards * c3d_flops + generated * gen_flops
    return Workload(str(pool), forwards, generated, per_k, math.ceil(clips / counted["shard_clips"]), per_clip,
                    per_clip * clips)


def training_counts(num_classes: int = 101) -> dict:
    """FLOPs of one training step of each loop at the paper preset's sizes (FlopCounterMode, meta device): the
    model per clip, a perceptual and a pixel generator per batch of `generator.batch_size` clips."""
    from motionprobe.config import preset
    from motionprobe.generator import build_generator, build_loss
    from motionprobe.models.registry import build_model

    from .flops import counted_by_torch

    cfg = preset("paper")
    t, s, b = cfg.data.num_frames, cfg.data.crop_size, cfg.generator.batch_size
    with torch.device("meta"):
        model = build_model(cfg.model, cfg.data, num_classes).train()
        clip, label = torch.empty(1, 3, t, s, s), torch.zeros(1, dtype=torch.long)

        def model_step() -> None:
            nn.functional.cross_entropy(model(clip), label).backward()

        counts = {"model_step_per_clip": counted_by_torch(model_step, inference=False)}
        clips = torch.empty(b, 3, t, s, s)
        for loss_name in ("perceptual", "pixel"):
            # The generator's network on its slot input (placing the kept frames and the residual base are
            # elementwise, and its index checks need real values, which the meta device has not).
            generator = build_generator(4, cfg.generator, cfg.data.num_frames).train()
            criterion = build_loss(loss_name, build_model(cfg.model, cfg.data, num_classes), cfg.generator)
            given = torch.empty(b, generator.in_channels, s, s)

            def generator_step(net: nn.Module = generator.net, criterion: nn.Module = criterion,
                               given: torch.Tensor = given) -> None:
                criterion(net(given).reshape(b, 3, t, s, s), clips).backward()

            counts[f"{loss_name}_generator_step"] = counted_by_torch(generator_step, inference=False)
    return {**counts, "generator_batch": b, "model_epochs": cfg.train.epochs, "generator_epochs": cfg.generator.epochs}


def training_work(counts: dict, clips: int = UCF101_TRAIN_CLIPS, ks: tuple[int, ...] = KS,
                  pixel_ks: tuple[int, ...] = PIXEL_KS) -> dict:
    """Total FLOPs of training the model and every generator of the paper's plan on `clips` training clips.

    >>> w = training_work({"model_step_per_clip": 3, "perceptual_generator_step": 10, "pixel_generator_step": 1,
    ...                    "generator_batch": 8, "model_epochs": 2, "generator_epochs": 1}, clips=16, ks=(1, 4))
    >>> w["model_flops"], w["generator_steps_each"], w["generators_flops"]
    (96, 2, 42)
    """
    steps = counts["generator_epochs"] * math.ceil(clips / counts["generator_batch"])
    return {"train_clips": clips, "model_epochs": counts["model_epochs"],
            "model_flops": counts["model_epochs"] * clips * counts["model_step_per_clip"],
            "generator_steps_each": steps, "perceptual_generators": len(ks), "pixel_generators": len(pixel_ks),
            "generators_flops": steps * (len(ks) * counts["perceptual_generator_step"]
                                         + len(pixel_ks) * counts["pixel_generator_step"]),
            "model_gflop_per_clip": counts["model_step_per_clip"] / 1e9,
            "perceptual_gflop_per_step": counts["perceptual_generator_step"] / 1e9,
            "pixel_gflop_per_step": counts["pixel_generator_step"] / 1e9}


def wall_seconds(w: Workload, flops_per_s: float, devices: int) -> float:
    shard_time = w.total_flops / w.shards / flops_per_s
    return math.ceil(w.shards / devices) * shard_time


def estimate(cpu_flops_per_s: float | None, gpu_flops_per_s: dict[str, float] | None = None,
             gpu_name: str | None = None) -> dict:
    """The table README.md quotes: per pool size, the work and the wall time on this CPU, 1 and 8 GPUs.

    `gpu_flops_per_s` maps a pool ("48", "all") to the end-to-end FLOP/s `python -m benchmarks.gpu` measured
    for it (a pool it did not measure takes the other's), and "generator_step" to its generator training FLOP/s;
    without them, the assumptions above. Training (model and every generator) is counted beside the analysis.
    """
    with torch.device("meta"):  # shapes only: the counts need no weights
        model, generator = paper_models()
    c3d, gen = model_flops(model, 16, 112, 112).total, generator_flops(generator, 112, 112).total
    measured = {k: v for k, v in (gpu_flops_per_s or {}).items() if v}
    pools = {k: v for k, v in measured.items() if k in ("48", "all")}
    rows = []
    for pool in (48, "all"):
        w = workload(pool, c3d, gen)
        gpu = pools.get(str(pool)) or next(iter(pools.values()), H100_BF16_DENSE_PEAK * ASSUMED_FRACTION)
        row = {**asdict(w), "gpu_tflops": gpu / 1e12, "gpu_1_hours": wall_seconds(w, gpu, 1) / 3600,
               "gpu_8_hours": wall_seconds(w, gpu, 8) / 3600}
        if cpu_flops_per_s:
            row["cpu_days"] = wall_seconds(w, cpu_flops_per_s, 1) / 86400
        rows.append(row)
    training = training_work(training_counts())
    assumed_tf32 = H100_TF32_DENSE_PEAK * ASSUMED_FRACTION
    train_gpu = {"model_rate_tflops": (measured.get("48") or H100_BF16_DENSE_PEAK * ASSUMED_FRACTION) / 1e12,
                 "generator_rate_tflops": (measured.get("generator_step") or assumed_tf32) / 1e12}
    train_gpu["model_hours"] = training["model_flops"] / (train_gpu["model_rate_tflops"] * 1e12) / 3600
    train_gpu["generators_hours"] = training["generators_flops"] / (train_gpu["generator_rate_tflops"] * 1e12) / 3600
    for row in rows:
        row["total_flops_with_training"] = row["total_flops"] + training["model_flops"] + training["generators_flops"]
        row["gpu_1_hours_with_training"] = row["gpu_1_hours"] + train_gpu["model_hours"] + train_gpu["generators_hours"]
        if cpu_flops_per_s:
            row["cpu_days_with_training"] = row["cpu_days"] + (training["model_flops"] + training["generators_flops"]) \
                / cpu_flops_per_s / 86400
    return {"clips": UCF101_TEST_CLIPS, "ks": list(KS), "pixel_ks": list(PIXEL_KS), "c3d_gflop": c3d / 1e9,
            "training": training, "training_gpu": train_gpu, "assumed_tf32_tflops": assumed_tf32 / 1e12,
            "generator_gflop": gen / 1e9, "assumed_gpu_peak_tflops": H100_BF16_DENSE_PEAK / 1e12,
            "assumed_fraction": ASSUMED_FRACTION, "gpu_measured": bool(pools), "gpu": gpu_name,
            "cpu_gflops_measured": None if cpu_flops_per_s is None else cpu_flops_per_s / 1e9, "rows": rows}


def format_estimate(e: dict) -> list[str]:
    if e["gpu_measured"]:
        rates = ", ".join(f"{r['gpu_tflops']:.0f} TFLOP/s ({r['candidates']} candidates)" for r in e["rows"])
        gpu = f"  GPU measured ({e['gpu'] or 'CUDA'}): engine end to end, bf16 autocast: {rates}"
    else:
        gpu = (f"  GPU assumed: {e['assumed_gpu_peak_tflops']:.0f} TFLOP/s bf16 peak x {e['assumed_fraction']:.2f} "
               f"= {e['rows'][0]['gpu_tflops']:.0f} TFLOP/s per GPU (assumption, not measured)")
    lines = [f"paper-scale estimate: UCF101 split-1 test ({e['clips']} clips), k = {','.join(map(str, e['ks']))}, "
             f"C3D {e['c3d_gflop']:.2f} GFLOP + generator {e['generator_gflop']:.2f} GFLOP per input", gpu,
             f"  {'candidates':>10} {'C3D fwd/clip':>12} {'gen/clip':>9} {'PFLOP':>9} {'shards':>6} "
             f"{'1 GPU':>9} {'8 GPUs':>9} {'this CPU':>14}"]
    for r in e["rows"]:
        cpu = f"{r['cpu_days']:.0f} days" if "cpu_days" in r else "-"
        lines.append(f"  {r['candidates']:>10} {r['forwards_per_clip']:>12} {r['generated_per_clip']:>9} "
                     f"{r['total_flops'] / 1e15:>9.1f} {r['shards']:>6} {_hours(r['gpu_1_hours']):>9} "
                     f"{_hours(r['gpu_8_hours']):>9} {cpu:>14}")
    t, g = e["training"], e["training_gpu"]
    lines.append(f"  training (UCF101 split 1, {t['train_clips']} clips): model {t['model_epochs']} epochs x "
                 f"{t['model_gflop_per_clip']:.0f} GFLOP/clip = {t['model_flops'] / 1e15:.1f} PFLOP "
                 f"({_hours(g['model_hours'])} at {g['model_rate_tflops']:.0f} TFLOP/s); generators "
                 f"{t['perceptual_generators']} perceptual + {t['pixel_generators']} pixel x {t['generator_steps_each']} "
                 f"steps ({t['perceptual_gflop_per_step']:.0f} / {t['pixel_gflop_per_step']:.0f} GFLOP/step) = "
                 f"{t['generators_flops'] / 1e15:.1f} PFLOP ({_hours(g['generators_hours'])} at "
                 f"{g['generator_rate_tflops']:.0f} TFLOP/s TF32)")
    for r in e["rows"]:
        cpu = f", {r['cpu_days_with_training']:.0f} days on this CPU" if "cpu_days_with_training" in r else ""
        lines.append(f"  total with {r['candidates']} candidates: model + generators + analysis = "
                     f"{r['total_flops_with_training'] / 1e15:.1f} PFLOP, {_hours(r['gpu_1_hours_with_training'])} on "
                     f"1 GPU{cpu}")
    if e["cpu_gflops_measured"]:
        lines.append(f"  this CPU: {e['cpu_gflops_measured']:.1f} GFLOP/s measured (engine end to end at the paper "
                     "size, fp32, one process)")
    return lines


def _hours(h: float) -> str:
    return f"{h * 60:.1f} min" if h < 1 else f"{h:.2f} h"
