"""`python -m benchmarks.run --quick`: every benchmark runs at minimal size and the JSON holds every figure.

Only the presence and sanity of the numbers is checked here; the targets are goals measured by
`make bench`, not timed tests (timings on a shared CI machine are noise).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {"engine_vs_naive": "a", "model_flops_vs_matmul": "b", "cache_vs_decode": "c", "memory_4n_vs_n": "d",
           "all_vs_48_candidates": "e"}


def test_quick_benchmarks_write_every_ratio(tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["schema"] == "motionprobe.bench/1" and results["quick"] is True
    assert set(results["figures"]) == set(FIGURES)
    for key, letter in FIGURES.items():
        figure = results["figures"][key]
        assert figure["letter"] == letter
        assert math.isfinite(figure["ratio"]) and figure["ratio"] >= 0, key
        assert isinstance(figure["met"], bool) and figure["rule"] in ("at_least", "at_most", "within")
        assert f"{figure['title']}: " in run.stdout and figure["target_text"] in run.stdout  # printed with its target
    # The measurements carry their own checks: same rows, same pixels, same FLOP counts.
    assert results["figures"]["engine_vs_naive"]["detail"]["max_abs_diff_max_prob"] < 1e-5
    assert results["figures"]["cache_vs_decode"]["detail"]["max_abs_pixel_diff"] == 0
    flops = results["figures"]["model_flops_vs_matmul"]["detail"]
    assert flops["c3d_gflop_per_clip_analytic"] == flops["c3d_gflop_per_clip_flop_counter"] == 77.0948
    candidates = results["figures"]["all_vs_48_candidates"]["detail"]["inputs_per_clip"]
    assert candidates == {"all": 1822, "sampled": 51}
    estimate = results["paper_estimate"]
    assert [row["candidates"] for row in estimate["rows"]] == ["48", "all"]
    assert [row["generated_per_clip"] for row in estimate["rows"]] == [164, 14827]
    assert all(row["gpu_8_hours"] < row["gpu_1_hours"] for row in estimate["rows"])
