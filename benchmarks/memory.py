"""(d) Peak memory of an analysis of N clips vs of 4N clips (tiny preset).

Each analysis runs in a fresh Python process (`python -m benchmarks.memory --worker ...`) whose peak
resident set size (VmHWM in /proc/self/status) is read twice: after imports, model, generators and
dataset are built (the baseline), and after `analyze` has written results.json. The figure is the
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
from pathlib import Path

from .common import Figure, median

TARGET = 1.2


class FirstClips:
    """The first `n` clips of a dataset, with the attributes `analyze` reads."""

    def __init__(self, base, n: int):
        self.base, self.n = base, n
        self.classes, self.metadata = base.classes, base.metadata
        self.ids, self.labels = base.ids[:n], base.labels[:n]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return self.base[i]


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
    import torch

    from motionprobe.analysis import analyze
    from motionprobe.config import preset
    from motionprobe.data.synthetic import SyntheticMotionDataset
    from motionprobe.generator import build_generator
    from motionprobe.models.registry import build_model

    cfg = preset("tiny")
    torch.manual_seed(0)
    model = build_model(cfg, 10).eval()
    generators = {k: build_generator(k, cfg).eval() for k in (1, 4)}
    per_class = -(-clips // 10)
    dataset = FirstClips(SyntheticMotionDataset("test", per_class=per_class, size=cfg.data.crop_size), clips)
    baseline = peak_rss_bytes()
    analyze(model, dataset, out, generators=generators, ks=(1, 4), candidates=candidates, shard_size=shard_size,
            batch_size=cfg.analysis.batch_size, bootstrap=cfg.analysis.bootstrap, progress=False)
    return {"clips": clips, "baseline_bytes": baseline, "peak_bytes": peak_rss_bytes()}


def _spawn(clips: int, shard_size: int, candidates: int, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "benchmarks.memory", "--worker", "--clips", str(clips),
                             "--shard-size", str(shard_size), "--candidates", str(candidates), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parent.parent)


def run(quick: bool = False) -> Figure:
    n, shard_size, candidates, repeats = (2, 1, 2, 1) if quick else (5, 5, 8, 7)
    sizes = [clips for clips in (n, 4 * n) for _ in range(repeats)]
    with tempfile.TemporaryDirectory(prefix="motionprobe-bench-") as tmp:
        # All at once: they are measured for memory, not time. Each size runs `repeats` times because the
        # same analysis peaks up to 35% apart from one process to the next (allocator arenas and GC timing).
        procs = [(clips, _spawn(clips, shard_size, candidates, Path(tmp) / f"run{i}")) for i, clips in enumerate(sizes)]
        runs: dict[int, list[dict]] = {}
        for clips, proc in procs:
            stdout, stderr = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"memory worker ({clips} clips) failed:\n{stderr[-2000:]}")
            runs.setdefault(clips, []).append(json.loads(stdout.strip().splitlines()[-1]))
    added = {c: median([r["peak_bytes"] - r["baseline_bytes"] for r in rs]) for c, rs in runs.items()}
    peak = {c: median([r["peak_bytes"] for r in rs]) for c, rs in runs.items()}
    mib = 1 << 20
    return Figure(key="memory_4n_vs_n", title="peak memory added by an analysis: 4N vs N clips (tiny)",
                  ratio=added[4 * n] / max(added[n], 1), target=TARGET, rule="at_most",
                  detail={"n": n, "shard_size": shard_size, "candidates": candidates, "processes_per_size": repeats,
                          "added_mib": {str(c): round(a / mib, 1) for c, a in added.items()},
                          "added_mib_each": {str(c): [round((r["peak_bytes"] - r["baseline_bytes"]) / mib, 1) for r in rs]
                                             for c, rs in runs.items()},
                          "process_peak_mib": {str(c): round(v / mib, 1) for c, v in peak.items()},
                          "process_peak_ratio": round(peak[4 * n] / peak[n], 4)})

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="one analysis in this process; prints its peak memory as JSON")
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--clips", type=int, required=True)
    parser.add_argument("--shard-size", type=int, required=True)
    parser.add_argument("--candidates", type=int, required=True)
    parser.add_argument("--out", required=True)
    a = parser.parse_args()
    print(json.dumps(worker(a.clips, a.shard_size, a.candidates, a.out)))
