"""Qualitative pictures (strips and GIFs regenerated from a real analysis) and feature inversion."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from report_fixtures import run_analysis, save_folders, tiny_config

from motionprobe.cli import main
from motionprobe.data import build_dataset
from motionprobe.errors import UserError
from motionprobe.folders import GeneratorFolder, ModelFolder
from motionprobe.report import InversionSettings, draw_pictures, invert_features, write_report
from motionprobe.report.canvas import GAP, LABEL_WIDTH, RIGHT, SELECTED, WRONG, enlargement, motion_magnitude
from motionprobe.report.pictures import ClipRecord, choose_clip, read_per_clip
from motionprobe.report.view import motion_extremes


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    root = tmp_path_factory.mktemp("pictures")
    folders = save_folders(root)
    results = run_analysis(folders, root / "analysis", pixel=False, test_per_class=2)
    return folders, root / "analysis", results


def frame_origin(pictures_png_height_top: int, frame: int, row: int, frame_px: int) -> tuple[int, int]:
    """Top-left pixel of a frame in a strip (the layout of canvas.strip)."""
    return LABEL_WIDTH + frame * (frame_px + GAP), pictures_png_height_top + row * (frame_px + GAP)


def test_pictures_show_the_chosen_frames_in_the_right_colours(analysed, tmp_path):
    folders, analysis, results = analysed
    model, _ = ModelFolder(folders["model"]).load()
    generator, _ = GeneratorFolder(folders["gen_k1"]).load()
    dataset = build_dataset(tiny_config(2), "test")
    pictures = draw_pictures(results, analysis, tmp_path, model=model, generators={1: generator}, dataset=dataset)
    extremes = motion_extremes(results)
    roles = ["least", "most"] if extremes.least.name != extremes.most.name else ["least"]
    assert [p.name for p in pictures] == [f"{r}_motion_{kind}" for r in roles for kind in ("generated", "selectors")]
    # The folders given are the analysed ones: the regenerated clips get the recorded predictions.
    assert all(p.consistent for p in pictures)

    frame_px = 32 * enlargement(32, 32)
    records = read_per_clip(analysis / "per_clip.csv")
    for role, row in zip(roles, (extremes.least, extremes.most), strict=False):
        record = choose_clip(records, row.name, 1)
        generated = np.asarray(Image.open(tmp_path / f"{role}_motion_generated.png").convert("RGB"))
        selectors = np.asarray(Image.open(tmp_path / f"{role}_motion_selectors.png").convert("RGB"))
        # 4 rows of 16 frames beside the labels, under a title and the frame numbers.
        assert generated.shape[1] == LABEL_WIDTH + 16 * (frame_px + GAP)
        top = generated.shape[0] - 4 * (frame_px + GAP)
        (chosen,) = record.frames["full@1"]
        x, y = frame_origin(top, chosen, 0, frame_px)
        assert tuple(generated[y + 1, x + 1]) == SELECTED
        others = [f for f in range(16) if f != chosen]
        x, y = frame_origin(top, others[0], 0, frame_px)
        assert tuple(generated[y + 1, x + 1]) != SELECTED
        for r, method in enumerate(("full", "oracle")):
            (frame,) = record.frames[f"{method}@1"]
            expected = RIGHT if record.pred[f"{method}@1"] == record.label else WRONG
            x, y = frame_origin(top, frame, r, frame_px)
            assert tuple(selectors[y + 1, x + 1]) == expected, (role, method)
        for name in ("generated", "selectors"):
            with Image.open(tmp_path / f"{role}_motion_{name}.gif") as gif:
                assert gif.n_frames == 16 and gif.info.get("loop") == 0


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
    clip = build_dataset(tiny_config(1), "test")[4]["clip"]
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
        assert png.width == LABEL_WIDTH + 16 * (32 * enlargement(32, 32) + GAP)
    page = write_report(analysis, out_dir=analysis.parent / "page").read_text(encoding="utf-8")
    assert 'src="../analysis/inversion/inversion.png"' in page and "Feature inversion at relu2" in page

    assert main(["invert", "--model", str(folders["model"]), "--layer", "nope", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--layer: unknown feature layer 'nope'" in err and "pool5" in err and len(err.strip().splitlines()) == 1
    assert main(["invert", "--model", str(folders["model"]), "--clip", "99", "--test-per-class", "1",
                 "--out", str(out)]) == 2
    assert "--clip: 99 is outside" in capsys.readouterr().err
