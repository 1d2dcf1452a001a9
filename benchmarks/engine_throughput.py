"""(a) Candidate evaluations per second: the analysis engine vs a naive loop at batch size 1 (tiny preset).

A GPU target: on a GPU a batch-1 call leaves most of the chip idle, which is what batching recovers.
On a CPU a batch-1 3-D convolution of a 32×32 clip is largely compute-bound, and how slow the loop's
many small calls are depends on what else shares the cores (measured from 4.6× to 26× in one loaded
run), so there the figure is printed, not judged; `detail.ceiling_ratio_at_matmul_speed` is the most any
engine could gain (every FLOP at matmul speed). `python -m benchmarks.gpu` measures it on a GPU.

Work: `evaluate_clips` on a few test clips of the embedded benchmark at k = 4 with 48 candidates (each
replicated and generated), the model built for the dataset's classes. The naive reference does the
engine's work the literal way: for every row of the engine's table (the original clip, replicated
frames, a generated candidate), make that one input alone, run the model on it alone, softmax, read the
numbers (torch.no_grad, fp32).
Deriving the naive inputs from the engine's rows keeps both sides the same work whatever the engine
evaluates; the largest difference in max probability is reported as a check.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from motionprobe.analysis import Plan, evaluate_clips
from motionprobe.analysis.table import GENERATOR, ORIGINAL, REPLICATE
from motionprobe.config import preset
from motionprobe.data.base import to_float
from motionprobe.generator import build_generator, replicate_nearest
from motionprobe.models.registry import build_model
from motionprobe.selection import candidates, mask_subset

from .common import Figure, alternate, matmul, median, spread
from .flops import counted_by_torch
from .setups import FirstClips, synthetic_test_split

K = 4
TARGET = 10.0


@dataclass(frozen=True)
class Sizes:
    clips: int
    pool: int
    rounds: int


SIZES = {"full": Sizes(clips=2, pool=48, rounds=2), "quick": Sizes(clips=1, pool=4, rounds=1)}


def naive_max_probs(model, generator, clips: torch.Tensor, table, num_frames: int) -> list[float]:
    """Max probability of every row of the engine's `table`, its input made and classified alone."""
    out = []
    with torch.no_grad():
        for clip, source, mask in zip(table.clip.tolist(), table.source.tolist(), table.mask.tolist(), strict=True):
            x = to_float(clips[clip])[None]
            subset = list(mask_subset(mask, num_frames))
            frames, indices = x[:, :, subset], torch.tensor([subset], device=x.device)
            if source == ORIGINAL:
                made = x
            elif source == REPLICATE:
                made = replicate_nearest(frames, indices, num_frames)
            elif source == GENERATOR:
                made = generator(frames, indices)
            else:
                raise ValueError(f"the naive loop has no rule for table source {source}")
            out.append(float(torch.softmax(model(made).float(), dim=-1).max()))
    return out


def run(quick: bool = False, device: str = "cpu") -> list[Figure]:
    sizes = SIZES["quick" if quick else "full"]
    cfg = preset("tiny")
    dataset = FirstClips(synthetic_test_split(cfg), sizes.clips)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, cfg.data, len(dataset.classes)).eval().to(device)
    generator = build_generator(K, cfg.generator, cfg.data.num_frames).eval().to(device)
    t = cfg.data.num_frames
    clips = torch.stack([dataset[i]["clip"] for i in range(sizes.clips)])
    labels = list(dataset.labels)
    plan = Plan.build(num_frames=t, ks=(K,), pools={K: candidates(K, sizes.pool, t, seed=cfg.seed)}, generator_ks=(K,),
                      num_clips=sizes.clips, shard_size=sizes.clips)
    results = {}

    def engine() -> None:
        results["engine"] = evaluate_clips(model, clips, labels, range(sizes.clips), plan, {K: generator},
                                           batch_size=cfg.analysis.batch_size, device=device)[0]

    engine()
    table = results["engine"]
    evaluations = len(table)

    def naive() -> None:
        results["naive"] = naive_max_probs(model, generator, clips.to(device), table, t)

    mm, mm_flops = matmul(device)
    times = alternate({"engine": engine, "naive": naive, "matmul": mm}, sizes.rounds)
    worst = max(abs(a - b) for a, b in zip(results["engine"].max_prob.tolist(), results["naive"], strict=True))

    size = cfg.data.crop_size
    with torch.device("meta"):  # FLOPs from shapes: nothing runs
        shapes_only = build_model(cfg.model, cfg.data, len(dataset.classes))
        model_flops = counted_by_torch(shapes_only, torch.empty(1, 3, t, size, size))
        gen = build_generator(K, cfg.generator, cfg.data.num_frames)
        generator_flops = counted_by_torch(gen.net, torch.empty(1, gen.in_channels, size, size))
    generated = int((table.source == GENERATOR).sum())
    per_eval = model_flops + generator_flops * generated / evaluations
    engine_rate, naive_rate = evaluations / median(times["engine"]), evaluations / median(times["naive"])
    peak = mm_flops / median(times["matmul"])
    return [Figure(
        key="engine_vs_naive", title="analysis engine vs naive batch-1 loop (tiny, candidate evals/s)",
        ratio=engine_rate / naive_rate, target=TARGET, rule="at_least", gpu_target=True, device=device,
        detail={"engine_evals_per_s": round(engine_rate, 2), "naive_evals_per_s": round(naive_rate, 2),
                "round_ratios": spread(times["naive"], times["engine"]), "rounds": sizes.rounds, "clips": sizes.clips,
                "classes": len(dataset.classes), "evaluations": evaluations, "engine_batch_size": cfg.analysis.batch_size,
                "max_abs_diff_max_prob": worst, "gflop_per_eval": round(per_eval / 1e9, 4),
                "engine_gflop_per_s": round(engine_rate * per_eval / 1e9, 2),
                "naive_gflop_per_s": round(naive_rate * per_eval / 1e9, 2), "matmul_gflop_per_s": round(peak / 1e9, 2),
                # The most any engine could gain here: every FLOP at matmul speed, against the naive loop.
                "ceiling_ratio_at_matmul_speed": round(peak / per_eval / naive_rate, 2)})]
