"""`write_report`: an analysis folder → figures/, pictures/ and report.html beside them.

From results.json alone it draws the figures and tables; `model_dir=` adds the temporal probes' strips
and (with `generator_dirs={k: folder}`, by default the folders results.json names) the pictures of
generated clips. On a four-clip analysis (two still clips, two moving ones, a motion detector for a
model, replication for the k = 1 generator):

>>> import tempfile, torch
>>> from motionprobe.analysis import analyze
>>> from motionprobe.config import AnalysisConfig
>>> from motionprobe.generator import Replicate
>>> class Clips(list):
...     classes = ["still", "moving"]
>>> still = torch.rand(3, 1, 8, 8).expand(3, 16, 8, 8)
>>> clips = Clips({"id": str(i), "label": i % 2, "clip": torch.rand(3, 16, 8, 8) if i % 2 else still}
...               for i in range(4))
>>> def motion_detector(x):
...     motion = (x[:, :, 1:] - x[:, :, :-1]).abs().mean((1, 2, 3, 4))
...     return torch.stack([0.1 - motion, motion - 0.1], 1)
>>> folder = tempfile.mkdtemp()
>>> _ = analyze(motion_detector, clips, folder, AnalysisConfig(ks=(1,), bootstrap=100), generators={1: Replicate(1)},
...             progress=False)
>>> page = write_report(folder)
>>> page.name, sorted(p.name for p in (page.parent / "figures").iterdir())  # doctest: +NORMALIZE_WHITESPACE
('report.html', ['bounds_per_class.png', 'fig3_accuracy_vs_frames.png', 'fig5_per_class.png',
                 'fig8_generator_gain.png', 'graded_probes.png', 'probe_vs_bound.png', 'probes_per_kind.png',
                 'stride_curve.png'])

The page links its images relatively, so the folder can be moved, zipped or opened offline. A
feature inversion written into the folder's `inversion/` subfolder is shown too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from .. import config as config_mod
from ..analysis.results_type import Results
from ..errors import UserError
from ..folders import AnalysisFolder, GeneratorFolder, ModelFolder, file_sha256
from ..io import atomic_write_text, read_json
from .figures import make_figures
from .html import Inputs, render_report
from .pictures import draw_pictures
from .probe_pictures import draw_probe_strips
from .view import picture_k

REPORT = "report.html"
FIGURES, PICTURES, INVERSION = "figures", "pictures", "inversion"


def _link(path: Path, page_dir: Path) -> str:
    return Path(os.path.relpath(path, page_dir)).as_posix()


def refuse_linked_folders(out: Path) -> None:
    """The report writes only inside `out`: a figures/ or pictures/ that is a symbolic link would send its PNGs
    wherever the link points (report.html itself is replaced by a rename, which never follows a link)."""
    for name in (FIGURES, PICTURES):
        if (out / name).is_symlink():
            raise UserError(f"{out / name} is a symbolic link (to {os.readlink(out / name)}); the report writes only "
                            f"inside {out}: remove the link")


def write_report(analysis_dir: str | Path, model_dir: str | Path | None = None,
                 generator_dirs: dict[int, str | Path] | None = None, dataset: Any = None, *,
                 out_dir: str | Path | None = None, device: str = "cpu", verbose: bool = False) -> Path:
    """Draw the figures (always) and the pictures (when `model_dir` is given), write report.html; return its path.

    `generator_dirs` ({k: folder}) defaults to the generator folders recorded in results.json when they
    still exist; `dataset` defaults to the test split of the configuration the analysis ran with.
    `verbose` prints, on stderr, each figure not drawn and why, and the notes about the pictures.
    """
    analysis_dir = Path(analysis_dir)
    results = AnalysisFolder(analysis_dir).results()
    out = Path(out_dir) if out_dir is not None else analysis_dir
    out.mkdir(parents=True, exist_ok=True)
    refuse_linked_folders(out)
    inputs = Inputs()

    inputs.figures = make_figures(results, out / FIGURES)
    inputs.figure_links = {f.name: _link(f.path, out) for f in inputs.figures if f.path is not None}

    if model_dir is None:
        inputs.notes.append("No pictures: give the model folder to draw them (and the generator folders when "
                            "results.json's are gone).")
    else:
        _add_pictures(results, analysis_dir, out, Path(model_dir), generator_dirs, dataset, device, inputs)

    inversion = analysis_dir / INVERSION / "inversion.json"
    if inversion.is_file():
        info = read_json(inversion)
        files = info.get("files", {})
        inputs.inversion = {**info, "png": _link(inversion.parent / files.get("strip", "inversion.png"), out),
                            "gif": _link(inversion.parent / files.get("gif", "inversion.gif"), out)}

    names = {"results.json": "results.json", "per-class table (CSV)": "per_class.csv",
             "per-clip choices (CSV)": "per_clip.csv", "candidate table (CSV)": "candidates.csv.gz"}
    inputs.files = {label: _link(analysis_dir / name, out) for label, name in names.items()
                    if (analysis_dir / name).is_file()}
    page = out / REPORT
    atomic_write_text(page, render_report(results, inputs))
    if verbose:
        for fig in inputs.figures:
            if fig.path is None and fig.name != "per_kind":  # kinds are the embedded benchmark's alone
                print(f"motionprobe report: {fig.name} not drawn: {fig.skipped}", file=sys.stderr)
        for note in inputs.notes + inputs.probe_notes:
            print(f"motionprobe report: {note}", file=sys.stderr)
    return page


def _add_pictures(results: Results, analysis_dir: Path, out: Path, model_dir: Path,
                  generator_dirs: dict[int, str | Path] | None, dataset: Any, device: str, inputs: Inputs) -> None:
    from ..data import build_dataset

    model_folder = ModelFolder(model_dir)
    model_folder.check_classes(results.classes, argument="model")
    model, _ = model_folder.load(device)
    _check_weights("model", model_dir / "model.safetensors", results.provenance.model.get("sha256"), inputs)
    if dataset is None:
        if not results.config:
            raise UserError(f"{analysis_dir}/results.json records no configuration; pass the dataset explicitly")
        recorded = config_mod.from_dict(results.config)
        dataset = build_dataset(recorded.data, "test", training=False, seed=recorded.seed)
    inputs.pictures_from = {"model": str(model_dir.resolve())}
    inputs.probe_pictures, inputs.probe_notes = draw_probe_strips(results, analysis_dir, out / PICTURES, model=model,
                                                                  dataset=dataset, device=device)
    generator = _generator(results, generator_dirs, model.spec.num_frames, device, inputs)
    if generator is not None:
        k, folder, net = generator
        inputs.pictures = draw_pictures(results, analysis_dir, out / PICTURES, model=model, generators={k: net},
                                        dataset=dataset, k=k, device=device)
        inputs.pictures_from[f"generator k={k}"] = str(folder.resolve())
        if not inputs.pictures:
            inputs.notes.append(f"No pictures of generated clips: no class is analysable at k = {k} (the model "
                                "recognises too few of each class's full clips).")
    inputs.picture_links = {p.name: (_link(p.png, out), _link(p.gif, out))
                            for p in inputs.pictures + inputs.probe_pictures}


def _check_weights(label: str, weights: Path, recorded: str | None, inputs: Inputs) -> None:
    if recorded and weights.is_file() and file_sha256(weights) != recorded:
        inputs.notes.append(f"The {label} folder given ({weights.parent}) is not the one analysed (its weights "
                            "differ): the pictures may not match the numbers.")


def _generator(results: Results, generator_dirs: dict[int, str | Path] | None, num_frames: int, device: str,
               inputs: Inputs) -> tuple[int, Path, Any] | None:
    """The perceptual generator at the k the pictures use, with its folder; None (and a note) without one."""
    k = picture_k(results)
    if k is None:
        inputs.notes.append("No pictures of generated clips: the analysis ran without a generator.")
        return None
    recorded_generators = results.provenance.generators()
    if generator_dirs is None:
        recorded = recorded_generators.get(str(k), {}).get("path")
        generator_dirs = {k: recorded} if recorded and Path(recorded).is_dir() else {}
    folders = {int(key): Path(folder) for key, folder in generator_dirs.items()}
    if k not in folders:
        inputs.notes.append(f"No pictures of generated clips: they are drawn at k = {k}; give the generator folder for "
                            f"k = {k} (the perceptual generator the analysis used).")
        return None
    net, _ = GeneratorFolder(folders[k]).load_for(k, "perceptual", num_frames, device)
    _check_weights(f"generator k={k}", folders[k] / "generator.safetensors",
                   recorded_generators.get(str(k), {}).get("sha256"), inputs)
    return k, folders[k], net
