"""(e) Time per clip with all C(16, 4) = 1,820 candidates vs with 48, at k = 4.

With no fixed cost per candidate the time grows with the candidates: 1820/48 = 37.9 (the target,
±10%). The engine evaluates every candidate twice (replicated and generated), the uniform subset joins
the pool when not drawn, and the original clip does not depend on the pool, so the input count ratio
is (1 + 2·1820) / (1 + 2·49) = 36.8, 3% under 37.9 (`detail.input_ratio`, from the engine's plan); the
per-input time ratio is reported too (1.0 means no overhead per candidate at all). Both sides evaluate
about as many inputs (one clip with all candidates, 36 clips with 48), as a real shard of many clips
fills its batches with either pool.

The engine (`evaluate_clips`) runs the tiny preset's architectures (C3D at 1/8 width, built for the
dataset's classes; the generator at half the tiny width: ngf 8) at 16×16 pixels: cheap models expose
any per-candidate overhead in the engine more, not less, than big ones do. `--quick` evaluates fewer
clips and rounds of the same construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from motionprobe.analysis import Plan, evaluate_clips
from motionprobe.config import preset
from motionprobe.data import build_dataset
from motionprobe.generator import build_generator
from motionprobe.models.registry import build_model
from motionprobe.selection import candidates

from .common import Figure, alternate, median, spread
from .setups import FirstClips

K = 4
ALL, SAMPLED = 1820, 48
TOLERANCE = 0.10
SIZE = 16  # pixels: cheap models expose any per-candidate overhead of the engine more, not less


@dataclass(frozen=True)
class Sizes:
    clips_all: int
    clips_sampled: int  # as many inputs as the `all` side: 36 clips × 51 ≈ 1 × 1822
    rounds: int


SIZES = {"full": Sizes(clips_all=1, clips_sampled=36, rounds=5), "quick": Sizes(clips_all=1, clips_sampled=2, rounds=1)}


def run(quick: bool = False) -> list[Figure]:
    sizes = SIZES["quick" if quick else "full"]
    cfg = preset("tiny")
    cfg = cfg.evolve(data={"crop_size": SIZE, "resize": (SIZE, SIZE)})
    cfg = cfg.evolve(generator={"ngf": 8})  # half the tiny generator's width: shorter calls, so more alternating rounds fit
    dataset = FirstClips(build_dataset(cfg.data, "test", training=False, seed=cfg.seed), sizes.clips_sampled)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, cfg.data, len(dataset.classes)).eval()
    generator = build_generator(K, cfg.generator, cfg.data.num_frames).eval()
    clips = torch.stack([dataset[i]["clip"] for i in range(sizes.clips_sampled)])
    labels = list(dataset.labels)
    plans = {name: Plan.build(num_frames=16, ks=(K,), pools={K: candidates(K, pool, 16, seed=cfg.seed)},
                              generator_ks=(K,), num_clips=n, shard_size=n)
             for name, pool, n in (("all", "all", sizes.clips_all), ("sampled", SAMPLED, sizes.clips_sampled))}
    assert len(plans["all"].pools[K]) == ALL and len(plans["sampled"].pools[K]) == SAMPLED

    def job(name: str):
        n = plans[name].num_clips
        return lambda: evaluate_clips(model, clips[:n], labels[:n], range(n), plans[name], {K: generator},
                                      batch_size=cfg.analysis.batch_size)

    # Seconds per call: a first-call overhead (milliseconds) does not matter, so no untimed warm-up.
    times = alternate({"sampled": job("sampled"), "all": job("all")}, sizes.rounds, warmup=False)
    per_clip = {name: [t / plans[name].num_clips for t in ts] for name, ts in times.items()}
    inputs = {name: plan.inputs_per_clip() for name, plan in plans.items()}
    ratio = median(per_clip["all"]) / median(per_clip["sampled"])
    return [Figure(key="all_vs_48_candidates", title="time per clip: all 1820 vs 48 candidates at k=4 (engine)",
                   ratio=ratio, target=ALL / SAMPLED, rule="within", tolerance=TOLERANCE,
                   detail={"seconds_per_clip": {name: round(median(v), 4) for name, v in per_clip.items()},
                           "round_ratios": spread(per_clip["all"], per_clip["sampled"]), "rounds": sizes.rounds,
                           "inputs_per_clip": inputs, "input_ratio": round(inputs["all"] / inputs["sampled"], 4),
                           "per_input_time_ratio": round(ratio / (inputs["all"] / inputs["sampled"]), 4),
                           "pixels": f"{SIZE}x{SIZE}", "model_width": cfg.model.width,
                           "generator_ngf": cfg.generator.ngf, "classes": len(dataset.classes),
                           "clips": {"all": sizes.clips_all, "sampled": sizes.clips_sampled}})]
