"""(b) at the paper size, repeated: the engine's end-to-end FLOP/s over dense matmul FLOP/s, round by round.

    python -m benchmarks.paper_ratio --rounds 5 --out runs/paper_ratio.json

`make bench` (b) times one 2048² matmul per round beside an analysis of about a minute: on a shared machine one
0.1-second product samples whatever load there was at that instant, and the ratio moved from 0.655 to 1.083
between runs. Here each round times the matmul for `--matmul-seconds` (median of its calls) just before and
just after the analysis, and divides the analysis's FLOP/s by their mean; then the model alone and the generator
alone (benchmarks/end_to_end.py `component_calls`), so a round also says where the time went. The analysis is
(b)'s paper setup (setups.video_setup: C3D at 112×112×16 and the 9-block generator, k = 1 with all 16 candidates
replicated and generated, the probes, UCF101-sized videos through the frame cache). Each round records the
load average at its start. Prints the median ratio with its range and interquartile range.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .common import machine, matmul, median, seconds
from .end_to_end import component_calls
from .setups import Work, paper_config, video_setup, videos_for, write_videos


def matmul_rate(call, flops: float, duration: float) -> float:
    """FLOP/s of the median call of `call` repeated for at least `duration` seconds (and 3 times)."""
    times, start = [], time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < duration:
        times.append(seconds(call))
    return flops / median(times)


def run(rounds: int, matmul_seconds: float, component_batch: int = 4, out: Path | None = None) -> dict:
    """Every round's figures (printed as it ends, and written to `out` after each round: a run cut short keeps
    its finished rounds)."""
    with tempfile.TemporaryDirectory(prefix="motionprobe-ratio-") as tmp:
        root = Path(tmp)
        write_videos(root / "videos", videos_for(1))
        setup = video_setup("paper", paper_config(), root / "videos", 1, (1,), "all", None)
        nets = setup.networks()
        work = Work(setup, nets)
        components, generator = component_calls(setup, nets, component_batch)
        mm, mm_flops = matmul()
        folders = (root / f"run{i}" for i in itertools.count())
        rows = []
        components["model"](), components["generator"]()  # first calls: allocation, oneDNN's kernel choice
        for r in range(rounds + 1):  # round 0 warms the analysis up and is not counted
            load = os.getloadavg()[0]
            before = matmul_rate(mm, mm_flops, matmul_seconds)
            start = time.perf_counter()
            counted = work.measure(lambda: setup.analyze(next(folders), nets))
            took = time.perf_counter() - start
            after = matmul_rate(mm, mm_flops, matmul_seconds)
            model_s, gen_s = seconds(components["model"]), seconds(components["generator"])
            peak = (before + after) / 2
            engine = work.flops(counted) / took
            if r == 0:
                continue
            row = {"round": r, "load_average_1min": round(load, 2), "analysis_seconds": round(took, 2),
                   "engine_gflop_per_s": round(engine / 1e9, 2), "matmul_gflop_per_s_before": round(before / 1e9, 2),
                   "matmul_gflop_per_s_after": round(after / 1e9, 2), "ratio": round(engine / peak, 4),
                   "model_alone_vs_matmul": round(component_batch * work.flops_per_row["model"] / model_s / peak, 4),
                   "generator_alone_vs_matmul": round(component_batch * work.flops_per_row[generator] / gen_s / peak, 4)}
            rows.append(row)
            print(round_line(row), flush=True)
            if out is not None:
                from motionprobe.io import atomic_write_json

                atomic_write_json(out, summary(rows))
    return summary(rows)


def summary(rows: list[dict]) -> dict:
    ratios = [row["ratio"] for row in rows]
    q = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [ratios[0]] * 3
    return {"command": "python -m benchmarks.paper_ratio " + " ".join(sys.argv[1:]), "machine": machine(),
            "threads": os.environ.get("OMP_NUM_THREADS"), "rounds": rows, "median_ratio": round(median(ratios), 4),
            "range": [min(ratios), max(ratios)], "iqr": [round(q[0], 4), round(q[2], 4)],
            "median_model_alone_vs_matmul": round(median([r["model_alone_vs_matmul"] for r in rows]), 4),
            "median_generator_alone_vs_matmul": round(median([r["generator_alone_vs_matmul"] for r in rows]), 4),
            "target": 0.7}


def round_line(row: dict) -> str:
    return (f"round {row['round']}: load {row['load_average_1min']:5.2f}  analysis {row['analysis_seconds']:6.1f} s  "
            f"engine {row['engine_gflop_per_s']:6.1f} GFLOP/s  matmul {row['matmul_gflop_per_s_before']:6.1f} / "
            f"{row['matmul_gflop_per_s_after']:6.1f}  ratio {row['ratio']:.3f}  model alone "
            f"{row['model_alone_vs_matmul']:.3f}  generator alone {row['generator_alone_vs_matmul']:.3f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.paper_ratio", description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--matmul-seconds", type=float, default=3.0, help="matmul timing before and after each analysis")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    r = run(args.rounds, args.matmul_seconds, out=args.out)
    print(f"(b) paper: median {r['median_ratio']:.3f}, range {r['range'][0]:.3f}-{r['range'][1]:.3f}, IQR "
          f"{r['iqr'][0]:.3f}-{r['iqr'][1]:.3f} over {len(r['rounds'])} rounds (target >= 0.7); model alone "
          f"{r['median_model_alone_vs_matmul']:.3f}, generator alone {r['median_generator_alone_vs_matmul']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
