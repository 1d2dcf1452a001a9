"""Figures and the HTML page from real results.json files (tiny C3D, random-init generators, synthetic clips)."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest
from PIL import Image
from report_fixtures import DOLLAR_CLASS, SCRIPT_CLASS, Renamed, run_analysis, save_folders

from motionprobe.cli import main
from motionprobe.data.synthetic import SyntheticMotionDataset
from motionprobe.report import headline, make_figures, write_report
from motionprobe.report.figures import DPI, HEIGHT, KIND_PANEL_WIDTH, WIDTH, per_class_width
from motionprobe.report.view import headline_k, motion_extremes


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return save_folders(tmp_path_factory.mktemp("report_models"))


@pytest.fixture(scope="module")
def full_run(folders, tmp_path_factory):
    """Generators at k = 1, 2 and a pixel generator at k = 1; hostile class names; planted kinds."""
    out = tmp_path_factory.mktemp("report_full") / "analysis"
    dataset = Renamed(SyntheticMotionDataset("test", per_class=2, size=32), {0: SCRIPT_CLASS, 3: DOLLAR_CLASS})
    return out, run_analysis(folders, out, dataset=dataset)


@pytest.fixture(scope="module")
def bare_run(folders, tmp_path_factory):
    """No generator: only original and uniform ran."""
    out = tmp_path_factory.mktemp("report_bare") / "analysis"
    return out, run_analysis(folders, out, generators=False)


def decoded(path):
    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB"))


def test_every_figure_is_a_png_of_the_expected_size(full_run, tmp_path):
    _, results = full_run
    figures = {f.name: f for f in make_figures(results, tmp_path / "figures")}
    assert set(figures) == {"fig3_accuracy_vs_frames", "fig5_per_class", "fig7_pixel_vs_perceptual",
                            "fig8_generator_gain", "per_kind"}
    assert all(f.path is not None and f.skipped is None for f in figures.values())
    n = len(results["classes"])
    expected = {"fig3_accuracy_vs_frames": (WIDTH, HEIGHT), "fig7_pixel_vs_perceptual": (WIDTH, HEIGHT),
                "fig5_per_class": (per_class_width(n), HEIGHT), "fig8_generator_gain": (per_class_width(n), HEIGHT),
                "per_kind": (KIND_PANEL_WIDTH * len(results["per_kind"]) + 1.8, HEIGHT)}
    for name, (w, h) in expected.items():
        pixels = decoded(figures[name].path)
        assert pixels.shape[:2] == (round(h * DPI), round(w * DPI)), name
        # Something was drawn: many colours, and not mostly blank.
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50, name
        assert (pixels.min(axis=2) < 200).mean() > 0.02, name
    # Figure 3 draws every method that ran, and the original.
    assert set(figures["fig3_accuracy_vs_frames"].shows) == {"original", "uniform", "generator", "full", "oracle",
                                                             "random", "pixel_generator"}
    # Figure 5 is sorted by the per-class motion bound, least motion first; a '$' in a name did not break it.
    order = figures["fig5_per_class"].shows
    bounds = [results["per_class"][c]["motion_bound"]["1"] for c in order]
    assert bounds == sorted(bounds) and sorted(order) == sorted(results["classes"])
    # Figure 8 is sorted by gain, largest first.
    gains = [results["per_class"][c]["generator"]["1"] - results["per_class"][c]["uniform"]["1"]
             for c in figures["fig8_generator_gain"].shows]
    assert gains == sorted(gains, reverse=True)


def test_figures_needing_a_generator_are_skipped_and_say_why(bare_run, tmp_path):
    _, results = bare_run
    figures = {f.name: f for f in make_figures(results, tmp_path)}
    assert figures["fig3_accuracy_vs_frames"].path.is_file()
    assert set(figures["fig3_accuracy_vs_frames"].shows) == {"original", "uniform"}
    assert figures["per_kind"].path.is_file()
    for name in ("fig5_per_class", "fig7_pixel_vs_perceptual", "fig8_generator_gain"):
        assert figures[name].path is None and "generator" in figures[name].skipped
        assert not (tmp_path / f"{name}.png").exists()
    no_kinds = dict(results, per_kind={})
    assert make_figures(no_kinds, tmp_path / "b")[-1].skipped.startswith("the dataset declares no kinds")


def test_headline_states_the_bound_or_what_is_available(full_run, bare_run):
    _, results = full_run
    bound = results["motion_bound"]["1"]
    text = headline(results)
    assert text.startswith("Motion upper bound at k = 1:")
    assert f"{100 * bound['value']:.1f} points [{100 * bound['ci'][0]:.1f}, {100 * bound['ci'][1]:.1f}]" in text

    only_k2 = copy.deepcopy(results)
    for key in ("motion_bound", "full"):
        (only_k2[key] if key == "motion_bound" else only_k2["accuracy"][key]).pop("1")
    assert headline_k(only_k2) == 2
    assert headline(only_k2).startswith("No generator at k = 1; the bound is available at k = 2.")

    _, bare = bare_run
    gap = bare["uniform_gap"]["1"]["value"]
    assert headline_k(bare) is None
    assert "No generator was given" in headline(bare) and f"{100 * gap:.1f} points" in headline(bare)


def test_motion_extremes_pick_the_largest_and_smallest_bound_with_ties_to_the_better_known_class():
    def entry(original, bound):
        return {"n": 2, "original": original, "motion_bound": {"1": bound}, "motion_bound_ci": {"1": [0, 1]}}
    results = {"classes": ["a", "b", "c", "d", "empty"], "motion_bound": {"1": {}},
               "per_class": {"a": entry(0.5, 0.0), "b": entry(1.0, 0.0), "c": entry(0.5, 0.5), "d": entry(0.9, 0.5),
                             "empty": {"n": 0, "original": None}}}
    ext = motion_extremes(results)
    assert (ext.k, ext.least.name, ext.most.name) == (1, "b", "d")


def test_report_escapes_dataset_strings_and_links_only_relative_files(full_run):
    out, results = full_run
    assert SCRIPT_CLASS in results["classes"]
    page = write_report(out).read_text(encoding="utf-8")
    assert "<script" not in page.lower()  # the page has no script at all, and the class name is text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "price $5 &amp; &quot;$6&quot;" in page
    for link in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert "://" not in link and not link.startswith("/"), link
        assert (out / link).is_file(), link
    assert 'id="headline"' in page and headline(results).split(":")[0] in page
    assert "No pictures" in page  # no --model: the page says how to add them


def test_report_verb_writes_the_page_and_prints_the_headline(bare_run, tmp_path, capsys):
    out, results = bare_run
    assert main(["report", str(out), "--out", str(tmp_path / "page")]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "fig5_per_class not drawn: needs the full analysis" in captured.err and "No pictures" in captured.err
    assert headline(results) in printed and str(tmp_path / "page" / "report.html") in printed
    page = (tmp_path / "page" / "report.html").read_text(encoding="utf-8")
    assert 'src="figures/fig3_accuracy_vs_frames.png"' in page and 'href="../' not in page.split("Files:")[0]
    assert "not drawn" in page  # the skipped figures are listed with their reason
    json.loads((out / "results.json").read_text())  # the analysis folder is left intact


def test_report_verb_refuses_a_folder_without_results(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no results.json" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
