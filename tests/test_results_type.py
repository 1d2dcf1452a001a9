"""`Results` reads results.json and writes it back byte for byte; a file of another schema is refused in one line."""

from __future__ import annotations

import json

import pytest
from report_fixtures import StillOrMoving, motion_detector

from motionprobe.analysis import analyze
from motionprobe.analysis.results import write_results
from motionprobe.analysis.results_type import SCHEMA, Results, SchemaError
from motionprobe.cli import main
from motionprobe.config import AnalysisConfig
from motionprobe.errors import ConfigError
from motionprobe.folders import AnalysisFolder
from motionprobe.generator import Replicate


class Planted(StillOrMoving):
    """The still/moving clips with planted kinds, so results.json has its per-kind and planted-truth parts."""

    metadata = {"kinds": {"still": "appearance", "moving": "motion"}}


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    """Both targets (an `agreement` part), probes with a graded family and a coverage curve, planted kinds."""
    out = tmp_path_factory.mktemp("results_type")
    settings = AnalysisConfig(ks=(1, 2), bootstrap=20, probes=("shuffle", "reverse", "slow"), probe_draws=2,
                              target="both", class_floor=0.0)
    returned = analyze(motion_detector, Planted(8, n=8), out, settings, generators={1: Replicate(1, 8)},
                       num_frames=8, progress=False)
    return out, returned


def test_a_real_results_json_reads_and_writes_back_byte_for_byte(analysis, tmp_path):
    out, returned = analysis
    text = (out / "results.json").read_text(encoding="utf-8")
    data = json.loads(text)
    # every part the type reads is in this file, so the round trip covers each of them
    assert {"agreement", "per_kind", "planted_truth", "probes", "graded", "sampling", "card"} <= set(data)
    assert data["per_kind"] and data["planted_truth"] and data["graded"] and data["sampling"]["coverage"]
    results = Results.from_json(data)
    assert json.dumps(results.to_json()) == json.dumps(data)  # the same keys in the same order, the same values
    write_results(tmp_path / "results.json", results)
    assert (tmp_path / "results.json").read_text(encoding="utf-8") == text
    assert returned == results  # what analyze returns is what it wrote


def test_results_read_through_attributes(analysis):
    out, _ = analysis
    results = AnalysisFolder(out).results()
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results.ks == [1, 2] and results.classes == ["still", "moving"] and results.num_frames == 8
    assert results.accuracy.original.value == data["accuracy"]["original"]["value"]
    assert results.accuracy.at("full", 1).ci == tuple(data["accuracy"]["full"]["1"]["ci"])
    assert results.bound_ks("paper_bound") == [1] and results.bound_ks() == [1, 2]  # no generator at k = 2
    assert results.chosen(1) == list(dict.fromkeys(data["bound_method"]["1"]["chosen_per_fold"]))
    assert results.per_class["moving"].kind == "motion" and results.per_kind["motion"].classes == ["moving"]
    assert results.agreement.target == "prediction" and results.agreement.classes == results.classes
    assert results.seed == data["provenance"]["seed"] and results.card.k == 1


def test_a_file_of_another_schema_is_refused_in_one_line(analysis, tmp_path, capsys):
    out, _ = analysis
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    (tmp_path / "results.json").write_text(json.dumps({**data, "schema": "motionprobe.results/0"}))
    with pytest.raises(SchemaError, match=r"^not a motionprobe results file \(expected schema 'motionprobe.results/1'\)$"):
        Results.from_json({**data, "schema": "motionprobe.results/0"})
    with pytest.raises(ConfigError) as refused:
        AnalysisFolder(tmp_path).results()
    assert str(refused.value) == (f"analysis: {tmp_path / 'results.json'} is not a motionprobe results file "
                                  f"(expected schema {SCHEMA!r})")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not a motionprobe results file" in err and len(err.strip().splitlines()) == 1
