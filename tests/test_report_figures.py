"""Figures and the HTML page from real results.json files (tiny C3D, random-init generators, synthetic clips):
both bounds in the headline, table and figures, not-analysable classes, diagnostics, the probe section,
agreement wording, and wording that follows the clip length T."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from report_fixtures import DOLLAR_CLASS, SCRIPT_CLASS, Renamed, StillOrMoving, motion_detector, run_analysis, save_folders

from motionprobe.analysis import analyze
from motionprobe.analysis.methods import LEGEND, SHORT
from motionprobe.analysis.results import figure3
from motionprobe.analysis.results_type import SCHEMA, Results
from motionprobe.analysis.stats import Estimate
from motionprobe.cli import main
from motionprobe.config import AnalysisConfig
from motionprobe.data.synthetic import SyntheticMotionDataset
from motionprobe.generator import Replicate
from motionprobe.probes import CLASSIC, PROBE
from motionprobe.report import headline, make_figures, write_report
from motionprobe.report.figures import DPI, FIG3_HEIGHT, FIG3_WIDTH, HEIGHT, KIND_PANEL_WIDTH, WIDTH, per_class_width
from motionprobe.report.temporal_figures import PANEL_WIDTH
from motionprobe.report.view import headline_k, motion_extremes, not_analysable_text


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return save_folders(tmp_path_factory.mktemp("report_models"))


@pytest.fixture(scope="module")
def full_run(folders, tmp_path_factory):
    """Generators at k = 1, 2, a pixel generator at k = 1, every probe; hostile class names; planted kinds;
    every class analysable (class_floor 0)."""
    out = tmp_path_factory.mktemp("report_full") / "analysis"
    dataset = Renamed(SyntheticMotionDataset("test", per_class=2, size=32), {0: SCRIPT_CLASS, 3: DOLLAR_CLASS})
    return out, run_analysis(folders, out, dataset=dataset, class_floor=0)


@pytest.fixture(scope="module")
def bare_run(folders, tmp_path_factory):
    """No generator and no probe: the replicated-frame methods only. The random-init model is weak and
    most classes are not analysable (the default floor)."""
    out = tmp_path_factory.mktemp("report_bare") / "analysis"
    return out, run_analysis(folders, out, generators=False, probes=())


def decoded(path):
    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB"))


def page_text(page: str) -> str:
    """The page's visible text, tags removed and entities decoded."""
    body = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def section(page: str, anchor: str) -> str:
    """The HTML from the heading with id `anchor` to the next h2."""
    start = page.index(f"id='{anchor}'")
    end = page.find("<h2", start)
    return page[start:end if end >= 0 else len(page)]


def test_every_figure_is_a_png_of_the_expected_size(full_run, tmp_path):
    _, results = full_run
    data = results.to_json()
    figures = {f.name: f for f in make_figures(results, tmp_path / "figures")}
    assert set(figures) == {"fig3_accuracy_vs_frames", "fig5_per_class", "bounds_per_class", "fig7_pixel_vs_perceptual",
                            "fig8_generator_gain", "per_kind", "probes_per_kind", "probe_vs_bound", "graded_probes",
                            "stride_curve"}
    assert {n: f.skipped for n, f in figures.items() if f.path is None} == {}
    n = len(data["classes"])
    groups = 1 + len(data["probes"]["per_kind"])
    expected = {"fig3_accuracy_vs_frames": (FIG3_WIDTH, FIG3_HEIGHT), "fig7_pixel_vs_perceptual": (WIDTH, HEIGHT),
                "fig5_per_class": (per_class_width(n), HEIGHT), "bounds_per_class": (per_class_width(n), HEIGHT),
                "fig8_generator_gain": (per_class_width(n), HEIGHT),
                "per_kind": (KIND_PANEL_WIDTH * len(data["per_kind"]) + 1.8, HEIGHT),
                "probes_per_kind": (max(WIDTH, 1.2 * groups + 2.5), HEIGHT), "probe_vs_bound": (WIDTH, WIDTH * 0.75),
                "graded_probes": (PANEL_WIDTH * 4 + 1.8, HEIGHT), "stride_curve": (11.0, HEIGHT)}
    for name, (w, h) in expected.items():
        pixels = decoded(figures[name].path)
        assert pixels.shape[:2] == (round(h * DPI), round(w * DPI)), name
        # Something was drawn: many colours, and not mostly blank.
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50, name
        assert (pixels.min(axis=2) < 200).mean() > 0.02, name
    # Figure 3 draws the paper's methods, best and both bounds.
    assert set(figures["fig3_accuracy_vs_frames"].shows) == {"original", "uniform", "generator", "full", "best", "oracle",
                                                             "random", "pixel_generator", "motion_bound", "paper_bound"}
    # Figure 5 and the bounds figure are sorted by the per-class motion bound, least motion first; a '$' in a
    # name did not break them.
    for name in ("fig5_per_class", "bounds_per_class"):
        order = figures[name].shows
        bounds = [data["per_class"][c]["motion_bound"]["1"] for c in order]
        assert bounds == sorted(bounds) and sorted(order) == sorted(data["classes"]), name
    # Figure 8 is sorted by gain, largest first.
    gains = [data["per_class"][c]["generator_minus_uniform"]["1"]["value"] for c in figures["fig8_generator_gain"].shows]
    assert gains == sorted(gains, reverse=True)
    # The probe figures: every probe that ran, and every analysable class in the scatter.
    assert figures["probes_per_kind"].shows == [n for n in data["probes"]["accuracy"] if n in CLASSIC]
    assert figures["graded_probes"].shows == ["shuffle", "reverse", "freeze", "speed"]
    assert sorted(figures["probe_vs_bound"].shows) == sorted(data["classes"])
    rho = data["probes"]["bound_agreement"]["shuffle_spearman"]
    assert (f"Spearman ρ = {rho:.2f}" if rho is not None else "too few classes") in figures["probe_vs_bound"].title


def test_figures_needing_a_generator_or_probes_are_skipped_and_say_why(bare_run, tmp_path):
    _, results = bare_run
    figures = {f.name: f for f in make_figures(results, tmp_path)}
    # Without a generator the motion bound still exists (the best replicated method); the paper's does not.
    assert figures["fig3_accuracy_vs_frames"].path.is_file()
    assert set(figures["fig3_accuracy_vs_frames"].shows) == {"original", "uniform", "best", "motion_bound"}
    assert figures["fig5_per_class"].path.is_file() and figures["bounds_per_class"].path.is_file()
    assert figures["per_kind"].path.is_file()
    for name in ("fig7_pixel_vs_perceptual", "fig8_generator_gain"):
        assert figures[name].path is None and "generator" in figures[name].skipped
        assert not (tmp_path / f"{name}.png").exists()
    for name in ("probes_per_kind", "probe_vs_bound"):
        assert figures[name].skipped == "no temporal probe ran" and not (tmp_path / f"{name}.png").exists()
    no_kinds = replace(results, per_kind={})
    assert {f.name: f for f in make_figures(no_kinds, tmp_path / "b")}["per_kind"].skipped.startswith(
        "the dataset declares no kinds")


def interval(est: Estimate) -> str:
    return f"{100 * est.value:.1f} points [{100 * est.ci[0]:.1f}, {100 * est.ci[1]:.1f}]"


def test_headline_states_both_bounds_the_tools_first(full_run, bare_run):
    _, results = full_run
    text = headline(results)
    assert text.startswith("Motion upper bound at k = 1:")
    tool, paper = interval(results.motion_bound["1"]), interval(results.paper_bound["1"])
    assert tool in text and "chosen without the test labels" in text
    assert "The paper's bound (original − full analysis" in text and paper in text
    assert text.index(tool) < text.index("The paper's bound")
    chosen = results.bound_method["1"].folds
    assert " / ".join(dict.fromkeys(chosen)) in text

    def without_k1(bound):
        return {k: e for k, e in bound.items() if k != "1"}

    only_k2 = replace(results, paper_bound=without_k1(results.paper_bound))
    assert headline(only_k2).endswith(f"needs a generator at k = 1; at k = 2 it is "
                                      f"{interval(results.paper_bound['2'])}.")
    no_k1 = replace(results, motion_bound=without_k1(results.motion_bound), paper_bound=without_k1(results.paper_bound))
    assert headline_k(no_k1) == 2 and headline(no_k1).startswith("k = 1 was not analysed. Motion upper bound at k = 2:")

    _, bare = bare_run
    assert headline_k(bare) == 1
    assert interval(bare.motion_bound["1"]) in headline(bare)
    assert headline(bare).endswith("The paper's bound (original − full analysis) was not measured: no generator was given.")


def header_cells(table_html: str) -> list[str]:
    rows = re.findall(r"<tr>(.*?)</tr>", table_html.split("</thead>")[0], re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<th[^>]*>(.*?)</th>", rows[-1], re.S)]


def test_figure3_table_shows_every_method_and_both_bounds(full_run):
    out, results = full_run
    page = write_report(out).read_text(encoding="utf-8")
    table_html = section(page, "table").split("<table", 1)[1].split("</table>")[0]
    header = header_cells(table_html)
    shared = figure3(results)  # the terminal's and the report's builder: every method that ran, and the bounds
    ran = set(results.methods) | {"best"}
    assert set(shared.columns) == ran | {"motion_bound", "paper_bound"}
    assert header[0] == "k" and len(header) == 1 + len(shared.columns)
    assert {SHORT[c] for c in shared.columns} == set(header[1:])
    # The tool's bound comes before the paper's, and both are the last columns.
    assert header[-2:] == [SHORT["motion_bound"], SHORT["paper_bound"]]
    body = html.unescape(re.sub(r"<[^>]+>", " ", table_html.split("</thead>")[1]))
    for _, ests in shared.rows:
        for est in (e for e in ests if e):
            assert f"{100 * est.value:.1f}" in body and f"[{100 * est.ci[0]:.1f}, {100 * est.ci[1]:.1f}]" in body
    # Column groups name how the frames became a clip.
    groups = re.findall(r'class="group">(.*?)</th>', table_html)
    assert groups == ["", "replicated frames", "perceptual generator", "pixel generator", "uses the label",
                      "the bound&#x27;s choice", "bounds (points)"]
    # The per-class table has both bounds with their intervals.
    per_class = section(page, "classes")
    assert f"{LEGEND['motion_bound']} [95% CI]" in html.unescape(per_class)
    assert f"{LEGEND['paper_bound']} [95% CI]" in html.unescape(per_class)


def test_not_analysable_classes_are_shown_as_such_and_left_out_of_the_picks(bare_run):
    out, results = bare_run
    check = results.model_check
    missing = check.not_analysable
    analysable = [c for c, e in results.per_class.items() if e.analysable]
    assert missing and analysable and check.weak
    page = write_report(out).read_text(encoding="utf-8")
    text = page_text(page)
    # The weak model is flagged at the top, before the headline.
    assert 'id="weak-model"' in page and page.index('id="weak-model"') < page.index('id="headline"')
    assert f"the model recognises only {100 * check.original:.1f}% of the full test clips" in text
    # Each not-analysable class says so in the per-class table, and never gets a bound cell.
    per_class = page_text(section(page, "classes"))
    for name in missing:
        entry = results.per_class[name]
        row = f"{name} {entry.kind} {entry.n} {100 * entry.original:.1f} {not_analysable_text(entry.original)}"
        assert row in per_class
    # The least/most-motion picks come from the analysable classes only, although a not-analysable one
    # has a bound at least as small (nothing was recognised to lose).
    extremes = motion_extremes(results, 1)
    assert {extremes.least.name, extremes.most.name} <= set(analysable)
    assert min(results.per_class[c].bound("motion_bound", 1)[0] for c in missing) <= extremes.least.motion_bound
    # The class shares count analysable classes only, and say how many were left out.
    assert results.class_summary.num_classes == len(analysable)
    assert f"out of the {len(analysable)} analysable class(es) ({len(missing)} not analysable left out)" in text
    # A model above the floor gets no warning.
    strong = replace(results, model_check=replace(check, weak=False))
    from motionprobe.report.html import Inputs, render_report
    assert 'id="weak-model"' not in render_report(strong, Inputs())


def test_motion_extremes_pick_analysable_classes_with_ties_to_the_better_known_class():
    def entry(original, bound, analysable=True):
        return {"n": 2, "original": original, "analysable": analysable, "motion_bound": {"1": bound},
                "motion_bound_ci": {"1": [0, 1]}}
    est = {"value": 0.1, "ci": [0.0, 0.2], "n": 10}
    results = {"schema": SCHEMA, "classes": ["a", "b", "c", "d", "weak", "empty"], "paper_bound": {"1": est},
               "motion_bound": {"1": est},
               "per_class": {"a": entry(0.5, 0.0), "b": entry(1.0, 0.0), "c": entry(0.5, 0.5), "d": entry(0.9, 0.5),
                             "weak": entry(0.1, -0.5, analysable=False), "empty": {"n": 0, "original": None}}}
    ext = motion_extremes(Results.from_json(results))
    assert (ext.k, ext.least.name, ext.most.name) == (1, "b", "d")


def test_diagnostics_are_rendered_in_words(full_run):
    out, results = full_run
    page = write_report(out).read_text(encoding="utf-8")
    if not results.diagnostics:
        assert "No analysable class where the generator falls below" in page_text(section(page, "diagnostics"))
    # One diagnostic per kind, made from this run's own per-class numbers (as the analysis words them).
    data = results.to_json()
    name = data["classes"][2]
    entry = data["per_class"][name]
    data["diagnostics"] = [
        {"class": name, "k": 1, "kind": "generator_below_uniform", "difference": entry["generator_minus_uniform"]["1"],
         "text": f"the generator removes evidence for {name} at k = 1: {100 * entry['generator']['1']:.0f}% generated "
                 f"vs {100 * entry['uniform']['1']:.0f}% replicated"},
        {"class": name, "k": 2, "kind": "selector_below_uniform", "difference": entry["best_minus_uniform"]["2"],
         "text": f"the bound's method chooses worse frames than the uniform subset for {name} at k = 2"}]
    from motionprobe.report.html import Inputs, render_report
    text = page_text(section(render_report(Results.from_json(data), Inputs()), "diagnostics"))
    diff = entry["generator_minus_uniform"]["1"]
    assert (f"The generator removes evidence for {name} at k = 1: {100 * entry['generator']['1']:.0f}% generated vs "
            f"{100 * entry['uniform']['1']:.0f}% replicated (difference {100 * diff['value']:.1f} "
            f"[{100 * diff['ci'][0]:.1f}, {100 * diff['ci'][1]:.1f}] points).") in text
    assert f"The bound's method chooses worse frames than the uniform subset for {name} at k = 2" in text


def test_probe_section_is_present_with_probes_and_absent_without(full_run, bare_run):
    out, results = full_run
    data = results.to_json()
    page = write_report(out).read_text(encoding="utf-8")
    probes = section(page, "probes")
    text = page_text(probes)
    for name, est in data["probes"]["accuracy"].items():
        drop = data["probes"]["drop"][name]
        if est["value"] is None:  # the sped-up probes: this dataset cannot read a clip at another stride
            assert PROBE[name].read > 1 and f"{name} {PROBE[name].words} not run" in text
            continue
        assert (f"{100 * est['value']:.1f} [{100 * est['ci'][0]:.1f}, {100 * est['ci'][1]:.1f}] "
                f"{100 * drop['value']:.1f} [{100 * drop['ci'][0]:.1f}, {100 * drop['ci'][1]:.1f}]") in text, name
    assert 'src="figures/probes_per_kind.png"' in probes and 'src="figures/probe_vs_bound.png"' in probes
    # The shuffle artifact is a sentence computed from the results: the mean drop of classes with a small bound.
    small = [c for c, e in data["per_class"].items() if e["analysable"] and e["motion_bound"]["1"] < 0.10]
    if small:
        mean_drop = np.mean([data["probes"]["per_class"][c]["shuffle"]["drop"]["value"] for c in small])
        assert f"costs them {100 * mean_drop:.1f} points on average" in text
    # No model folder: no strips, and the page says how to get pictures.
    assert "probe_shuffle.png" not in probes and "No pictures" in page_text(page)

    bare_out, bare = bare_run
    bare_page = write_report(bare_out).read_text(encoding="utf-8")
    assert bare.probes is None and "id='probes'" not in bare_page and "Temporal probes" not in bare_page
    assert "probes_per_kind.png" not in bare_page


def test_target_prediction_is_worded_as_agreement(folders, tmp_path):
    out = tmp_path / "analysis"
    results = run_analysis(folders, out, generators=False, probes=("shuffle",), target="prediction")
    assert results.target == "prediction" and results.agreement is None
    page = write_report(out).read_text(encoding="utf-8")
    text = page_text(page.split("<details><summary>resolved configuration")[0])
    assert "accuracy" not in text.lower(), re.findall(r".{40}accuracy.{40}", text, re.I)
    assert "Percentages are agreement with the full-clip prediction" in text
    assert headline(results) in text and "of agreement with the full-clip prediction" in headline(results)
    assert "Agreement with the full-clip prediction by number of frames kept" in text
    assert "Per predicted class" in text and "predicted class kind clips original agreement %" in text
    assert "agreement % [95% CI]" in page_text(section(page, "probes"))


def test_both_targets_give_an_agreement_section(folders, tmp_path):
    out = tmp_path / "analysis"
    results = run_analysis(folders, out, generators=False, probes=(), target="both")
    assert results.target == "label" and results.agreement.target == "prediction"
    page = write_report(out).read_text(encoding="utf-8")
    agreement = page_text(section(page, "agreement"))
    view = results.agreement
    assert view.classes == results.classes
    assert headline(view) in agreement and interval(view.motion_bound["1"]) in agreement
    assert "Original (all 16 frames): 100.0 [100.0, 100.0] — agreement with the full-clip prediction" in agreement
    assert "Per predicted class" in agreement
    assert "Clip accuracy by number of frames kept" in page_text(page)  # the label target headlines the page


def test_wording_follows_the_clip_length(tmp_path):
    """An 8-frame analysis (a motion detector, replication as the generator): no "16" anywhere on the page."""
    clips = StillOrMoving(8)
    settings = AnalysisConfig(ks=(1, 2), bootstrap=20, probes=("shuffle", "reverse"), probe_draws=2)
    results = analyze(motion_detector, clips, tmp_path, settings, generators={1: Replicate(1, 8)}, num_frames=8,
                      progress=False)
    assert results.num_frames == 8
    page = write_report(tmp_path).read_text(encoding="utf-8")
    text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+[+\-Z][\d:]*", "", page_text(page))  # a timestamp's 16 is no frame count
    assert "8-frame clips" in text and "all 8 frames" in text and "only k of its 8 frames" in text
    assert re.search(r"(?<![\d.])16(?![\d.])", text) is None, re.findall(r".{40}(?<![\d.])16(?![\d.]).{40}", text)
    captions = " ".join(f.caption + f.title for f in make_figures(results, tmp_path / "figures"))
    assert "8 frames" in captions and re.search(r"(?<![\d.])16(?![\d.])", captions) is None


def test_report_escapes_dataset_strings_and_links_only_relative_files(full_run):
    out, results = full_run
    assert SCRIPT_CLASS in results.classes
    page = write_report(out).read_text(encoding="utf-8")
    assert "<script" not in page.lower()  # the page has no script at all, and the class name is text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "price $5 &amp; &quot;$6&quot;" in page
    for link in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert "://" not in link and not link.startswith("/"), link
        assert (out / link).is_file(), link
    assert 'id="headline"' in page and html.escape(headline(results), quote=True) in page
    assert "No pictures" in page  # no --model: the page says how to add them


def test_report_verb_writes_the_page_and_prints_the_headline(bare_run, tmp_path, capsys):
    out, results = bare_run
    assert main(["report", str(out), "--out", str(tmp_path / "page")]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "fig7_pixel_vs_perceptual not drawn: needs a pixel-loss" in captured.err and "No pictures" in captured.err
    assert headline(results) in printed and str(tmp_path / "page" / "report.html") in printed
    page = (tmp_path / "page" / "report.html").read_text(encoding="utf-8")
    assert 'src="figures/fig3_accuracy_vs_frames.png"' in page and 'href="../' not in page.split("Files:")[0]
    assert "not drawn" in page  # the skipped figures are listed with their reason
    json.loads((out / "results.json").read_text())  # the analysis folder is left intact


def test_report_verb_refuses_a_folder_without_results(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no results.json" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_card_and_the_graded_section_quote_results_json(full_run, bare_run):
    """The card's lines and the robustness table are the numbers of results.json; reads the dataset cannot make are
    said to be left out, and a run without probes has neither section."""
    out, results = full_run
    page = write_report(out).read_text(encoding="utf-8")
    card = page_text(section(page, "card"))
    est = results.card.motion_bound
    assert (f"motion bound at k = 1 (points) {100 * est.value:.1f} [{100 * est.ci[0]:.1f}, "
            f"{100 * est.ci[1]:.1f}]") in card
    area = results.card.bound_area
    assert area.ks == (1, 2) and f"its area over k (points), k = 1–2 {100 * area.value:.1f}" in card
    assert results.card.temporal_demand is None and "temporal demand (points) —" in card  # no read was made
    graded = page_text(page[page.index("id='graded'"):page.index("id='pictures'")])
    overall = results.graded.robustness["overall"]
    assert f"{overall.value:.2f} [{overall.ci[0]:.2f}, {overall.ci[1]:.2f}]" in graded
    assert results.sampling.reads["16"] == {"clips": 0, "past_end": 0, "left_out": results.num_clips}
    assert f"At stride 16: 0 clip(s) ran past their video's end and were filled by the short-video policy; " \
           f"{results.num_clips} could not be read so and are left out." in graded
    assert 'src="figures/graded_probes.png"' in page and 'src="figures/stride_curve.png"' in page

    bare_out, bare = bare_run
    bare_page = write_report(bare_out).read_text(encoding="utf-8")
    assert bare.graded is None and bare.sampling is None and "id='graded'" not in bare_page
    assert bare.card.shuffle_drop is None and "shuffle drop (points) —" in page_text(section(bare_page, "card"))
