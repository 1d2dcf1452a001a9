"""The GPU check: one unattended command that runs motionprobe's whole method and measures it on one CUDA GPU
in about 10 minutes.

    python -m benchmarks.gpu_stages --prepare .gpu-inputs   # here, once: the real-video stage's inputs
    python -m benchmarks.gpu --out gpu.json                  # on a machine with a CUDA GPU
    python -m benchmarks.gpu --dry-run --out x.json          # every stage on this CPU at tiny sizes (make test)

It needs torch (CUDA build), numpy, safetensors, pyyaml, tqdm, matplotlib and pillow, run from the repository's
root; no PyAV, no datasets (the planted truth is rendered in memory, the real clips come prepared). Stages, in
order, the most informative first, each printed with its time and written to the JSON as soon as it ends, so a
run cut short still leaves every finished stage:

    device            the GPU, its memory and multiprocessors; torch, CUDA and cuDNN versions and flags
    matmul            dense matrix products: bf16 8192³ (the engine's precision under autocast) and fp32
    paper_pipeline    the `paper` preset end to end on the embedded benchmark at 112×112 with the planted-truth
                      checks (benchmarks/gpu_stages.py)
    real_video        I3D on held-out real clips, flow generators trained on the GPU on other videos, the
                      held-out lifts over replication (benchmarks/gpu_stages.py; skipped without .gpu-inputs)
    generator_step    one paper-size generator training step as training/generator.py takes it (k = 4,
                      batch 8, perceptual loss at C3D's conv1-conv5, Adam; fp32, as the trainer keeps
                      the loss): seconds, FLOP/s (forward and backward, FlopCounterMode)
    engine_48         `analyze` on 256 paper-size clips at k = 4 with 48 candidates, device cuda: end-to-end
                      FLOP/s (the work counted as it runs, setups.Work) / bf16 matmul, peak memory
    c3d_forward       paper C3D (101 classes) at 112×112×16, batch 32, bf16 autocast, channels_last_3d,
                      inference mode: FLOP/s / bf16 matmul FLOP/s; again with cudnn.benchmark on
    i3d_forward       Inception-I3D (400 classes) at 224×224×16, batch 16, the same
    engine_all        the same as engine_48 with all 1,820 candidates: one clip first, then as many clips (up
                      to 64, 36× a 48-candidate clip's work each) as the time left allows
    engine_vs_naive   figure (a) of `make bench`, the engine vs a batch-1 loop, on the GPU

and last the paper-scale estimate (benchmarks/paper_estimate.py) from the measured FLOP/s.
`--budget-s` (default 600) bounds the whole run: a stage that would start with less time left than it
needs is skipped, one that runs past the budget is stopped (SIGALRM), and both are recorded as such.
The exit status is 1 when a stage failed, else 0.

Peak GPU memory per stage is torch.cuda.max_memory_allocated after a reset at the stage's start.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motionprobe.config import Config, preset
from motionprobe.generator import build_generator, build_loss, take_frames, training_subsets
from motionprobe.io import atomic_write_json, code_version
from motionprobe.models.registry import build_model

from . import engine_throughput, gpu_stages, paper_estimate
from .common import machine, median, seconds
from .flops import counted_by_torch
from .setups import AnalysisSetup, FirstClips, RandomClips, Work

SCHEMA = "motionprobe.gpu-check/1"
STARTED = time.perf_counter()  # the budget counts from the process's start: imports and CUDA start-up are in it


@dataclass(frozen=True)
class Sizes:
    preset: str
    crop: int | None  # the preset's crop (and C3D's input side) when None
    k: int  # given frames in the generator step and the engine stages
    c3d_batch: int
    i3d_size: int
    i3d_width: float
    i3d_batch: int
    generator_batch: int
    engine_clips: int  # clips of the 48-candidate analysis
    all_clips: int  # at most this many clips for the all-candidates analysis
    min_seconds: float  # each throughput measurement repeats for at least this long (and 3 times)
    max_repeats: int


SIZES = {"gpu": Sizes("paper", crop=None, k=4, c3d_batch=32, i3d_size=224, i3d_width=1.0, i3d_batch=16, generator_batch=8,
                      engine_clips=256, all_clips=64, min_seconds=3.0, max_repeats=50),
         # The dry run: the same stages on the tiny preset at 16×16 pixels and k = 2 (C(16, 2) = 120 candidates
         # for "all"), seconds on two CPU cores.
         "dry": Sizes("tiny", crop=16, k=2, c3d_batch=2, i3d_size=16, i3d_width=0.125, i3d_batch=2, generator_batch=2,
                      engine_clips=2, all_clips=2, min_seconds=0.0, max_repeats=3)}


class StageTimeout(Exception):
    """The time budget ran out inside a stage."""


@dataclass
class Check:
    """What every stage needs: the device, the sizes, the budget and the results so far (written as they grow)."""

    device: torch.device
    sizes: Sizes
    budget_s: float
    out: Path
    work_dir: Path
    results: dict[str, Any]
    real_inputs: Path = gpu_stages.INPUTS

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def config(self) -> Config:
        cfg = preset(self.sizes.preset)
        if self.sizes.crop is not None:
            cfg = cfg.evolve(data={"crop_size": self.sizes.crop, "resize": (self.sizes.crop, self.sizes.crop)})
        return cfg

    def left(self) -> float:
        return self.budget_s - (time.perf_counter() - STARTED)

    def save(self) -> None:
        self.results["finished"] = _now()
        atomic_write_json(self.out, self.results)

    def autocast(self) -> torch.autocast:
        """bf16 autocast on CUDA, as the engine runs inference; fp32 elsewhere."""
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.cuda)

    def reset_memory(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()

    def peak_memory_gib(self) -> float | None:
        return round(torch.cuda.max_memory_allocated() / 2**30, 3) if self.cuda else None

    def repeat(self, fn: Callable[[], Any]) -> list[float]:
        """Seconds of `fn` (synchronized), after 2 untimed calls, at least 3 times and `min_seconds` long."""
        for _ in range(2):
            seconds(fn)
        times: list[float] = []
        start = time.perf_counter()
        while len(times) < 3 or (time.perf_counter() - start < self.sizes.min_seconds
                                 and len(times) < self.sizes.max_repeats):
            times.append(seconds(fn))
        return times

    def matmul_rate(self, key: str) -> float | None:
        return (self.results["stages"].get("matmul", {}).get(key) or 0) * 1e12 or None


# -- stages ---------------------------------------------------------------------------------------

def stage_device(c: Check) -> dict:
    info: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.version.cuda, "host": machine()}
    if c.cuda:
        p = torch.cuda.get_device_properties(c.device)
        info.update({"name": p.name, "memory_gib": round(p.total_memory / 2**30, 1),
                     "multiprocessors": p.multi_processor_count, "capability": f"{p.major}.{p.minor}",
                     "cudnn": torch.backends.cudnn.version(), "cudnn_benchmark": torch.backends.cudnn.benchmark,
                     "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
                     "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32})
    else:
        info["name"] = "cpu (dry run)"
    return info


def stage_matmul(c: Check) -> dict:
    """Dense n×n products, `repeat` per timed call (one 8192³ bf16 product takes ~1.4 ms on an H100: too short
    to time alone)."""
    n, repeat = (8192, 20) if c.cuda else (1024, 1)
    out = {"n": n, "products_per_call": repeat}
    for key, dtype in (("bf16_tflop_per_s", torch.bfloat16), ("fp32_tflop_per_s", torch.float32)):
        if not c.cuda:
            dtype = torch.float32  # the CPU engine runs fp32: the dry run's "engine precision" is fp32
        a, b = (torch.rand(n, n, device=c.device, dtype=dtype) for _ in range(2))

        def products(a: torch.Tensor = a, b: torch.Tensor = b) -> None:
            for _ in range(repeat):
                a @ b

        out[key] = _sig(2 * n**3 * repeat / median(c.repeat(products)) / 1e12)
    return out


def _forward(c: Check, cfg: Config, classes: int, batch: int) -> dict:
    """Throughput of one model's inference forward as the engine runs it (autocast, channels_last_3d)."""
    t, s = cfg.data.num_frames, cfg.data.crop_size
    with torch.device("meta"):
        flops = counted_by_torch(build_model(cfg.model, cfg.data, classes), torch.empty(1, 3, t, s, s))
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.data, classes).eval().to(c.device)
    x = torch.rand(batch, 3, t, s, s, device=c.device).contiguous(memory_format=torch.channels_last_3d)

    def forward() -> None:
        with torch.inference_mode(), c.autocast():
            model(x)

    c.reset_memory()
    result: dict[str, Any] = {"arch": cfg.model.arch, "input": f"{batch}x3x{t}x{s}x{s}", "classes": classes,
                              "gflop_per_clip": round(flops / 1e9, 3), "dtype": "bf16 autocast" if c.cuda else "fp32"}
    peak = c.matmul_rate("bf16_tflop_per_s")
    previous = torch.backends.cudnn.benchmark
    try:
        for label, bench in (("", False), ("_cudnn_benchmark", True)):
            torch.backends.cudnn.benchmark = bench
            rate = batch * flops / median(c.repeat(forward))
            result[f"tflop_per_s{label}"] = _sig(rate / 1e12)
            result[f"clips_per_s{label}"] = round(rate / flops, 2)
            result[f"vs_matmul{label}"] = _sig(rate / peak) if peak else None
    finally:
        torch.backends.cudnn.benchmark = previous
    result["peak_memory_gib"] = c.peak_memory_gib()
    return result


def stage_c3d_forward(c: Check) -> dict:
    return _forward(c, c.config(), 101, c.sizes.c3d_batch)


def stage_i3d_forward(c: Check) -> dict:
    cfg = c.config()
    cfg = cfg.evolve(model={"arch": "i3d", "width": c.sizes.i3d_width})
    cfg = cfg.evolve(data={"crop_size": c.sizes.i3d_size})
    return _forward(c, cfg, 400, c.sizes.i3d_batch)


def stage_generator_step(c: Check) -> dict:
    """One step of training/generator.py's loop: generate from k frames, perceptual loss, backward, Adam."""
    cfg = c.config()
    g, t, s, b, k = cfg.generator, cfg.data.num_frames, cfg.data.crop_size, c.sizes.generator_batch, c.sizes.k
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.data, 101).to(c.device)
    criterion = build_loss("perceptual", model, cfg.generator)
    generator = build_generator(k, cfg.generator, cfg.data.num_frames).to(c.device).train()
    optimizer = torch.optim.Adam(generator.parameters(), lr=g.lr, betas=(g.beta1, g.beta2))
    clips = torch.rand(b, 3, t, s, s, device=c.device)
    indices = training_subsets(k, b, np.random.default_rng(0), t).to(c.device)

    def step() -> None:
        loss = criterion(generator(take_frames(clips, indices), indices), clips)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    c.reset_memory()
    step()
    flops = counted_by_torch(step, inference=False)
    times = c.repeat(step)
    rate = flops / median(times)
    bf16, fp32 = c.matmul_rate("bf16_tflop_per_s"), c.matmul_rate("fp32_tflop_per_s")
    return {"k": k, "batch": b, "input": f"3x{t}x{s}x{s}", "layers": list(criterion.layers),
            "dtype": "fp32" + (" (cuDNN may run convolutions in TF32, torch's default)" if c.cuda else ""),
            "seconds_per_step": round(median(times), 4), "clips_per_s": round(b / median(times), 2),
            "gflop_per_step": _sig(flops / 1e9), "tflop_per_s": _sig(rate / 1e12),
            "vs_fp32_matmul": _sig(rate / fp32) if fp32 else None,
            "vs_bf16_matmul": _sig(rate / bf16) if bf16 else None, "peak_memory_gib": c.peak_memory_gib()}


def _engine(c: Check, pool: int | str, clips: int, name: str, warm_up: bool = True) -> tuple[dict, float]:
    """`analyze` on `clips` random clips at k with `pool` candidates, after a 1-clip warm-up (cuDNN's start-up,
    allocations); (record, seconds per clip)."""
    cfg, k = c.config(), c.sizes.k
    t, s = cfg.data.num_frames, cfg.data.crop_size
    data = RandomClips(clips, t, s, 101)
    setup = AnalysisSetup(name, cfg, lambda: data, ks=(k,), candidates=pool)
    warm = AnalysisSetup(name, cfg, lambda: FirstClips(data, 1), ks=(k,), candidates=48)
    nets = setup.networks().to(c.device)
    work = Work(setup, nets)
    if warm_up:
        warm.analyze(c.work_dir / f"{name}-warm-{clips}", nets, device=str(c.device))
    c.reset_memory()
    rows: dict[str, int] = {}
    took = seconds(lambda: rows.update(work.measure(lambda: setup.analyze(c.work_dir / f"{name}-{clips}", nets,
                                                                            device=str(c.device)))))
    flops = work.flops(rows)
    peak = c.matmul_rate("bf16_tflop_per_s")
    record = {"clips": clips, "k": k, "candidates": str(pool), "batch_size": cfg.analysis.batch_size,
              **work.summary(rows, clips), "seconds": round(took, 3), "seconds_per_clip": round(took / clips, 4),
              "tflop_per_s": _sig(flops / took / 1e12), "vs_matmul": _sig(flops / took / peak) if peak else None,
              "peak_memory_gib": c.peak_memory_gib()}
    return record, took / clips


def stage_engine_48(c: Check) -> dict:
    return _engine(c, 48, c.sizes.engine_clips, "engine_48")[0]


def stage_engine_all(c: Check) -> dict:
    first, per_clip = _engine(c, "all", 1, "engine_all")
    # Fill what is left of the budget but the stages after this one (~30 s), never past `all_clips`.
    fit = math.floor((c.left() - 30) / max(per_clip, 1e-6))
    clips = max(1, min(c.sizes.all_clips, fit))
    record = _engine(c, "all", clips, "engine_all", warm_up=False)[0] if clips > 1 else first
    return {**record, "one_clip_seconds": first["seconds"], "clips_planned": c.sizes.all_clips}


def stage_engine_vs_naive(c: Check) -> dict:
    figure = engine_throughput.run(quick=not c.cuda, device=str(c.device))[0]
    return {"ratio": round(figure.ratio, 4), "target": figure.target, "met": figure.met, **figure.detail}


STAGES: tuple[tuple[str, Callable[[Check], dict], float], ...] = (
    # (name, stage, seconds it needs at least on an H100/H200-class GPU: it is skipped with less left). The whole
    # method first (the paper preset on planted truth, then I3D on real clips): what no CPU run can show; then the
    # rates the paper-scale estimate needs; the all-candidates pool and figure (a) last.
    ("device", stage_device, 0), ("matmul", stage_matmul, 10),
    ("paper_pipeline", gpu_stages.stage_paper_pipeline, 150), ("real_video", gpu_stages.stage_real_video, 60),
    ("generator_step", stage_generator_step, 15), ("engine_48", stage_engine_48, 40),
    ("c3d_forward", stage_c3d_forward, 20), ("i3d_forward", stage_i3d_forward, 20),
    ("engine_all", stage_engine_all, 40), ("engine_vs_naive", stage_engine_vs_naive, 15),
)


def _alarm(_signum: int, _frame: Any) -> None:
    raise StageTimeout


def run_stages(c: Check) -> bool:
    """Every stage in turn within the budget; the JSON rewritten after each. False when one failed."""
    ok = True
    signal.signal(signal.SIGALRM, _alarm)
    for name, stage, needs in STAGES:
        left = c.left()
        start = time.perf_counter()
        if left < needs:
            record = {"status": f"skipped: {left:.0f} s of the budget left, the stage needs about {needs:.0f} s"}
        else:
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.01))
            try:
                record = {"status": "measured", **stage(c)}  # a stage may say it was skipped
            except StageTimeout:
                record = {"status": "stopped: the time budget ran out"}
            except Exception as e:  # an unattended run records the failure and goes on to the next stage
                traceback.print_exc()
                record = {"status": f"failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
                ok = False
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        record["stage_seconds"] = round(time.perf_counter() - start, 2)
        c.results["stages"][name] = record
        c.save()
        print(f"[{name}] {record['status']} in {record['stage_seconds']:.1f} s ({time.perf_counter() - STARTED:.0f} s "
              f"of {c.budget_s:.0f})  {headline(name, record)}", flush=True)
    return ok


def headline(name: str, r: dict) -> str:
    """One line of what a stage measured."""
    if r.get("status") != "measured":
        return ""
    if name == "device":
        return f"{r['name']}, torch {r['torch']}, CUDA {r['cuda']}"
    if name == "matmul":
        return f"bf16 {r['bf16_tflop_per_s']:.3g} TFLOP/s, fp32 {r['fp32_tflop_per_s']:.3g} TFLOP/s"
    if name.endswith("_forward"):
        return (f"{r['clips_per_s']:.4g} clips/s, {r['tflop_per_s']:.3g} TFLOP/s = {r['vs_matmul']} of matmul "
                f"({r['vs_matmul_cudnn_benchmark']} with cudnn.benchmark), peak {r['peak_memory_gib']} GiB")
    if name == "generator_step":
        return (f"{r['seconds_per_step'] * 1000:.0f} ms/step, {r['tflop_per_s']:.3g} TFLOP/s fp32, "
                f"peak {r['peak_memory_gib']} GiB")
    if name == "engine_vs_naive":
        return f"{r['ratio']:.2f}x (target >= {r['target']:g})"
    if name == "paper_pipeline":
        failed = [check for check, ok in r["checks"].items() if not ok]
        return (f"{r['seconds']:.0f} s, model {100 * r['original']:.1f}% of test clips, planted-truth checks: "
                f"{', '.join(failed) + ' failed' if failed else 'all pass'}")
    if name == "real_video":
        lift = r["held_out"]["1"]["lift_generator_vs_uniform"]
        return (f"held-out k=1 generator - uniform {100 * lift['value']:+.1f} points "
                f"[{100 * lift['ci_clips'][0]:.1f}, {100 * lift['ci_clips'][1]:.1f}] on {lift['n_clips']} clips")
    if not name.startswith("engine_"):
        return ""
    return (f"{r['clips']} clips, {r['seconds_per_clip'] * 1000:.0f} ms/clip, {r['tflop_per_s']:.3g} TFLOP/s "
            f"= {r['vs_matmul']} of matmul, peak {r['peak_memory_gib']} GiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("gpu_check.json"), help="the JSON written (default gpu_check.json)")
    parser.add_argument("--budget-s", type=float, default=600.0,
                        help="seconds for the whole run, from the process's start (default 600)")
    parser.add_argument("--real-inputs", type=Path, default=gpu_stages.INPUTS,
                        help="the real-video stage's inputs (python -m benchmarks.gpu_stages --prepare DIR; default "
                             f"{gpu_stages.INPUTS})")
    parser.add_argument("--dry-run", action="store_true", help="every stage on the CPU at the tiny preset's sizes")
    args = parser.parse_args(argv)
    if not args.dry_run and not torch.cuda.is_available():
        parser.error("no CUDA device is available here; --dry-run runs every stage on the CPU at tiny sizes")
    device = torch.device("cpu" if args.dry_run else "cuda")
    results: dict[str, Any] = {"schema": SCHEMA, "dry_run": args.dry_run, "started": _now(), "budget_s": args.budget_s,
                               "command": "python -m benchmarks.gpu" + (" --dry-run" if args.dry_run else ""),
                               "code_version": code_version(), "sizes": SIZES["dry" if args.dry_run else "gpu"].__dict__,
                               "stages": {}}
    with tempfile.TemporaryDirectory(prefix="motionprobe-gpu-") as tmp:
        check = Check(device, SIZES["dry" if args.dry_run else "gpu"], args.budget_s, args.out, Path(tmp), results,
                      args.real_inputs)
        ok = run_stages(check)
    stages = results["stages"]
    rates = {pool: stages.get(f"engine_{pool}", {}).get("tflop_per_s") for pool in ("48", "all")}
    rates["generator_step"] = stages.get("generator_step", {}).get("tflop_per_s")
    estimate = paper_estimate.estimate(None, {pool: r * 1e12 for pool, r in rates.items() if r},
                                       stages.get("device", {}).get("name"))
    results["paper_estimate"] = estimate
    check.save()
    print()
    if args.dry_run:
        print("dry run on the CPU at tiny sizes: the figures below check the code paths, they are not GPU figures")
    print("\n".join(paper_estimate.format_estimate(estimate)))
    print(f"\nwrote {args.out} ({time.perf_counter() - STARTED:.0f} s)")
    return 0 if ok else 1


def _sig(x: float) -> float:
    """Four significant digits: a dry run's rates are a million times smaller than a GPU's, and must not round to 0."""
    return float(f"{x:.4g}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


if __name__ == "__main__":
    sys.exit(main())
