"""(d) Peak memory of an analysis of N clips vs of 4N clips (tiny preset).

Each analysis runs in a fresh Python process (`python -m benchmarks.memory --worker ...`) whose peak
resident set size (VmHWM in /proc/self/status) is read twice: after imports, model, generators and
dataset are built (the baseline; setups.tiny_setup at k = 1, 4, the model built for the dataset's 12
classes), and after `analyze` has written results.json. The figure is the
ratio of what the analysis adds above its baseline, 4N clips over N (N = 5 in shards of 5: one shard
vs four), each the median of seven processes. The engine streams shards of clips, so it should stay
near 1. The whole-process peaks are reported too.

Python's tracemalloc cannot see tensor memory (torch allocates outside Python's allocator), hence RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .common import Figure, median

TARGET = 1.2


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far (VmHWM).

    Not `ru_maxrss`: Linux carries the parent's peak into a child across fork and exec, so a worker
    started by a big parent would report the parent's peak.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # elsewhere: kilobytes (Linux) or bytes (macOS)


def worker(clips: int, shard_size: int, candidates: int, out: str) -> dict:
    """One analysis; returns peak RSS before and after it."""
    from .setups import tiny_setup

    setup = tiny_setup(clips, ks=(1, 4), candidates=candidates, shard_size=shard_size, pixel_ks=())
    nets = setup.networks()
    setup.make_dataset()
    baseline = peak_rss_bytes()
    setup.analyze(out, nets)
    return {"clips": clips, "classes": setup.num_classes, "baseline_bytes": baseline, "peak_bytes": peak_rss_bytes()}


def _spawn(clips: int, shard_size: int, candidates: int, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "benchmarks.memory", "--worker", "--clips", str(clips),
                             "--shard-size", str(shard_size), "--candidates", str(candidates), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parent.parent)


@dataclass(frozen=True)
class Sizes:
    n: int  # clips of the small analysis; the large one has 4n
    shard_size: int
    candidates: int
    repeats: int  # processes per size


# quick: 4n = 12 clips hold every class of the embedded benchmark once, as the full 20 do.
SIZES = {"full": Sizes(n=5, shard_size=5, candidates=8, repeats=7),
         "quick": Sizes(n=3, shard_size=3, candidates=2, repeats=1)}


def run(quick: bool = False) -> list[Figure]:
    sizes = SIZES["quick" if quick else "full"]
    n = sizes.n
    counts = [clips for clips in (n, 4 * n) for _ in range(sizes.repeats)]
    with tempfile.TemporaryDirectory(prefix="motionprobe-bench-") as tmp:
        # All at once: they are measured for memory, not time. Each size runs `repeats` times because the
        # same analysis peaks up to 35% apart from one process to the next (allocator arenas and GC timing).
        procs = [(clips, _spawn(clips, sizes.shard_size, sizes.candidates, Path(tmp) / f"run{i}"))
                 for i, clips in enumerate(counts)]
        runs: dict[int, list[dict]] = {}
        for clips, proc in procs:
            stdout, stderr = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"memory worker ({clips} clips) failed:\n{stderr[-2000:]}")
            runs.setdefault(clips, []).append(json.loads(stdout.strip().splitlines()[-1]))
    added = {c: median([r["peak_bytes"] - r["baseline_bytes"] for r in rs]) for c, rs in runs.items()}
    peak = {c: median([r["peak_bytes"] for r in rs]) for c, rs in runs.items()}
    mib = 1 << 20
    return [Figure(key="memory_4n_vs_n", title="peak memory added by an analysis: 4N vs N clips (tiny)",
                   ratio=added[4 * n] / max(added[n], 1), target=TARGET, rule="at_most",
                   detail={"n": n, "shard_size": sizes.shard_size, "candidates": sizes.candidates,
                           "processes_per_size": sizes.repeats, "classes": runs[n][0]["classes"],
                           "added_mib": {str(c): round(a / mib, 1) for c, a in added.items()},
                           "added_mib_each": {str(c): [round((r["peak_bytes"] - r["baseline_bytes"]) / mib, 1)
                                                       for r in rs] for c, rs in runs.items()},
                           "process_peak_mib": {str(c): round(v / mib, 1) for c, v in peak.items()},
                           "process_peak_ratio": round(peak[4 * n] / peak[n], 4)})]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="one analysis in this process; prints its peak memory as JSON")
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--clips", type=int, required=True)
    parser.add_argument("--shard-size", type=int, required=True)
    parser.add_argument("--candidates", type=int, required=True)
    parser.add_argument("--out", required=True)
    a = parser.parse_args()
    print(json.dumps(worker(a.clips, a.shard_size, a.candidates, a.out)))
