"""`python -m benchmarks.run` (what `make bench` runs): every figure as a ratio measured side by side.

    python -m benchmarks.run                 # full sizes, several minutes; writes benchmarks/results.json
    python -m benchmarks.run --quick --out /tmp/bench.json     # the same constructions, fewer clips and rounds
    python -m benchmarks.run --only b,f      # some of them
    python -m benchmarks.gpu --out gpu.json  # the GPU check (a separate entry: see benchmarks/README.md)

Figures (targets are goals, not test assertions; see benchmarks/README.md for what each measures):
    a  engine vs naive batch-1 loop, candidate evaluations/s (tiny)        >= 10, a GPU target
    b  engine end to end FLOP/s / dense matmul FLOP/s: tiny, paper, I3D     >= 0.7 at paper size
    c  frame cache vs decoding the video, time to load a clip              >= 10
    d  peak memory of an analysis of 4N clips / of N clips                 <= 1.2
    e  time per clip, all 1820 / 48 candidates at k = 4                    1820/48 ± 10%
    f  analysis time with a new feature / today's: motion-free methods,    <= 1.3, <= 1.15, 1.0 ± 10%
       temporal probes, agreement target
and, from (b)'s measured paper-size FLOP/s, the paper-scale estimate (UCF101 split 1 on this CPU; GPUs assumed).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from motionprobe.io import atomic_write_json, code_version

from . import candidates, end_to_end, engine_throughput, feature_costs, frame_cache, memory, paper_estimate
from .common import Figure, machine

BENCHMARKS = {"a": engine_throughput, "b": end_to_end, "c": frame_cache, "d": memory, "e": candidates,
              "f": feature_costs}
DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"
SCHEMA = "motionprobe.bench/2"


def table(figures: dict[str, list[Figure]]) -> list[str]:
    lines = [f"{'':2} {'figure':<72} {'ratio':>9}  {'target':<20} met"]
    for letter, group in figures.items():
        for f in group:
            ratio = "-" if f.ratio is None else f"{f.ratio:.3f}"
            lines.append(f"{letter:2} {f.title:<72} {ratio:>9}  {f.target_text:<20} {f.verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="the same constructions with fewer clips and rounds: checks that every benchmark runs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT})")
    parser.add_argument("--only", help="comma-separated letters of the benchmarks to run (default all)")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",")] if args.only else list(BENCHMARKS)
    unknown = [c for c in chosen if c not in BENCHMARKS]
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")

    info = machine()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"motionprobe benchmarks ({'quick' if args.quick else 'full'}): {info['cpu']}, {info['cores']} cores, "
          f"torch {info['torch']} with {info['torch_threads']} thread(s), GPU: {info['gpu'] or 'none'}", flush=True)
    figures: dict[str, list[Figure]] = {}
    seconds: dict[str, float] = {}
    for letter in chosen:
        start = time.perf_counter()
        print(f"[{letter}] {BENCHMARKS[letter].__name__.rsplit('.', 1)[-1]} ...", file=sys.stderr, flush=True)
        figures[letter] = BENCHMARKS[letter].run(quick=args.quick)
        seconds[letter] = round(time.perf_counter() - start, 1)
        for f in figures[letter]:
            shown = f.status if f.ratio is None else f"{f.ratio:.3f}"
            print(f"[{letter}] {f.title}: {shown} (target {f.target_text}, {f.verdict})", flush=True)
        print(f"[{letter}] {seconds[letter]:.0f} s", flush=True)

    paper = next((f for group in figures.values() for f in group if f.key == "end_to_end_paper"), None)
    estimate = paper_estimate.estimate(paper.detail["engine_gflop_per_s"] * 1e9 if paper else None)
    print()
    print("\n".join(table(figures)))
    print()
    print("\n".join(paper_estimate.format_estimate(estimate)))
    print("GPU figures (a on a GPU, C3D/I3D forward, generator training, engine at paper size): python -m benchmarks.gpu")
    command = "python -m benchmarks.run" + (" --quick" if args.quick else "") + (f" --only {args.only}" if args.only else "")
    results = {"schema": SCHEMA, "quick": args.quick, "started": started,
               "finished": datetime.now(UTC).isoformat(timespec="seconds"), "code_version": code_version(),
               "machine": info, "command": command, "seconds": seconds,
               "figures": {f.key: {"letter": letter, **f.to_dict()} for letter, group in figures.items() for f in group},
               "paper_estimate": estimate}
    atomic_write_json(args.out, results)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
