"""`python -m benchmarks.run` (what `make bench` runs): every figure as a ratio measured side by side.

    python -m benchmarks.run                 # full sizes, a few minutes; writes benchmarks/results.json
    python -m benchmarks.run --quick --out /tmp/bench.json     # minimal sizes (the smoke test)
    python -m benchmarks.run --only a,c      # some of them
    python -m benchmarks.run --only b --device cuda   # (b) and the estimate from a GPU's measured FLOP/s

Figures (targets are goals, not test assertions; see benchmarks/README.md for what each measures):
    a  engine vs naive batch-1 loop, candidate evaluations/s (tiny)        >= 10
    b  engine C3D forward FLOP/s / dense matmul FLOP/s (paper 112x112x16)   >= 0.7
    c  frame cache vs decoding the video, time to load a clip              >= 10
    d  peak memory of an analysis of 4N clips / of N clips                 <= 1.2
    e  time per clip, all 1820 / 48 candidates at k = 4                    1820/48 ± 10%
and, from (b)'s measured FLOP/s, the paper-scale estimate (UCF101 split 1 on this CPU, 1 and 8 GPUs).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from motionprobe.io import atomic_write_json, code_version

from . import candidates, engine_throughput, frame_cache, memory, model_flops, paper_estimate
from .common import Figure, machine

BENCHMARKS = {"a": engine_throughput, "b": model_flops, "c": frame_cache, "d": memory, "e": candidates}
DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"


def table(figures: dict[str, Figure]) -> list[str]:
    lines = [f"{'':2} {'figure':<72} {'ratio':>9}  {'target':<14} met"]
    for letter, f in figures.items():
        lines.append(f"{letter:2} {f.title:<72} {f.ratio:>9.3f}  {f.target_text:<14} {'yes' if f.met else 'NO'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="minimal sizes: checks that every benchmark runs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT})")
    parser.add_argument("--only", help="comma-separated letters of the benchmarks to run (default all)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="where (b) runs; the others measure CPU-side work (default cpu)")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",")] if args.only else list(BENCHMARKS)
    unknown = [c for c in chosen if c not in BENCHMARKS]
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available here")

    info = machine()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"motionprobe benchmarks ({'quick' if args.quick else 'full'}): {info['cpu']}, {info['cores']} cores, "
          f"torch {info['torch']} with {info['torch_threads']} thread(s), GPU: {info['gpu'] or 'none'}", flush=True)
    figures: dict[str, Figure] = {}
    for letter in chosen:
        start = time.perf_counter()
        print(f"[{letter}] {BENCHMARKS[letter].__name__.rsplit('.', 1)[-1]} ...", file=sys.stderr, flush=True)
        extra = {"device": args.device} if letter == "b" else {}
        figure = BENCHMARKS[letter].run(quick=args.quick, **extra)
        figures[letter] = figure
        print(f"[{letter}] {figure.title}: {figure.ratio:.3f} (target {figure.target_text}, "
              f"{'met' if figure.met else 'NOT met'}) in {time.perf_counter() - start:.0f} s", flush=True)

    measured = figures["b"].detail["engine_gflop_per_s"] * 1e9 if "b" in figures else None
    if args.device == "cuda":
        estimate = paper_estimate.estimate(None, gpu_flops_per_s=measured)
    else:
        estimate = paper_estimate.estimate(measured)
    print()
    print("\n".join(table(figures)))
    print()
    print("\n".join(paper_estimate.format_estimate(estimate)))
    results = {"schema": "motionprobe.bench/1", "quick": args.quick, "started": started,
               "finished": datetime.now(UTC).isoformat(timespec="seconds"), "code_version": code_version(),
               "machine": info, "command": "python -m benchmarks.run" + (" --quick" if args.quick else "")
               + (f" --only {args.only}" if args.only else "") + (" --device cuda" if args.device == "cuda" else ""),
               "figures": {f.key: {"letter": letter, **f.to_dict()} for letter, f in figures.items()},
               "paper_estimate": estimate}
    atomic_write_json(args.out, results)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
