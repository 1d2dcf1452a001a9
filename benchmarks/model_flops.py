"""(b) Achieved FLOP/s of the engine's model forward at the paper preset vs this machine's dense matmul FLOP/s.

The engine evaluates a few C3D clips at 112×112×16 (each clip: the original and the uniform k = 1
input, so two C3D forwards per clip, in one batch each), timed alternately with an n×n fp32 matrix
multiply. FLOPs are counted from C3D's layer shapes (benchmarks/flops.py: 77.1 GFLOP per clip) and
checked against torch's FlopCounterMode. Both sides run in this process with the same threads and
dtype (fp32: the engine's CPU precision).

The engine's channels_last_3d inputs (vs contiguous) are measured apart: `python -m benchmarks.layout`.

With `--device cuda` (python -m benchmarks.run --device cuda) the engine runs on the GPU under bf16
autocast, 32 clips at a time, against bf16 8192×8192 matrix multiplies; this path has not been run
on a GPU yet.
"""

from __future__ import annotations

import torch

from motionprobe.analysis import Plan, evaluate_clips

from .common import Figure, alternate, matmul, median, spread
from .flops import model_flops, paper_models, torch_counts_for_paper_models

TARGET = 0.7
SIZE, FRAMES = 112, 16


def run(quick: bool = False, device: str = "cpu") -> Figure:
    torch.manual_seed(0)
    model, _ = paper_models()
    cuda = torch.device(device).type == "cuda"
    model = model.to(device)
    n_clips, rounds = (1, 1) if quick else (32, 5) if cuda else (2, 2)
    clips = torch.randint(0, 256, (n_clips, 3, FRAMES, SIZE, SIZE), dtype=torch.uint8)
    ks = () if quick else (1,)  # quick: the original clip only, one forward
    plan = Plan.build(num_frames=FRAMES, ks=ks, pools={}, pixel_ks=(), num_clips=n_clips, shard_size=n_clips)
    forwards = n_clips * plan.inputs_per_clip()
    analytic = model_flops(model, FRAMES, SIZE, SIZE)
    by_torch = torch_counts_for_paper_models()[0]

    def engine():
        evaluate_clips(model, clips, [0] * n_clips, range(n_clips), plan, {}, batch_size=64, device=device)

    mm, mm_flops = matmul(device)
    # No untimed warm-up on a CPU: a paper-size forward takes seconds, its first-call overhead milliseconds.
    times = alternate({"engine": engine, "matmul": mm}, rounds, warmup=cuda)
    engine_flops = forwards * analytic.total / median(times["engine"])
    peak = mm_flops / median(times["matmul"])

    detail = {"engine_gflop_per_s": round(engine_flops / 1e9, 2), "matmul_gflop_per_s": round(peak / 1e9, 2),
              "round_ratios": spread([forwards * analytic.total / t for t in times["engine"]],
                                     [mm_flops / t for t in times["matmul"]]),
              "rounds": rounds, "clips": n_clips, "forwards": forwards, "device": device,
              "dtype": "bfloat16 autocast" if cuda else "float32",
              "c3d_forwards_per_s": round(forwards / median(times["engine"]), 2),
              "c3d_gflop_per_clip_analytic": round(analytic.total / 1e9, 4),
              "c3d_gflop_per_clip_flop_counter": round(by_torch / 1e9, 4),
              "analytic_vs_flop_counter": round(analytic.total / by_torch, 6)}
    where = "paper, 112x112x16" + (", CUDA bf16" if cuda else "")
    return Figure(key="model_flops_vs_matmul", title=f"engine C3D forward FLOP/s / dense matmul FLOP/s ({where})",
                  ratio=engine_flops / peak, target=TARGET, rule="at_least", detail=detail)
