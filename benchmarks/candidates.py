"""(e) Time per clip with all C(16, 4) = 1,820 candidates vs with 48, at k = 4.

With no fixed cost per candidate the time grows with the candidates: 1820/48 = 37.9 (the target,
±10%). Each clip also costs two inputs that do not depend on the pool (the original clip and the
uniform subset replicated) and the uniform subset joins the pool when not drawn, so the input count
ratio is (1 + 1 + 1820) / (1 + 1 + 49) = 35.7, 6% under 37.9; the per-input time ratio is reported too
(1.0 means no overhead per candidate at all). Both sides evaluate about as many inputs (one clip with
all candidates, 36 clips with 48), as a real shard of many clips fills its batches with either pool.

The engine (`evaluate_clips`) runs the tiny preset's architectures (C3D at 1/8 width, the generator
at half the tiny width: ngf 8) at 16×16 pixels (--quick: narrower still): cheap models expose any
per-candidate overhead in the engine more, not less, than big ones do.
"""

from __future__ import annotations

import torch

from motionprobe.analysis import Plan, evaluate_clips
from motionprobe.config import preset
from motionprobe.data.synthetic import CLASSES, SyntheticMotionDataset
from motionprobe.generator import build_generator
from motionprobe.models.registry import build_model
from motionprobe.selection import candidates

from .common import Figure, alternate, median, spread

K = 4
ALL, SAMPLED = 1820, 48
TOLERANCE = 0.10


def run(quick: bool = False) -> Figure:
    # As many inputs on each side (1 clip × 1822 vs 36 clips × 51), so batches are as full on both.
    size, clips_all, clips_sampled, rounds = 16, 1, (2 if quick else 36), (1 if quick else 5)
    cfg = preset("tiny")
    cfg.data.crop_size, cfg.data.resize = size, (size, size)
    cfg.generator.ngf = 8  # half the tiny generator's width: shorter calls, so more alternating rounds fit
    if quick:
        cfg.model.width, cfg.model.fc_dim, cfg.generator.ngf, cfg.generator.n_blocks = 1 / 16, 32, 4, 1
    torch.manual_seed(0)
    model = build_model(cfg, len(CLASSES)).eval()
    generator = build_generator(K, cfg).eval()
    data = SyntheticMotionDataset("test", per_class=-(-clips_sampled // len(CLASSES)), size=size)
    clips = torch.stack([data[i]["clip"] for i in range(clips_sampled)])
    labels = [data.labels[i] for i in range(clips_sampled)]
    plans = {name: Plan.build(num_frames=16, ks=(K,), pools={K: candidates(K, pool, 16, seed=0)}, pixel_ks=(),
                              num_clips=n, shard_size=n)
             for name, pool, n in (("all", "all", clips_all), ("sampled", SAMPLED, clips_sampled))}
    assert len(plans["all"].pools[K]) == ALL and len(plans["sampled"].pools[K]) == SAMPLED

    def job(name: str):
        n = plans[name].num_clips
        return lambda: evaluate_clips(model, clips[:n], labels[:n], range(n), plans[name], {K: generator},
                                      batch_size=cfg.analysis.batch_size)

    # Seconds per call: a first-call overhead (milliseconds) does not matter, so no untimed warm-up.
    times = alternate({"sampled": job("sampled"), "all": job("all")}, rounds, warmup=False)
    per_clip = {name: [t / plans[name].num_clips for t in ts] for name, ts in times.items()}
    inputs = {name: plan.inputs_per_clip() for name, plan in plans.items()}
    ratio = median(per_clip["all"]) / median(per_clip["sampled"])
    return Figure(key="all_vs_48_candidates", title="time per clip: all 1820 vs 48 candidates at k=4 (engine)",
                  ratio=ratio, target=ALL / SAMPLED, rule="within", tolerance=TOLERANCE,
                  detail={"seconds_per_clip": {name: round(median(v), 4) for name, v in per_clip.items()},
                          "round_ratios": spread(per_clip["all"], per_clip["sampled"]), "rounds": rounds,
                          "inputs_per_clip": inputs, "input_ratio": round(inputs["all"] / inputs["sampled"], 4),
                          "per_input_time_ratio": round(ratio / (inputs["all"] / inputs["sampled"]), 4),
                          "pixels": f"{size}x{size}", "model_width": cfg.model.width, "generator_ngf": cfg.generator.ngf,
                          "clips": {"all": clips_all, "sampled": clips_sampled}})
