"""`motionprobe compare` on real analysis folders (the tiny C3D and generators of report_fixtures, random init):
paired intervals checked against a run that is another with a known change, unpaired and apart runs, the files,
and the one-line refusals."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from report_fixtures import run_analysis, save_folders, tiny_config

from benchmarks.setups import FirstClips
from motionprobe.analysis.stats import resample_counts
from motionprobe.cli import main
from motionprobe.compare import summarize_runs
from motionprobe.compare.differences import SEED, compare_pair
from motionprobe.compare.runs import load_runs, why_unpaired
from motionprobe.data import build_dataset

N_BOOT = 400
PROBES = ("shuffle", "reverse", "fast", "speed_x16")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three analyses of the same tiny C3D (replicated frames only, to keep them short): 12 clips against the labels
    with four probes; the same clips against the model's own prediction, and the first 6 against the labels."""
    root = tmp_path_factory.mktemp("compare")
    folders = save_folders(root / "folders")
    run_analysis(folders, root / "a", generators=False, probes=PROBES, class_floor=0)  # every class analysable
    cheap = dict(generators=False, probes=("shuffle", "fast"))
    run_analysis(folders, root / "agreement", target="prediction", **cheap)
    run_analysis(folders, root / "fewer", dataset=FirstClips(build_dataset(tiny_config().data, "test"), 6), **cheap)
    return root


def changed_copy(root, name: str, clips: int) -> tuple[str, list[str]]:
    """A copy of run a whose per_clip.csv gets `clips` more originals right (clips a got wrong): every bound and
    every probe drop of the copy is then larger by exactly clips / n, the rest unchanged."""
    shutil.copytree(root / "a", root / name)
    path = root / name / "per_clip.csv"
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    wrong = [r for r in rows if r["original"] != r["label"]][:clips]
    assert len(wrong) == clips  # a random-init model gets most of its clips wrong
    for r in wrong:
        r["original"] = r["label"]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return str(root / name), [r["clip_id"] for r in wrong]


def test_paired_differences_find_a_known_change_from_the_changed_clips_alone(runs):
    changed, clip_ids = changed_copy(runs, "changed", clips=4)
    a, b = load_runs([runs / "a", changed])
    why, order = why_unpaired(a, b)
    assert why is None and order.tolist() == list(range(len(a.clips.ids)))
    paired = compare_pair(a, b, order, N_BOOT, 0.95)
    n = len(a.clips.ids)
    assert paired["paired"] and paired["clips"] == n == 12
    expected = -4 / n  # a − b: b's original is right on 4 more clips, its best method unchanged
    estimates = [*paired["motion_bound"].values(), paired["bound_area"], *paired["probe_drop"].values(),
                 paired["temporal_demand"]]
    assert list(paired["probe_drop"]) == list(PROBES)
    for est in estimates:
        assert est["value"] == pytest.approx(expected, abs=1e-6)
        assert est["ci"][0] <= est["value"] <= est["ci"][1] < 0
    # Paired, everything the runs share cancels in every resample: what is left is how often the resample holds
    # the 4 changed clips, −X / n, whose percentiles are the interval (the bound's resamples, the drops' own).
    changed_rows = [a.clips.ids.index(c) for c in clip_ids]
    for seed, est in (([SEED, 0], paired["motion_bound"]["1"]), ([SEED, 3], paired["probe_drop"]["shuffle"])):
        x = np.concatenate([counts[:, changed_rows].sum(axis=1) for counts in resample_counts(n, N_BOOT, seed)])
        assert est["ci"] == pytest.approx(np.quantile(-x / n, [0.025, 0.975]).tolist(), abs=1e-6)
    assert paired["robustness"]["value"] > 0  # the same probe outcomes over a better original: b is less robust

    # A run against itself: paired, exactly 0 with no spread; unpaired, two independent resamples still differ.
    same = compare_pair(b, b, np.arange(n), N_BOOT, 0.95)
    assert all(est["value"] == 0 and est["ci"] == [0, 0] for est in [*same["motion_bound"].values(),
                                                                     *same["probe_drop"].values()])
    alone = compare_pair(b, b, None, N_BOOT, 0.95)
    assert not alone["paired"] and alone["motion_bound"]["1"]["value"] == 0
    assert alone["motion_bound"]["1"]["ci"][0] < 0 < alone["motion_bound"]["1"]["ci"][1]


def test_other_targets_are_shown_apart_and_other_clips_are_unpaired(runs):
    summary = summarize_runs(load_runs([runs / "a", runs / "agreement", runs / "fewer"]), n_boot=100)
    assert [a["name"] for a in summary["apart"]] == ["agreement"]
    assert "agreement with the model's own full-clip prediction" in summary["apart"][0]["reason"]
    bound = {r["name"]: r["card"]["motion_bound"]["value"] for r in summary["runs"]}
    assert summary["ranking"] == sorted(["a", "fewer"], key=lambda name: (-bound[name], name))  # most motion first
    assert len(summary["differences"]) == 1
    diff = summary["differences"][0]
    assert not diff["paired"] and diff["why_unpaired"] == "they analysed different clips (6 of 12 and 6 shared)"
    assert [r["name"] for r in summary["runs"]] == ["a", "agreement", "fewer"]  # every card is still shown
    assert all(r["card"]["motion_bound"] is not None for r in summary["runs"])


def test_compare_writes_the_page_the_json_and_the_tables(runs, tmp_path):
    changed, _ = changed_copy(runs, "changed2", clips=3)
    assert main(["compare", str(runs / "a"), changed, str(runs / "agreement"), "--out", str(tmp_path / "cmp"),
                 "--bootstrap", "100"]) == 0
    out = tmp_path / "cmp"
    summary = json.loads((out / "compare.json").read_text())
    assert summary["schema"] == "motionprobe.compare/1" and summary["differences"][0]["paired"]
    for name in ("bound_vs_k", "probe_drops", "stride_curves", "classes_a_vs_changed2"):
        assert (out / summary["figures"][name]).is_file(), name
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert "Shown apart" in page and "agreement" in page and "paired on 12 clips" in page
    assert 'src="figures/bound_vs_k.png"' in page and "temporal demand" in page
    ranking = list(csv.DictReader((out / "ranking.csv").open(encoding="utf-8")))
    assert [r["run"] for r in ranking] == ["a", "changed2", "agreement"] and ranking[2]["apart"] == "1"
    differences = list(csv.DictReader((out / "differences.csv").open(encoding="utf-8")))
    bound = next(r for r in differences if r["statistic"] == "motion_bound@1")
    assert float(bound["difference"]) == pytest.approx(-3 / 12, abs=1e-6) and bound["paired"] == "1"


def test_bad_runs_are_refused_in_one_line(runs, tmp_path, capsys):
    assert main(["compare", str(runs / "a"), str(tmp_path), "--out", str(tmp_path / "cmp")]) == 2
    assert capsys.readouterr().err.strip() == f"motionprobe: error: {tmp_path} holds no results.json; run the analysis " \
                                              "into it first"
    assert main(["compare", str(runs / "a"), str(runs / "a"), "--out", str(tmp_path / "cmp")]) == 2
    assert "is given twice" in capsys.readouterr().err
    broken = tmp_path / "broken"
    shutil.copytree(runs / "a", broken)
    (broken / "per_clip.csv").write_text("not,a,table\n")
    assert main(["compare", str(runs / "a"), str(broken), "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"motionprobe: error: {broken / 'per_clip.csv'}: not a readable per-clip table") and \
        "\n" not in err
    shutil.copy(runs / "a" / "per_clip.csv", broken / "per_clip.csv")
    results = json.loads((broken / "results.json").read_text())
    del results["bound_method"]
    (broken / "results.json").write_text(json.dumps(results))
    assert main(["compare", str(runs / "a"), str(broken), "--out", str(tmp_path / "cmp")]) == 2
    assert capsys.readouterr().err.strip() == (f"motionprobe: error: {broken / 'results.json'}: no 'bound_method'; "
                                               "not the results of a finished analysis")
    assert main(["compare", str(runs / "a"), "--bootstrap", "0", "--out", str(tmp_path / "cmp")]) == 2
    assert capsys.readouterr().err.startswith("motionprobe: error: --bootstrap: expected a positive number")
