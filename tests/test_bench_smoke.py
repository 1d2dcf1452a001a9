"""The benchmarks run as `make bench` runs them, at smaller counts, and the GPU check's dry run, so that a change of
class count, input size or API breaks a test here rather than `make bench` or the GPU check.

`python -m benchmarks.run --quick` builds every model and dataset the way the full run does (benchmarks/setups.py:
models for the classes their dataset reports, the presets' sizes) with fewer clips, candidates and rounds; the
memory benchmark's larger analysis holds all 12 classes of the embedded benchmark. The targets are goals measured
by `make bench`, not asserted (timings on a shared CI machine are noise); what is asserted is that every figure is
produced and printed with its target, and the checks the measurements carry (same rows, same pixels, same FLOP
counts, the work the method defines).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import subprocess
import sys
import time
from math import comb
from pathlib import Path

import pytest
import torch

from benchmarks import feature_costs, gpu, planted_truth
from benchmarks.common import Figure
from benchmarks.setups import synthetic_test_split, tiny_setup
from motionprobe.analysis import analyze
from motionprobe.config import AnalysisConfig, preset
from motionprobe.data import build_dataset
from motionprobe.data.synthetic import CLASSES
from motionprobe.models import build_model
from motionprobe.selection import candidates, uniform_subset

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {"engine_vs_naive": "a", "end_to_end_tiny": "b", "end_to_end_paper": "b", "end_to_end_i3d": "b",
           "cache_vs_decode": "c", "memory_4n_vs_n": "d", "all_vs_48_candidates": "e",
           "cost_motion_free_methods": "f", "cost_probes": "f", "cost_graded_probes": "f", "cost_stride_curve": "f",
           "cost_agreement_target": "f"}


def _run(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "out.json"
    run = subprocess.run([sys.executable, "-m", *args, "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return run, json.loads(out.read_text())


def _generated(k: int, pool: int | str) -> int:
    """Clips a generator makes per clip, by the method's definition: the pool plus the uniform subset."""
    return len(set(candidates(k, pool, 16, seed=0)) | {uniform_subset(k, 16)})


def test_quick_benchmarks_write_and_print_every_figure(tmp_path):
    run, results = _run(["benchmarks.run", "--quick"], tmp_path)
    assert results["schema"] == "motionprobe.bench/2" and results["quick"] is True
    assert {key: f["letter"] for key, f in results["figures"].items()} == FIGURES
    table = run.stdout[run.stdout.index("   figure"):]
    for key, f in results["figures"].items():
        assert f"{f['title']} " in table and f["target_text"] in table and f["verdict"] in table, key
        if f["ratio"] is not None:
            assert math.isfinite(f["ratio"]) and f["ratio"] >= 0, key
    figures = {key: f for key, f in results["figures"].items()}

    # (a) is a GPU target: measured and printed here, not judged.
    a = figures["engine_vs_naive"]
    assert a["gpu_target"] and a["met"] is None and a["verdict"] == "GPU target: not judged on a CPU"
    assert a["detail"]["max_abs_diff_max_prob"] < 1e-5  # the engine's rows are the batch-1 loop's
    assert a["detail"]["classes"] == len(CLASSES)

    # (b) end to end at three sizes; the target applies at the paper size only.
    assert figures["end_to_end_paper"]["target"] == 0.7 and isinstance(figures["end_to_end_paper"]["met"], bool)
    assert figures["end_to_end_tiny"]["met"] is None and figures["end_to_end_i3d"]["met"] is None
    inputs = {size: figures[f"end_to_end_{size}"]["detail"] for size in ("tiny", "paper", "i3d")}
    assert inputs["tiny"]["input"] == "3x16x32x32" and inputs["tiny"]["classes"] == len(CLASSES)
    assert inputs["paper"]["input"] == "3x16x112x112" and inputs["i3d"]["input"] == "3x16x224x224"
    assert inputs["i3d"]["arch"] == "i3d"
    tiny = inputs["tiny"]["inputs_per_clip"]
    for k in (1, 2, 4, 8):
        assert tiny[f"generator k={k}"] == _generated(k, 48)
    # Every generated clip is classified, and so are the original and each k's uniform subset replicated.
    assert tiny["model"] >= 1 + 4 + sum(tiny[f"generator k={k}"] for k in (1, 2, 4, 8)) + tiny["pixel generator k=1"]
    for size in ("paper", "i3d"):
        per_clip = inputs[size]["inputs_per_clip"]
        assert per_clip["generator k=1"] == _generated(1, 1) and per_clip["model"] >= 2 + per_clip["generator k=1"]
    counts = figures["end_to_end_paper"]["detail"]["flop_counts"]
    assert counts["c3d_gflop_analytic"] == counts["c3d_gflop_flop_counter"] == 77.0948
    assert counts["generator_gflop_analytic"] == counts["generator_gflop_flop_counter"] == 26.0498
    assert inputs["paper"]["gflop_per_input"]["generator k=1"] == 26.0498

    assert figures["cache_vs_decode"]["detail"]["max_abs_pixel_diff"] == 0
    memory = figures["memory_4n_vs_n"]["detail"]
    assert memory["classes"] == len(CLASSES) and 4 * memory["n"] >= len(CLASSES)  # every label reaches the model
    e = figures["all_vs_48_candidates"]["detail"]["inputs_per_clip"]
    # The two pools differ by 1820 − 49 candidates, each costing the engine the same number of inputs.
    assert e["all"] > e["sampled"] and (e["all"] - e["sampled"]) % (comb(16, 4) - _generated(4, 48)) == 0

    # (f) measured exactly when analyze takes the feature's keyword; the replicated pool on the engine.
    replicated = figures["cost_motion_free_methods"]["detail"]["inputs_per_clip"]
    assert replicated["A"] - replicated["C"] == sum(_generated(k, 48) for k in (1, 2, 4, 8)) + 1  # + the pixel one
    pool = preset("tiny").analysis.replicate_candidates  # the replicated pool at the analysis' own size
    assert replicated["C"] - replicated["D"] == sum(_generated(k, pool) - 1 for k in (1, 2, 4, 8))
    keywords = set(inspect.signature(analyze).parameters) | {f.name for f in dataclasses.fields(AnalysisConfig)}
    for feature in feature_costs.FEATURES:
        f = figures[f"cost_{feature.key}"]
        if feature.keyword in keywords:
            assert f["status"] == "measured", f["status"]
        else:
            assert f["status"] == "not measured: feature not present" and f["ratio"] is None and f["met"] is None

    rows = results["paper_estimate"]["rows"]
    assert [r["candidates"] for r in rows] == ["48", "all"]
    assert [r["generated_per_clip"] for r in rows] == [sum(_generated(k, pool) for k in (1, 2, 4, 8)) + 1
                                                       for pool in (48, "all")] == [164, 14827]
    assert all(r["forwards_per_clip"] >= r["generated_per_clip"] + 1 + 4 for r in rows)
    assert all(r["gpu_8_hours"] < r["gpu_1_hours"] for r in rows)
    paper_rate = figures["end_to_end_paper"]["detail"]["engine_gflop_per_s"]
    assert results["paper_estimate"]["cpu_gflops_measured"] == pytest.approx(paper_rate)


def test_gpu_check_dry_run_measures_every_stage(tmp_path):
    run, results = _run(["benchmarks.gpu", "--dry-run"], tmp_path)
    assert results["schema"] == "motionprobe.gpu-check/1" and results["dry_run"] is True
    stages = results["stages"]
    assert list(stages) == [name for name, _, _ in gpu.STAGES]
    for name, record in stages.items():
        assert record["status"] == "measured", (name, record["status"])
        assert f"[{name}] measured in " in run.stdout
    k = gpu.SIZES["dry"].k
    assert stages["engine_all"]["inputs_per_clip"][f"generator k={k}"] == comb(16, k)
    assert stages["engine_48"]["inputs_per_clip"][f"generator k={k}"] == _generated(k, 48)
    for name in ("c3d_forward", "i3d_forward", "generator_step", "engine_48", "engine_all"):
        assert stages[name]["tflop_per_s"] > 0, name
    assert stages["generator_step"]["gflop_per_step"] > 0 and stages["i3d_forward"]["arch"] == "i3d"
    assert results["paper_estimate"]["gpu_measured"] is True
    assert "not GPU figures" in run.stdout and "paper-scale estimate" in run.stdout
    # The whole method at the dry run's sizes: the paper preset on planted truth, I3D's stand-in on "real" clips.
    paper = stages["paper_pipeline"]
    assert paper["plan"]["side"] == 16 and set(paper["pipeline_stage_seconds"]) == {"model", "generators", "analysis",
                                                                                     "report"}
    assert set(paper["checks"]) == {check.name for check in planted_truth.CHECKS}
    real = stages["real_video"]
    assert real["inputs"]["weights_dtype"] == "float16" and real["held_out"]["clips"] == 2
    assert {k: g["steps"] for k, g in real["generators"].items()} == {"1": 1, "4": 1}
    assert set(real["accuracy"]) >= {"original", "uniform", "generator", "full"}
    training = results["paper_estimate"]["training"]
    assert 0 < training["model_flops"] < training["generators_flops"]
    assert "model + generators + analysis" in run.stdout


def test_gpu_real_video_stage_without_prepared_inputs_is_skipped_and_says_how(tmp_path):
    check = gpu.Check(gpu.torch.device("cuda"), gpu.SIZES["gpu"], 600, tmp_path / "o.json", tmp_path, {"stages": {}},
                      tmp_path / "absent")
    record = gpu.gpu_stages.stage_real_video(check)  # returns before anything touches CUDA
    assert record["status"].startswith(f"skipped: no prepared inputs in {tmp_path / 'absent'}")
    assert "python -m benchmarks.gpu_stages --prepare" in record["status"]


def test_gpu_check_skips_and_stops_stages_at_the_budget(tmp_path, monkeypatch):
    def sleeps(_check):
        time.sleep(30)
        return {}

    def fails(_check):
        raise RuntimeError("no such kernel")

    monkeypatch.setattr(gpu, "STAGES", (("first", lambda _c: {"value": 1}, 0), ("broken", fails, 0),
                                        ("long", sleeps, 0), ("after", lambda _c: {"value": 2}, 1)))
    out = tmp_path / "partial.json"
    elapsed = time.perf_counter() - gpu.STARTED
    check = gpu.Check(gpu.torch.device("cpu"), gpu.SIZES["dry"], elapsed + 1.0, out, tmp_path, {"stages": {}})
    start = time.perf_counter()
    assert gpu.run_stages(check) is False  # a stage failed
    assert time.perf_counter() - start < 5  # the sleeping stage was stopped at the budget
    stages = json.loads(out.read_text())["stages"]  # written as the stages ended
    assert stages["first"] == {"status": "measured", "value": 1, "stage_seconds": stages["first"]["stage_seconds"]}
    assert stages["broken"]["status"] == "failed: RuntimeError: no such kernel"
    assert stages["long"]["status"] == "stopped: the time budget ran out"
    assert stages["after"]["status"].startswith("skipped: ")


def test_feature_costs_are_measured_only_where_analyze_takes_the_keyword(tmp_path):
    setup = tiny_setup(1, ks=(1,), candidates=2, pixel_ks=())
    setup.cfg = setup.cfg.evolve(analysis={"bootstrap": 20})  # the switches are under test here, not the statistics
    features = [feature_costs.Feature("csv", "candidates.csv.gz written", "write_csv", True, False, 1.0, "at_most"),
                feature_costs.Feature("absent", "a feature not written yet", "no_such_keyword", True, False, 1.0,
                                      "at_most"),
                feature_costs.Feature("refused", "a value analyze refuses", "probes", ("warp",), (), 1.0, "at_most")]
    csv, absent, refused = feature_costs.measure(setup, features, rounds=1, out=tmp_path)
    assert csv.status == "measured" and csv.ratio > 0 and isinstance(csv.met, bool)
    assert absent.status == feature_costs.NOT_PRESENT and absent.ratio is None and absent.met is None
    assert refused.status.startswith("not measured: analyze refused probes=('warp',): ")
    assert refused.verdict == refused.status


@pytest.mark.parametrize(("figure", "met", "verdict"), [
    (Figure("x", "t", 12.0, 10.0, "at_least", gpu_target=True, device="cpu"), None, "GPU target: not judged on a CPU"),
    (Figure("x", "t", 12.0, 10.0, "at_least", gpu_target=True, device="cuda"), True, "yes"),
    (Figure("x", "t", 0.5, 0.7, "at_least"), False, "NO"),
    (Figure("x", "t", 1.25, 1.2, "at_most"), False, "NO"),
    (Figure("x", "t", 1.05, 1.0, "within", tolerance=0.1), True, "yes"),
    (Figure("x", "t", 0.4, None, "none"), None, "-"),
    (Figure("x", "t", None, 1.3, "at_most", status="not measured: feature not present"), None,
     "not measured: feature not present"),
])
def test_figure_verdicts(figure, met, verdict):
    assert figure.met is met and figure.verdict == verdict


def test_the_synthetic_test_split_is_the_one_build_dataset_makes():
    cfg = preset("tiny")
    ours, theirs = synthetic_test_split(cfg), build_dataset(cfg.data, "test", training=False, seed=cfg.seed)
    assert (ours.classes, ours.ids, ours.labels, ours.metadata) == (theirs.classes, theirs.ids, theirs.labels,
                                                                    theirs.metadata)
    assert torch.equal(ours[13]["clip"], theirs[13]["clip"])


def test_a_figure_without_a_ratio_must_say_why():
    with pytest.raises(ValueError, match="says why"):
        Figure("x", "t", None, 1.0, "at_most")


def test_kept_frames_scores_each_way_of_choosing_and_a_replicating_generator_changes_nothing():
    from benchmarks import kept_frames
    from motionprobe.data.synthetic import SyntheticMotionDataset
    from motionprobe.generator import replicate_nearest

    probs = torch.full((17, 3), 0.2)
    probs[:, 0] = 0.6  # every candidate and the uniform subset (last) say class 0, ...
    probs[3] = torch.tensor([0.05, 0.05, 0.9])  # ... but candidate 3 says class 2, most confidently
    assert kept_frames.scores(probs, 2) == {"uniform": False, "max": True, "mean": False, "oracle": True}
    probs[-1] = torch.tensor([0.0, 0.0, 1.0])  # the uniform subset is scored alone, not as a candidate
    assert kept_frames.scores(probs, 2)["uniform"] and not kept_frames.scores(probs, 1)["max"]
    torch.manual_seed(0)
    test = SyntheticMotionDataset("test", per_class=1)
    tiny = preset("tiny")
    model = build_model(tiny.model, tiny.data, len(test.classes)).eval()
    for k in (1, 4):
        table = kept_frames.measure(model, lambda frames, indices: replicate_nearest(frames, indices, 16), test, k, 6)
        for way in ("uniform", "max", "mean", "oracle"):
            assert table["generated", way] == table["replicated", way]
        assert set(table["replicated", "max"]) == {"all", "appearance", "motion", "keyframe", "implied"}
