"""(b) The analysis end to end, in FLOP/s, against this machine's dense matmul FLOP/s measured in the same run.

One `analyze` call is timed whole, with the library's defaults (the temporal probes included): clips
loaded (drawn, or read from the frame cache), every input through its generator and the model, the
selectors, the statistics, the table shards, per_class.csv, per_clip.csv, candidates.csv.gz and
results.json written. Its FLOPs are the work that ran, counted as it ran (setups.Work: clips through each
network, times each network's FLOPs per clip from torch's FlopCounterMode; convolutions and matrix
products, a multiply-add is 2 FLOPs):

    end-to-end FLOP/s = Σ_networks clips through it · F(network) / seconds of `analyze`

and the figure is that over the FLOP/s of an fp32 2048×2048 matrix product timed alternately with it
(the same threads and dtype: the engine's CPU precision). Three sizes (setups.py): the `tiny` preset as
`make demo` analyses (reported, no target), the `paper` preset (C3D at 112×112×16, the 9-block generator)
on UCF101-sized videos through the frame cache (target ≥ 0.7), and Inception-I3D at 16×224×224 with the
generator at 224×224 (reported). At the video sizes the plan is k = 1 with all 16 candidates (each
replicated and generated) rather than the paper's four k's, which would take minutes per clip here; it
keeps about the paper plan's mix of model forwards and generated clips (3 : 1 here, 2 : 1 there).

Where the time goes: each round also times the model alone and the generator alone (largest k) on a
batch (tiny: the engine's 128; video sizes: `component_batch`), fp32, inference mode, channels_last_3d
as the engine feeds it. `detail.model_alone_vs_matmul` and `generator_alone_vs_matmul` are their rates
over the matmul's, and `share_outside_networks` is the part of the analysis's time the networks at those
rates would not take: loading, gathering frames, selectors, statistics and writes.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .common import Figure, alternate, matmul, median, spread
from .flops import generator_flops, model_flops, paper_models, torch_counts_for_paper_models
from .setups import (
    AnalysisSetup,
    Networks,
    Work,
    i3d_config,
    paper_config,
    tiny_setup,
    video_setup,
    videos_for,
    write_videos,
)

TARGET = 0.7


@dataclass(frozen=True)
class Sizes:
    tiny_clips: int
    paper_clips: int
    i3d_clips: int
    video_candidates: int | str  # the k = 1 pool at the video sizes
    probe_draws: int | None  # draws of each random temporal probe (None: analyze's default)
    component_batch: int  # inputs per timed call of the model or generator alone at the video sizes
    rounds: int


SIZES = {"full": Sizes(tiny_clips=12, paper_clips=1, i3d_clips=1, video_candidates="all", probe_draws=None,
                       component_batch=4, rounds=2),
         "quick": Sizes(tiny_clips=2, paper_clips=1, i3d_clips=1, video_candidates=1, probe_draws=1,
                        component_batch=1, rounds=1)}


def component_calls(setup: AnalysisSetup, nets: Networks, batch: int) -> tuple[dict, str]:
    """The model alone and the largest k's generator alone on `batch` inputs, as the engine calls them
    (inference mode, channels_last_3d clips); and that generator's name in `Work`."""
    t, s = setup.cfg.data.num_frames, setup.size
    k = max(nets.generators)
    clip = torch.rand(batch, 3, t, s, s).contiguous(memory_format=torch.channels_last_3d)
    frames = torch.rand(batch, 3, k, s, s)
    indices = torch.tensor([[round(i * t / k) for i in range(k)]] * batch)

    def model() -> None:
        with torch.inference_mode():
            nets.model(clip)

    def generator() -> None:
        with torch.inference_mode():
            nets.generators[k](frames, indices)

    return {"model": model, "generator": generator}, f"generator k={k}"


def measure(setup: AnalysisSetup, clips: int, component_batch: int, rounds: int, out: Path) -> dict:
    """Seconds of `analyze`, of the matmul and of the components, alternately; FLOP/s of each."""
    nets = setup.networks()
    work = Work(setup, nets)
    components, generator = component_calls(setup, nets, component_batch)
    folders = (out / f"run{i}" for i in itertools.count())
    rows: list[dict[str, int]] = []

    def analysis() -> None:
        rows.append(work.measure(lambda: setup.analyze(next(folders), nets)))

    mm, mm_flops = matmul()
    # No untimed warm-up: the first call's extra cost (allocations, oneDNN's kernel choice) is a small part of
    # an analysis of seconds; the per-round ratios show it if not.
    times = alternate({"analysis": analysis, "matmul": mm, **components}, rounds, warmup=False)
    if any(r != rows[0] for r in rows):
        raise RuntimeError(f"{setup.name}: the analyses of one setup did different work: {rows}")
    total = work.flops(rows[0])
    seconds = median(times["analysis"])
    engine, peak = total / seconds, mm_flops / median(times["matmul"])
    rates = {"model": component_batch * work.flops_per_row["model"] / median(times["model"]),
             generator: component_batch * work.flops_per_row[generator] / median(times["generator"])}
    # Seconds the networks would take at the component rates (every generator at the largest k's rate).
    inside = sum(n * work.flops_per_row[name] / rates["model" if name == "model" else generator]
                 for name, n in rows[0].items())
    return {"setup": setup.name, "clips": clips, "classes": setup.num_classes, "arch": setup.cfg.model.arch,
            "input": f"3x{setup.cfg.data.num_frames}x{setup.size}x{setup.size}", "ks": list(setup.ks),
            "candidates": str(setup.candidates), **work.summary(rows[0], clips), "rounds": rounds,
            "analysis_seconds": round(seconds, 3), "engine_gflop_per_s": round(engine / 1e9, 2),
            "matmul_gflop_per_s": round(peak / 1e9, 2),
            "round_ratios": spread([total / t for t in times["analysis"]], [mm_flops / t for t in times["matmul"]]),
            "component_batch": component_batch,
            "model_alone_vs_matmul": round(rates["model"] / peak, 4),
            "generator_alone_vs_matmul": round(rates[generator] / peak, 4),
            "seconds_in_networks_at_component_rates": round(inside, 3),
            "share_outside_networks": round(1 - inside / seconds, 4), "ratio": engine / peak}


def check_counts() -> dict:
    """The paper C3D (101 classes) and generator FLOPs by layer shapes (benchmarks/flops.py) vs FlopCounterMode."""
    with torch.device("meta"):
        model, gen = paper_models()
    counted = torch_counts_for_paper_models()
    return {"c3d_gflop_analytic": round(model_flops(model, 16, 112, 112).total / 1e9, 4),
            "c3d_gflop_flop_counter": round(counted[0] / 1e9, 4),
            "generator_gflop_analytic": round(generator_flops(gen, 112, 112).total / 1e9, 4),
            "generator_gflop_flop_counter": round(counted[1] / 1e9, 4)}


def run(quick: bool = False) -> list[Figure]:
    sizes = SIZES["quick" if quick else "full"]
    figures = []
    with tempfile.TemporaryDirectory(prefix="motionprobe-bench-") as tmp:
        root = Path(tmp)
        videos = root / "videos"
        write_videos(videos, videos_for(max(sizes.paper_clips, sizes.i3d_clips)))
        tiny = tiny_setup(sizes.tiny_clips, probe_draws=sizes.probe_draws)
        plans = [(tiny, sizes.tiny_clips, tiny.cfg.analysis.batch_size),
                 (video_setup("paper", paper_config(), videos, sizes.paper_clips, (1,), sizes.video_candidates,
                              sizes.probe_draws), sizes.paper_clips, sizes.component_batch),
                 (video_setup("i3d", i3d_config(), videos, sizes.i3d_clips, (1,), sizes.video_candidates,
                              sizes.probe_draws), sizes.i3d_clips, sizes.component_batch)]
        for setup, clips, component_batch in plans:
            name = setup.name
            detail = measure(setup, clips, component_batch, sizes.rounds, root / name)
            ratio = detail.pop("ratio")
            title = {"tiny": "engine end to end FLOP/s / matmul FLOP/s (tiny, 32x32x16)",
                     "paper": "engine end to end FLOP/s / matmul FLOP/s (paper C3D, 112x112x16)",
                     "i3d": "engine end to end FLOP/s / matmul FLOP/s (I3D, 224x224x16)"}[name]
            if name == "paper":
                detail["flop_counts"] = check_counts()
            figures.append(Figure(key=f"end_to_end_{name}", title=title, ratio=ratio,
                                  target=TARGET if name == "paper" else None,
                                  rule="at_least" if name == "paper" else "none", detail=detail))
    return figures
