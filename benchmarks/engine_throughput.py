"""(a) Candidate evaluations per second: the analysis engine vs a naive loop at batch size 1 (tiny preset).

Work: per clip the inputs an analysis at k = 4 evaluates — the original clip, the uniform subset
replicated, and the 48 candidates plus the uniform subset through the generator (51 inputs). The
naive reference does exactly that work the literal way: for each clip, for each input, generate it
alone, run the model on it alone, softmax, read the three numbers (under torch.no_grad, fp32). The
engine (`evaluate_clips`) runs the same inputs in batches that mix clips and candidates, generator
and model on the same batch, in inference mode, channels_last_3d. Both produce the same rows; the
largest difference in max probability is reported as a check.
"""

from __future__ import annotations

import torch

from motionprobe.analysis import Plan, evaluate_clips
from motionprobe.config import preset
from motionprobe.data.base import to_float
from motionprobe.data.synthetic import SyntheticMotionDataset
from motionprobe.generator import build_generator, replicate_nearest
from motionprobe.models.registry import build_model
from motionprobe.selection import candidates, subset_mask, uniform_subset

from .common import Figure, alternate, matmul, median, spread
from .flops import generator_flops, model_flops

K = 4
TARGET = 10.0


def naive_rows(model, generator, clips: torch.Tensor, labels: list[int], plan: Plan) -> dict[tuple, tuple]:
    """(clip, source, mask) → (predicted class, max probability, true-class probability), one input at a time."""
    t = plan.num_frames
    rows = {}
    with torch.no_grad():
        for i, (clip, label) in enumerate(zip(clips, labels, strict=True)):
            x = to_float(clip)[None]
            uniform = uniform_subset(K, t)
            inputs = [("original", (1 << t) - 1, lambda x=x: x),
                      ("replicate", subset_mask(uniform),
                       lambda s=uniform, x=x: replicate_nearest(x[:, :, list(s)], torch.tensor([s]), t))]
            for s in plan.generator_inputs(K)[0]:
                inputs.append(("generator", subset_mask(s), lambda s=s, x=x: generator(x[:, :, list(s)], torch.tensor([s]))))
            for source, mask, make in inputs:
                probs = torch.softmax(model(make()).float(), dim=-1)[0]
                rows[(i, source, mask)] = (int(probs.argmax()), float(probs.max()), float(probs[label]))
    return rows


def run(quick: bool = False) -> Figure:
    cfg = preset("tiny")
    torch.manual_seed(0)
    model = build_model(cfg, 10).eval()
    generator = build_generator(K, cfg).eval()
    n_clips, pool, rounds = (1, 4, 1) if quick else (2, 48, 2)
    data = SyntheticMotionDataset("test", per_class=1, size=cfg.data.crop_size)
    clips = torch.stack([data[i]["clip"] for i in range(n_clips)])
    labels = [data.labels[i] for i in range(n_clips)]
    plan = Plan.build(num_frames=16, ks=(K,), pools={K: candidates(K, pool, 16, seed=0)}, pixel_ks=(), num_clips=n_clips,
                      shard_size=n_clips)
    evaluations = n_clips * plan.inputs_per_clip()
    batch = cfg.analysis.batch_size

    results = {}

    def engine():
        results["engine"] = evaluate_clips(model, clips, labels, range(n_clips), plan, {K: generator}, batch_size=batch)

    def naive():
        results["naive"] = naive_rows(model, generator, clips, labels, plan)

    mm, mm_flops = matmul()
    times = alternate({"engine": engine, "naive": naive, "matmul": mm}, rounds)
    table, reference = results["engine"], results["naive"]
    got = {(int(table.clip[r]), ("original", "replicate", "generator")[int(table.source[r])], int(table.mask[r])):
           float(table.max_prob[r]) for r in range(len(table))}
    assert set(got) == set(reference), "engine and naive loop evaluated different inputs"
    worst = max(abs(got[key] - reference[key][1]) for key in reference)

    engine_rate, naive_rate = evaluations / median(times["engine"]), evaluations / median(times["naive"])
    flops = model_flops(model, 16, cfg.data.crop_size, cfg.data.crop_size).total
    gen_flops = generator_flops(generator, cfg.data.crop_size, cfg.data.crop_size).total
    per_eval = flops + gen_flops * (plan.inputs_per_clip() - 2) / plan.inputs_per_clip()  # 2 inputs need no generator
    peak = mm_flops / median(times["matmul"])
    return Figure(
        key="engine_vs_naive", title="analysis engine vs naive batch-1 loop (tiny, candidate evals/s)",
        ratio=engine_rate / naive_rate, target=TARGET, rule="at_least",
        detail={"engine_evals_per_s": round(engine_rate, 2), "naive_evals_per_s": round(naive_rate, 2),
                "round_ratios": spread(times["naive"], times["engine"]), "rounds": rounds, "clips": n_clips,
                "inputs_per_clip": plan.inputs_per_clip(), "engine_batch_size": batch,
                "max_abs_diff_max_prob": worst, "gflop_per_eval": round(per_eval / 1e9, 4),
                "engine_gflop_per_s": round(engine_rate * per_eval / 1e9, 2),
                "naive_gflop_per_s": round(naive_rate * per_eval / 1e9, 2), "matmul_gflop_per_s": round(peak / 1e9, 2),
                # The most any engine could gain here: every FLOP at matmul speed, against the naive loop.
                "ceiling_ratio_at_matmul_speed": round(peak / per_eval / naive_rate, 2)})
