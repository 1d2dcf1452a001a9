"""(f) What the trustworthy-bound work costs, each a ratio to today's analysis measured in the same run (tiny).

Today's analysis is the one before that work: max response over generated candidates, the uniform subset
replicated, no temporal probes, scored against the labels. The `tiny` preset's analysis as `make demo`
runs it (setups.tiny_setup: k = 1, 2, 4, 8, 48 candidates, the embedded benchmark's first clips):

    motion_free_methods  the replicated pool at every k (analysis.replicate_candidates, what the
                         motion-free methods beyond max response read): engine time with it / without it
                                                                                          target <= 1.3
    probes               the classic temporal probes (one severity per family, the default before
                         grading, motionprobe.probes.CLASSIC): analysis time with them / with
                         probes=()                                                        target <= 1.15
    graded_probes        every graded probe shown on the clip itself (10: shuffle windows, reverse,
                         freeze shares, speed ×0.25, ×0.5) / probes=()                    target <= 1.25
    stride_curve         the default (DEFAULT_PROBES: the 10 and the clip read at 2, 4, 8, 16 times its
                         stride, the sped-up probes and the stride curve, each read drawn or decoded
                         from the video) / probes=()                                      target <= 1.35
    agreement_target     scoring against the original clip's prediction as well as the label:
                         analysis time with target="both" / target="label"                target 1.0 ± 10%

The probe figures' details also count, for each preset's analysis plan, the model passes per clip without
and with those probes (`inputs_per_clip`): the share a probe set adds where no analysis was timed (the
`real` preset's I3D plan is small, so there the same probes cost a larger share).

The last four are keywords of `motionprobe.analysis.analyze`, each a row of FEATURES (keyword, the value
that switches it on, the value of today's analysis); the baseline runs every feature's "off" value and
each feature's run switches that one on, alternately (today, probes, agreement, repeated). Their figure
is the ratio of the process's CPU seconds (medians): on a shared machine the wall time also counts the
other processes' load, CPU time does not; the wall-time ratio is kept beside it (`wall_ratio`). A keyword
that `analyze` does not take gives the figure "not measured: feature not present" and nothing is run
for it; a value it refuses is reported as refused (the smoke test fails on both, so the row is fixed
before a user meets a broken benchmark).

The replicated pool has no switch (every analysis evaluates it), so its figure is measured on the engine
(`evaluate_clips` on the same clips and networks, alternately): A = the plan `analyze` builds (the
generated pool and the replicated pool at every k), C = the replicated pool alone, D = only the uniform subset
replicated (what today's engine replicated). Today's engine time is A − C + D, the figure A / (A − C + D);
the selectors and statistics that read the replicated rows are not in it.
"""

from __future__ import annotations

import inspect
import itertools
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from motionprobe.analysis import Plan, analyze, evaluate_clips
from motionprobe.config import Config, preset
from motionprobe.errors import ConfigError, UserError
from motionprobe.probes import CLASSIC, DEFAULT_PROBES, PROBE, variants
from motionprobe.selection import candidates, uniform_subset

from .common import Figure, alternate, median, seconds, spread
from .setups import ANALYSIS_SETTINGS, AnalysisSetup, Networks, tiny_setup

NOT_PRESENT = "not measured: feature not present"


@dataclass(frozen=True)
class Feature:
    key: str
    title: str
    keyword: str  # the `analyze` keyword that switches it
    on: Any  # the value that switches it on
    off: Any  # the value of today's analysis
    target: float
    rule: str
    tolerance: float = 0.0


ON_CLIP = tuple(name for name in DEFAULT_PROBES if PROBE[name].read == 1)  # no read of the video
FEATURES = (
    Feature("probes", "classic temporal probes (6) / today's analysis (tiny, time)", "probes", CLASSIC, (), 1.15,
            "at_most"),
    Feature("graded_probes", "graded probes on the clip (10) / today's analysis (tiny, time)", "probes", ON_CLIP, (),
            1.25, "at_most"),
    Feature("stride_curve", "graded probes + stride curve (14, default) / today's (tiny, time)", "probes",
            DEFAULT_PROBES, (), 1.35, "at_most"),
    Feature("agreement_target", "agreement target / today's analysis (tiny, time)", "target", "both", "label",
            1.0, "within", 0.10),
)
MOTION_FREE = dict(key="cost_motion_free_methods", title="replicated pool (motion-free methods) / today's engine (tiny)",
                   target=1.3, rule="at_most")


@dataclass(frozen=True)
class Sizes:
    clips: int
    rounds: int


SIZES = {"full": Sizes(clips=4, rounds=3), "quick": Sizes(clips=1, rounds=1)}


def present(feature: Feature) -> bool:
    """Whether `analyze` takes the feature's keyword, itself or among its settings (the analysis section)."""
    return feature.keyword in inspect.signature(analyze).parameters or feature.keyword in ANALYSIS_SETTINGS


def measure(setup: AnalysisSetup, features: Sequence[Feature], rounds: int, out: Path,
            nets: Networks | None = None) -> list[Figure]:
    """One figure per keyword feature: its analysis time over today's, or why it was not measured."""
    nets = nets or setup.networks()
    folders = (out / f"run{i}" for i in itertools.count())
    baseline = {f.keyword: f.off for f in features if present(f)}
    cpu: dict[str, list[float]] = {}  # the process's CPU seconds per call: what other processes' load leaves alone

    def call(name: str, **switched: Any):
        def run() -> None:
            start = time.process_time()
            setup.analyze(next(folders), nets, **{**baseline, **switched})
            cpu.setdefault(name, []).append(time.process_time() - start)
        return run

    calls = {"today": call("today"), **{f.key: call(f.key, **{f.keyword: f.on}) for f in features if present(f)}}
    if len(calls) == 1:
        return [_figure(f, setup, {}, {}, rounds, NOT_PRESENT) for f in features]
    # No untimed warm-up (each call is an analysis of seconds): the first round is today's and each
    # feature's first call, which also tells whether analyze accepts the feature's value.
    times: dict[str, list[float]] = {"today": [seconds(calls["today"])]}
    refused: dict[str, str] = {}
    for f in features:
        if f.key in calls:
            try:
                times[f.key] = [seconds(calls[f.key])]
            except (ConfigError, UserError, TypeError, ValueError) as e:
                refused[f.key] = f"not measured: analyze refused {f.keyword}={f.on!r}: {str(e).splitlines()[0]}"
    if rounds > 1:
        for name, more in alternate({name: calls[name] for name in times}, rounds - 1, warmup=False).items():
            times[name] += more
    return [_figure(f, setup, times, cpu, rounds, refused.get(f.key, NOT_PRESENT)) for f in features]


def _figure(f: Feature, setup: AnalysisSetup, times: dict[str, list[float]], cpu: dict[str, list[float]], rounds: int,
            why: str) -> Figure:
    """The feature's figure: its process CPU time over today's (wall time on a shared machine counts the other
    processes' load; CPU time does not), the wall-time ratio beside it."""
    base = {"key": f"cost_{f.key}", "title": f.title, "target": f.target, "rule": f.rule, "tolerance": f.tolerance}
    detail = {"keyword": f.keyword, "on": f.on, "off": f.off, "clips": len(setup.make_dataset()), "setup": setup.name}
    if f.key not in times:
        return Figure(ratio=None, status=why, detail=detail, **base)
    detail.update({"seconds": {"today": round(median(times["today"]), 3), "with": round(median(times[f.key]), 3)},
                   "wall_ratio": round(median(times[f.key]) / median(times["today"]), 4),
                   "cpu_seconds": {"today": round(median(cpu["today"]), 3), "with": round(median(cpu[f.key]), 3)},
                   "round_ratios": spread(cpu[f.key], cpu["today"]), "rounds": rounds})
    if f.keyword == "probes":
        detail["inputs_per_clip"] = {name: preset_inputs(preset(name), f.on) for name in ("tiny", "paper", "real")}
    return Figure(ratio=median(cpu[f.key]) / median(cpu["today"]), detail=detail, **base)


def preset_inputs(cfg: Config, probes: Sequence[str]) -> dict[str, int]:
    """Model passes per clip of a preset's analysis plan (a generator at every k, a pixel one at k = 1), without the
    probes and with them."""
    t, ks = cfg.data.num_frames, tuple(cfg.analysis.ks)

    def plan(names: Sequence[str]) -> Plan:
        return Plan.build(num_frames=t, ks=ks, pools={k: candidates(k, cfg.analysis.candidates, t, cfg.seed) for k in ks},
                          replicate_pools={k: candidates(k, cfg.analysis.replicate_candidates, t, cfg.seed) for k in ks},
                          generator_ks=ks, pixel_ks=(1,) if 1 in ks else (), num_clips=1, shard_size=1,
                          probes=[(n, variants(n, cfg.analysis.probe_draws)) for n in names])

    return {"without": plan(()).inputs_per_clip(), "with": plan(probes).inputs_per_clip()}


def replicated_pool(setup: AnalysisSetup, nets: Networks, rounds: int) -> Figure:
    """Engine time with the pool replicated at every k over the engine time with only the uniform subset replicated."""
    cfg, ks = setup.cfg, setup.ks
    t = cfg.data.num_frames
    dataset = setup.make_dataset()
    n = len(dataset)
    clips = torch.stack([dataset[i]["clip"] for i in range(n)])
    labels = list(dataset.labels)
    pools = {k: candidates(k, setup.candidates, t, cfg.seed) for k in ks}
    # the replicated pool at the analysis' own size (analysis.replicate_candidates), as `analyze` builds it
    replicated = {k: candidates(k, cfg.analysis.replicate_candidates, t, cfg.seed) for k in ks}
    uniform = {k: [uniform_subset(k, t)] for k in ks}
    plans = {"A": Plan.build(num_frames=t, ks=ks, pools=pools, replicate_pools=replicated, generator_ks=ks,
                             pixel_ks=setup.pixel_ks, num_clips=n, shard_size=n),
             "C": Plan.build(num_frames=t, ks=ks, pools=replicated, num_clips=n, shard_size=n),
             "D": Plan.build(num_frames=t, ks=ks, pools=uniform, num_clips=n, shard_size=n)}

    def engine(name: str):
        generators = (nets.generators, nets.pixel_generators) if name == "A" else ({}, {})
        return lambda: evaluate_clips(nets.model, clips, labels, range(n), plans[name], *generators,
                                      batch_size=cfg.analysis.batch_size, seed=cfg.seed)

    times = alternate({name: engine(name) for name in plans}, rounds, warmup=False)
    a, c, d = (median(times[name]) for name in "ACD")
    today = [ta - tc + td for ta, tc, td in zip(times["A"], times["C"], times["D"], strict=True)]
    return Figure(ratio=a / (a - c + d), detail={
        "seconds": {"A_as_analyze_runs": round(a, 3), "C_pool_replicated_alone": round(c, 3),
                    "D_uniform_replicated_alone": round(d, 3), "today_A_minus_C_plus_D": round(a - c + d, 3)},
        "inputs_per_clip": {name: plan.inputs_per_clip() for name, plan in plans.items()},
        "round_ratios": spread(times["A"], today), "rounds": rounds, "clips": n, "setup": setup.name,
        "ks": list(ks), "candidates": str(setup.candidates),
        "replicate_candidates": str(cfg.analysis.replicate_candidates)}, **MOTION_FREE)


def run(quick: bool = False) -> list[Figure]:
    sizes = SIZES["quick" if quick else "full"]
    setup = tiny_setup(sizes.clips)
    nets = setup.networks()
    with tempfile.TemporaryDirectory(prefix="motionprobe-bench-") as tmp:
        return [replicated_pool(setup, nets, sizes.rounds), *measure(setup, FEATURES, sizes.rounds, Path(tmp), nets)]
