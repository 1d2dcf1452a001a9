"""Qualitative pictures (strips and GIFs regenerated from a real analysis), the temporal probes' strips,
frames of real-video sizes and feature inversion."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image
from report_fixtures import StillOrMoving, motion_detector, run_analysis, save_folders, tiny_config

from motionprobe.cli import main
from motionprobe.config import AnalysisConfig
from motionprobe.data import build_dataset
from motionprobe.errors import UserError
from motionprobe.folders import GeneratorFolder, ModelFolder
from motionprobe.probes import CLASSIC, probe_order
from motionprobe.report import InversionSettings, draw_pictures, draw_probe_strips, invert_features, write_report
from motionprobe.report.canvas import (
    GAP,
    LABEL_WIDTH,
    MAX_FRAME,
    MAX_STRIP_WIDTH,
    RIGHT,
    SELECTED,
    WRONG,
    Row,
    motion_magnitude,
    strip,
    strip_frame_size,
)
from motionprobe.report.pictures import ClipRecord, choose_clip, read_per_clip
from motionprobe.report.view import motion_extremes


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    root = tmp_path_factory.mktemp("pictures")
    folders = save_folders(root)
    results = run_analysis(folders, root / "analysis", pixel=False, test_per_class=2, class_floor=0)
    return folders, root / "analysis", results


def frame_origin(pictures_png_height_top: int, frame: int, row: int, frame_px: int) -> tuple[int, int]:
    """Top-left pixel of a frame in a strip (the layout of canvas.strip)."""
    return LABEL_WIDTH + frame * (frame_px + GAP), pictures_png_height_top + row * (frame_px + GAP)


def test_pictures_show_the_chosen_frames_in_the_right_colours(analysed, tmp_path):
    folders, analysis, results = analysed
    model, _ = ModelFolder(folders["model"]).load()
    generator, _ = GeneratorFolder(folders["gen_k1"]).load()
    dataset = build_dataset(tiny_config(2).data, "test")
    pictures = draw_pictures(results, analysis, tmp_path, model=model, generators={1: generator}, dataset=dataset)
    extremes = motion_extremes(results)
    roles = ["least", "most"] if extremes.least.name != extremes.most.name else ["least"]
    assert [p.name for p in pictures] == [f"{r}_motion_{kind}" for r in roles for kind in ("generated", "selectors")]
    # The folders given are the analysed ones: the regenerated clips get the recorded predictions.
    assert all(p.consistent for p in pictures)

    frame_px = strip_frame_size(32, 32, 16)[0]
    assert frame_px == 64  # the benchmark's 32×32 frames, doubled
    records = read_per_clip(analysis / "per_clip.csv")
    for role, row in zip(roles, (extremes.least, extremes.most), strict=False):
        record = choose_clip(records, row.name, 1)
        generated = np.asarray(Image.open(tmp_path / f"{role}_motion_generated.png").convert("RGB"))
        selectors = np.asarray(Image.open(tmp_path / f"{role}_motion_selectors.png").convert("RGB"))
        # 4 rows of 16 frames beside the labels, under a title and the frame numbers (5 rows for the selectors:
        # best, max response, the oracle, and the clips generated from the last two).
        assert generated.shape[1] == LABEL_WIDTH + 16 * (frame_px + GAP)
        top = generated.shape[0] - 4 * (frame_px + GAP)
        assert selectors.shape[0] - 5 * (frame_px + GAP) == top
        (chosen,) = record.frames["full@1"]
        x, y = frame_origin(top, chosen, 0, frame_px)
        assert tuple(generated[y + 1, x + 1]) == SELECTED
        others = [f for f in range(16) if f != chosen]
        x, y = frame_origin(top, others[0], 0, frame_px)
        assert tuple(generated[y + 1, x + 1]) != SELECTED
        for r, method in enumerate(("best", "full", "oracle")):
            (frame,) = record.frames[f"{method}@1"]
            expected = RIGHT if record.pred[f"{method}@1"] == record.label else WRONG
            x, y = frame_origin(top, frame, r, frame_px)
            assert tuple(selectors[y + 1, x + 1]) == expected, (role, method)
        for name in ("generated", "selectors"):
            with Image.open(tmp_path / f"{role}_motion_{name}.gif") as gif:
                assert gif.n_frames == 16 and gif.info.get("loop") == 0


def frame_cell(image: np.ndarray, top: int, frame: int, row: int, size: tuple[int, int]) -> np.ndarray:
    """The pixels of one frame of a strip (rows of `size` (h, w) frames under `top`)."""
    h, w = size
    x, y = LABEL_WIDTH + frame * (w + GAP), top + row * (h + GAP)
    return image[y:y + h, x:x + w]


def test_probe_strips_show_the_clip_in_each_probes_order(analysed, tmp_path):
    folders, analysis, results = analysed
    model, _ = ModelFolder(folders["model"]).load()
    dataset = build_dataset(tiny_config(2).data, "test")
    strips, notes = draw_probe_strips(results, analysis, tmp_path, model=model, dataset=dataset)
    # one strip per classic probe (one severity per family: the graded ones are the same transforms)
    assert notes == [] and [p.name for p in strips] == [f"probe_{name}" for name in results.probes.accuracy
                                                        if name in CLASSIC]
    # The clip: one of the analysable class needing the most motion, one the model gets right.
    most = motion_extremes(results, results.probes.bound_agreement["k"]).most.name
    record = next(r for r in read_per_clip(analysis / "per_clip.csv")
                  if r.class_name == most and r.pred["original"] == r.label)
    position = dataset.ids.index(record.clip_id)
    assert record.clip_id in strips[0].caption and most in strips[0].caption
    size = strip_frame_size(32, 32, 16)
    seed = results.seed
    for picture in strips:
        name = picture.name.removeprefix("probe_")
        image = np.asarray(Image.open(picture.png).convert("RGB"))
        top = image.shape[0] - 2 * (size[0] + GAP)
        def corner(cell: np.ndarray) -> np.ndarray:  # the bottom-right quarter: clear of the frame's mark
            return cell[size[0] // 2:, size[1] // 2:]

        if name == "fast":  # every other frame of the window twice as long, as the dataset draws it
            fast = dataset.fast_clip(position).permute(1, 2, 3, 0).numpy()
            for t in range(16):
                expected = np.asarray(Image.fromarray(fast[t]).resize(size[::-1], Image.NEAREST))
                assert np.array_equal(corner(frame_cell(image, top, t, 1, size)), corner(expected)), (name, t)
            continue
        order = probe_order(name, 16, clip_key=position, variant=0, seed=seed)
        for t in range(16):
            probed, original = frame_cell(image, top, t, 1, size), frame_cell(image, top, int(order[t]), 0, size)
            assert np.array_equal(corner(probed), corner(original)), (name, t)
        with Image.open(picture.gif) as gif:
            assert gif.n_frames == 16


def test_a_not_analysable_class_is_never_pictured(analysed, tmp_path):
    folders, analysis, results = analysed
    model, _ = ModelFolder(folders["model"]).load()
    generator, _ = GeneratorFolder(folders["gen_k1"]).load()
    dataset = build_dataset(tiny_config(2).data, "test")
    before = motion_extremes(results)
    least = results.per_class[before.least.name]
    flagged = replace(results, per_class={**results.per_class, before.least.name: replace(least, analysable=False)})
    after = motion_extremes(flagged)
    assert after.least.name != before.least.name
    pictures = draw_pictures(flagged, analysis, tmp_path, model=model, generators={1: generator}, dataset=dataset)
    assert all(before.least.name not in p.caption.split(":")[0] for p in pictures)
    assert pictures[0].caption.startswith(f"{after.least.name}: the class needing the least motion")


@pytest.mark.parametrize(("height", "width", "frames"), [(240, 320, 16), (1080, 1920, 16), (224, 224, 32), (112, 112, 8)])
def test_real_video_frames_are_shown_at_a_readable_size(height, width, frames):
    clip = np.random.default_rng(0).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)
    h, w = strip_frame_size(height, width, frames)
    assert h <= MAX_FRAME and abs(w / h - width / height) < 0.02  # shrunk, aspect kept
    image = strip([Row("clip", clip), Row("again", clip)], "title")
    assert image.width == LABEL_WIDTH + frames * (w + GAP) <= MAX_STRIP_WIDTH
    assert image.height == 44 + 18 + 2 * (h + GAP)


def test_eight_frame_clips_draw_eight_frame_strips(tmp_path):
    from motionprobe.analysis import analyze
    from motionprobe.generator import Replicate

    clips = StillOrMoving(16)
    settings = AnalysisConfig(ks=(1,), bootstrap=20, probes=("reverse",), class_floor=0)
    results = analyze(motion_detector, clips, tmp_path, settings, generators={1: Replicate(1, 8)}, num_frames=8,
                      progress=False)
    pictures = draw_pictures(results, tmp_path, tmp_path / "pictures", model=motion_detector,
                             generators={1: Replicate(1, 8)}, dataset=clips)
    strips, _ = draw_probe_strips(results, tmp_path, tmp_path / "pictures", model=motion_detector, dataset=clips)
    h, w = strip_frame_size(16, 16, 8)
    for picture in pictures + strips:
        with Image.open(picture.png) as png:
            assert png.width == LABEL_WIDTH + 8 * (w + GAP), picture.name
        with Image.open(picture.gif) as gif:
            assert gif.n_frames == 8, picture.name
    assert "at k = 1" in pictures[0].caption and "16" not in " ".join(p.caption for p in pictures + strips)


def test_choose_clip_prefers_right_originals_then_differing_selections():
    def rec(i, label, original, full, oracle):
        return ClipRecord(f"c{i}", label, "x", {"original": original, "full@1": 0, "oracle@1": 0},
                          {"original": tuple(range(16)), "full@1": (full,), "oracle@1": (oracle,)})
    records = [rec(0, 1, 0, 3, 3), rec(1, 1, 1, 4, 4), rec(2, 1, 1, 5, 6), rec(3, 1, 1, 7, 8)]
    assert choose_clip(records, "x", 1).clip_id == "c2"
    assert choose_clip(records[:2], "x", 1).clip_id == "c1"
    assert choose_clip(records, "y", 1) is None


def test_motion_magnitude_is_the_absolute_frame_difference():
    clip = torch.zeros(3, 4, 2, 2)
    clip[0, 1] = 0.5  # red rises at t = 1, stays, then drops at t = 3
    clip[0, 2] = 0.5
    m = motion_magnitude(clip)
    assert m.shape == (4, 2, 2)
    assert torch.allclose(m[:, 0, 0], torch.tensor([0.0, 0.5, 0.0, 0.5]))


def test_inversion_lowers_the_feature_loss(analysed):
    folders, _, _ = analysed
    model, _ = ModelFolder(folders["model"]).load()
    clip = build_dataset(tiny_config(1).data, "test")[4]["clip"]
    inv = invert_features(model, clip, "pool5", InversionSettings(steps=8, lr=0.05), progress=False)
    assert inv.reconstruction.shape == (3, 16, 32, 32)
    assert 0.0 <= float(inv.reconstruction.min()) and float(inv.reconstruction.max()) <= 1.0
    assert inv.final_loss < 0.5 * inv.initial_loss
    # The loss reported is the loss of the clip returned.
    with torch.no_grad():
        target = model.features(inv.original[None], ["pool5"])["pool5"]
        got = model.features(inv.reconstruction[None], ["pool5"])["pool5"]
    assert ((got - target).pow(2).sum() / target.pow(2).sum()).item() == pytest.approx(inv.final_loss, rel=1e-4)
    with pytest.raises(UserError, match="unknown feature layer 'pool9'.*conv1.*pool5"):
        invert_features(model, clip, "pool9", progress=False)


def test_invert_verb_writes_strip_gif_and_loss_and_the_report_shows_them(analysed, tmp_path, capsys):
    folders, analysis, _ = analysed
    out = analysis / "inversion"
    assert main(["invert", "--model", str(folders["model"]), "--layer", "relu2", "--clip", "3", "--steps", "4",
                 "--test-per-class", "1", "--no-progress", "--out", str(out)]) == 0
    assert "relative feature loss" in capsys.readouterr().out
    info = json.loads((out / "inversion.json").read_text())
    assert info["layer"] == "relu2" and info["clip"] == 3 and info["steps"] == 4
    assert info["feature_loss_final"] < info["feature_loss_initial"]
    with Image.open(out / "inversion.gif") as gif:
        assert gif.n_frames == 16
    with Image.open(out / "inversion.png") as png:
        assert png.width == LABEL_WIDTH + 16 * (strip_frame_size(32, 32, 16)[1] + GAP)
    page = write_report(analysis, out_dir=analysis.parent / "page").read_text(encoding="utf-8")
    assert 'src="../analysis/inversion/inversion.png"' in page and "Feature inversion at relu2" in page

    assert main(["invert", "--model", str(folders["model"]), "--layer", "nope", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--layer: unknown feature layer 'nope'" in err and "pool5" in err and len(err.strip().splitlines()) == 1
    assert main(["invert", "--model", str(folders["model"]), "--clip", "99", "--test-per-class", "1",
                 "--out", str(out)]) == 2
    assert "--clip: 99 is outside" in capsys.readouterr().err
