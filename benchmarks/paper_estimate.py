"""Wall time of a full UCF101 split-1 analysis at the paper's size, from FLOP counts and FLOP/s.

Work per test clip (3,783 clips), k = 1, 2, 4, 8, one perceptual generator per k and the pixel
generator at k = 1 (the paper's Figure 7), counted by the engine's own `Plan`:

    C3D forwards      1 original + 4 uniform (replicated, no generator) + every generated input
    generated inputs  per k: the candidate pool plus the uniform subset when the pool lacks it,
                      + 1 pixel-generator input at k = 1
                      48 candidates: 16 + 49 + 49 + 49 (+1) = 164      all: 16 + 120 + 1820 + 12870 (+1) = 14,827

    FLOPs per clip = forwards · F(C3D) + generated · F(generator)
    F(C3D) = 77.09 GFLOP, F(generator) = 26.05 GFLOP (benchmarks/flops.py, from the layer shapes, both
    checked against torch's FlopCounterMode)

    wall time on G devices = ceil(shards / G) · (total FLOPs / shards) / (FLOP/s per device)

Shards are the engine's resumable units (256 clips, fewer with `all` so that a shard's table stays
under 2^20 rows); ranks own whole shards, so G devices finish in ceil(shards / G) shard-times. Data
loading (3,783 clips from the frame cache, ~300 clips/s per process) and merging are left out: seconds.

Assumptions (not measured here — this machine has no GPU):
    H100 SXM bf16 dense tensor-core peak: 989 TFLOP/s (NVIDIA's data sheet, without sparsity)
    achieved fraction of that peak by bf16 C3D / generator inference: 0.40 (an assumption; convolutions
    with many channels usually reach 30-60% on tensor cores; measure with `make bench` on a GPU)
The CPU line uses the C3D forward FLOP/s `make bench` measured on this machine (fp32).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from motionprobe.analysis import Plan
from motionprobe.selection import candidates

from .flops import generator_flops, model_flops, paper_models

UCF101_TEST_CLIPS = 3783
KS = (1, 2, 4, 8)
PIXEL_KS = (1,)
H100_BF16_DENSE_PEAK = 989e12  # FLOP/s, assumption (data sheet)
ASSUMED_FRACTION = 0.40  # assumption
SHARD_SIZE = 256  # the paper preset's analysis.shard_size


@dataclass
class Workload:
    candidates: str
    forwards_per_clip: int
    generated_per_clip: int
    generated_per_k: dict[str, int]
    shards: int
    flops_per_clip: float
    total_flops: float


def workload(pool: int | str, c3d_flops: float, gen_flops: float, clips: int = UCF101_TEST_CLIPS) -> Workload:
    pools = {k: candidates(k, pool, 16, seed=0) for k in KS}
    plan = Plan.build(num_frames=16, ks=KS, pools=pools, pixel_ks=PIXEL_KS, num_clips=clips, shard_size=SHARD_SIZE)
    per_k = {str(k): len(plan.generator_inputs(k)[0]) + (1 if k in PIXEL_KS else 0) for k in KS}
    generated = sum(per_k.values())
    forwards = plan.inputs_per_clip()
    per_clip = forwards * c3d_flops + generated * gen_flops
    return Workload(str(pool), forwards, generated, per_k, plan.num_shards, per_clip, per_clip * clips)


def wall_seconds(w: Workload, flops_per_s: float, devices: int) -> float:
    shard_time = w.total_flops / w.shards / flops_per_s
    return math.ceil(w.shards / devices) * shard_time


def estimate(cpu_flops_per_s: float | None, gpu_flops_per_s: float | None = None) -> dict:
    """The table README.md quotes: per pool size, the work and the wall time on this CPU, 1 and 8 GPUs.

    GPU FLOP/s: measured when given (`python -m benchmarks.run --device cuda`), else the assumption above.
    """
    model, generator = paper_models()
    c3d, gen = model_flops(model, 16, 112, 112).total, generator_flops(generator, 112, 112).total
    gpu = gpu_flops_per_s or H100_BF16_DENSE_PEAK * ASSUMED_FRACTION
    rows = []
    for pool in (48, "all"):
        w = workload(pool, c3d, gen)
        row = {**asdict(w), "gpu_1_hours": wall_seconds(w, gpu, 1) / 3600, "gpu_8_hours": wall_seconds(w, gpu, 8) / 3600}
        if cpu_flops_per_s:
            row["cpu_days"] = wall_seconds(w, cpu_flops_per_s, 1) / 86400
        rows.append(row)
    return {"clips": UCF101_TEST_CLIPS, "ks": list(KS), "pixel_ks": list(PIXEL_KS), "c3d_gflop": c3d / 1e9,
            "generator_gflop": gen / 1e9, "assumed_gpu_peak_tflops": H100_BF16_DENSE_PEAK / 1e12,
            "assumed_fraction": ASSUMED_FRACTION, "gpu_tflops": gpu / 1e12, "gpu_measured": gpu_flops_per_s is not None,
            "cpu_gflops_measured": None if cpu_flops_per_s is None else cpu_flops_per_s / 1e9, "rows": rows}


def format_estimate(e: dict) -> list[str]:
    lines = [f"paper-scale estimate: UCF101 split-1 test ({e['clips']} clips), k = {','.join(map(str, e['ks']))}, "
             f"C3D {e['c3d_gflop']:.2f} GFLOP + generator {e['generator_gflop']:.2f} GFLOP per input",
             f"  GPU measured: {e['gpu_tflops']:.0f} TFLOP/s per GPU (engine C3D forward, bf16)" if e["gpu_measured"] else
             f"  GPU assumed: {e['assumed_gpu_peak_tflops']:.0f} TFLOP/s bf16 peak x {e['assumed_fraction']:.2f} "
             f"= {e['gpu_tflops']:.0f} TFLOP/s per GPU (assumption, not measured)",
             f"  {'candidates':>10} {'C3D fwd/clip':>12} {'gen/clip':>9} {'PFLOP':>9} {'shards':>6} "
             f"{'1 GPU':>9} {'8 GPUs':>9} {'this CPU':>14}"]
    for r in e["rows"]:
        cpu = f"{r['cpu_days']:.0f} days" if "cpu_days" in r else "-"
        lines.append(f"  {r['candidates']:>10} {r['forwards_per_clip']:>12} {r['generated_per_clip']:>9} "
                     f"{r['total_flops'] / 1e15:>9.1f} {r['shards']:>6} {_hours(r['gpu_1_hours']):>9} "
                     f"{_hours(r['gpu_8_hours']):>9} {cpu:>14}")
    if e["cpu_gflops_measured"]:
        lines.append(f"  this CPU: {e['cpu_gflops_measured']:.1f} GFLOP/s measured (engine C3D forward, fp32, "
                     "one process)")
    return lines


def _hours(h: float) -> str:
    return f"{h * 60:.1f} min" if h < 1 else f"{h:.2f} h"
