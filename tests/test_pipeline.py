"""The one-command pipeline: every stage runs, and a rerun skips what is complete."""

import json

from motionprobe.cli import main
from motionprobe.data.synthetic import CLASSES


def results_without_timestamps(path):
    data = json.loads(path.read_text())
    data.pop("timestamps", None)
    return data


def test_demo_runs_every_stage_then_a_rerun_skips_them(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--fast", "--frames", "1", "--out", str(out)]) == 0
    first = capsys.readouterr()
    assert first.out.strip().endswith(f"report: {out / 'analysis' / 'report.html'}")
    for stage in ("1/4 video model", "2/4 temporal generators", "3/4 analysis", "4/4 report"):
        assert stage in first.err
    for folder in ("model", "generator_k1_perceptual", "generator_k1_pixel"):
        assert (out / folder / "meta.json").is_file()
    results = results_without_timestamps(out / "analysis" / "results.json")
    assert results["num_clips"] == 2 * len(CLASSES) and set(results["accuracy"]["generator"]) == {"1"}
    html = (out / "analysis" / "report.html").read_text()
    assert "Motion upper bound" in html

    assert main(["demo", "--fast", "--frames", "1", "--out", str(out)]) == 0
    second = capsys.readouterr().err
    assert second.count("is complete; skipped") == 3  # the model and both generators
    assert results_without_timestamps(out / "analysis" / "results.json") == results
    settings = json.loads((out / "pipeline_config.json").read_text())
    assert settings["preset"] == "tiny" and settings["train"]["epochs"] == 1
