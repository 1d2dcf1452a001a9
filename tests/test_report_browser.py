"""report.html in headless Chromium: every image decodes (figures, pictures, the probes' strips), the headline
with both bounds shows, a hostile class name stays text.

A copy of the page gets a small probe script that records, after load, each image's naturalWidth, the
visible text and how often alert() was called; `--dump-dom` prints the DOM with the probe's results.
Skipped only where no Chromium is installed (CI installs Debian's `chromium`).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest
from report_fixtures import SCRIPT_CLASS, Renamed, run_analysis, save_folders, tiny_config

from motionprobe.cli import main
from motionprobe.data.synthetic import CLASSES, SyntheticMotionDataset
from motionprobe.folders import ModelFolder
from motionprobe.probes import CLASSIC
from motionprobe.report import headline, write_report

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (install Debian's 'chromium' to run)")

# Installed before any of the page's own content: counts alert() calls. Run after load: writes the results.
GUARD = "<script>window.__alerts = 0; window.alert = function () { window.__alerts += 1; };</script>"
PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var probe = {alerts: window.__alerts, scripts: document.scripts.length,
               images: images.map(function (i) { return [i.getAttribute("src"), i.complete ? i.naturalWidth : 0]; }),
               text: document.body.innerText,
               headline: (document.getElementById("headline") || {}).innerText || ""};
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(probe);
  document.body.appendChild(out);
});
</script>"""


def probe(page, tmp_path) -> dict:
    """Load a copy of `page` (beside the original, so relative links resolve) in headless Chromium."""
    copy = page.with_name("probe_" + page.name)
    text = page.read_text(encoding="utf-8")
    copy.write_text(text.replace("<head>", "<head>" + GUARD, 1).replace("</body>", PROBE + "</body>", 1), encoding="utf-8")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=5000", "--dump-dom",
           copy.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"chromium printed no probe (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return save_folders(tmp_path_factory.mktemp("browser_models"))


def test_report_with_pictures_renders_every_image_and_the_headline(folders, tmp_path):
    analysis = tmp_path / "analysis"
    results = run_analysis(folders, analysis, class_floor=0)
    # Generators come from the folders recorded in results.json; the clips from its configuration.
    assert main(["report", str(analysis), "--model", str(folders["model"])]) == 0
    page = analysis / "report.html"
    seen = probe(page, tmp_path)
    sources = [src for src, _ in seen["images"]]
    figures = {"fig3_accuracy_vs_frames", "fig5_per_class", "bounds_per_class", "fig7_pixel_vs_perceptual",
               "fig8_generator_gain", "per_kind", "probes_per_kind", "probe_vs_bound", "graded_probes", "stride_curve"}
    assert {f"figures/{name}.png" for name in figures} <= set(sources)
    assert any(s.endswith("selectors.gif") for s in sources)
    strips = {f"pictures/probe_{name}.{ext}" for name in CLASSIC for ext in ("png", "gif")}
    assert strips <= set(sources)  # one strip and one animation per classic probe (the synthetic clips have fast ones)
    assert [src for src, width in seen["images"] if width <= 0] == []  # every image decoded
    assert seen["headline"].startswith("Motion upper bound at k = 1:") and "The paper's bound" in seen["headline"]
    assert headline(results) == seen["headline"].strip()
    assert "Temporal probes" in seen["text"] and "Diagnostics" in seen["text"]
    assert seen["scripts"] == 2  # only the probe's own two


def test_hostile_class_names_are_shown_as_text_and_never_run(folders, tmp_path):
    analysis = tmp_path / "analysis"
    # Every class hostile, so the pictures' captions (drawn for two of them) carry one too.
    names = {i: f"<script>alert({i})</script>" for i in range(len(CLASSES))}
    assert names[1] == SCRIPT_CLASS
    dataset = Renamed(SyntheticMotionDataset("test", per_class=1, size=32), names)
    run_analysis(folders, analysis, dataset=dataset, pixel=False, probes=())
    model, _ = ModelFolder(folders["model"]).load()
    ModelFolder(tmp_path / "model").save(model, tiny_config(), dataset.classes)  # the same weights, the hostile names
    page = write_report(analysis, model_dir=tmp_path / "model", dataset=dataset)
    seen = probe(page, tmp_path)
    assert seen["alerts"] == 0 and seen["scripts"] == 2
    assert SCRIPT_CLASS in seen["text"]
    pictures = seen["text"].split("What the model was shown")[1].split("Per class")[0]
    assert "clip synthetic/test/" in pictures and "<script>alert(" in pictures
    assert [src for src, width in seen["images"] if width <= 0] == []
