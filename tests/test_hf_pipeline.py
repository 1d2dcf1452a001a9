"""Hugging Face transformers models in the CLI and model folders: `motionprobe pipeline --hf-model DIR` end to end
on a tiny random VideoMAE (T = 16) and TimeSformer (T = 8) written with save_pretrained (no download); the model's
clip length and size set the data's when the config is resolved; a model folder rebuilds from the architecture
config in its meta.json without the Hugging Face folder; code a Hugging Face folder ships is never run."""

from __future__ import annotations

import builtins
import json
import shutil

import pytest
import torch
import transformers  # the optional extra motionprobe[hf]
from transformers.models.videomae.image_processing_pil_videomae import VideoMAEImageProcessorPil

from motionprobe.cli import main
from motionprobe.config import preset, resolve
from motionprobe.errors import ConfigError, UserError
from motionprobe.folders import ModelFolder
from motionprobe.io import read_json
from motionprobe.models import build_model
from motionprobe.models.hf import fit_data_to_model, load_hf_model

MEAN, STD = (0.3, 0.4, 0.5), (0.2, 0.25, 0.3)
TINY = dict(image_size=32, patch_size=8, num_hidden_layers=2, hidden_size=32, num_attention_heads=2,
            intermediate_size=64, num_labels=3)
# name: (model class, config, frames per clip)
FAMILIES = {
    "videomae": (transformers.VideoMAEForVideoClassification,
                 transformers.VideoMAEConfig(num_frames=16, tubelet_size=2, **TINY), 16),
    "timesformer": (transformers.TimesformerForVideoClassification, transformers.TimesformerConfig(num_frames=8, **TINY),
                    8),
}
# The smallest run of every stage: --fast gives 1 epoch each on 6 + 2 clips per class; fewer subsets and a
# small generator on top.
SMALL = {"analysis": {"candidates": 4}, "generator": {"ngf": 4, "n_blocks": 1}}


def save_tiny(family: str, folder) -> None:
    cls, config, _frames = FAMILIES[family]
    torch.manual_seed(0)
    cls(config).save_pretrained(folder)
    VideoMAEImageProcessorPil(image_mean=list(MEAN), image_std=list(STD), size={"shortest_edge": 32},
                              crop_size={"height": 32, "width": 32}).save_pretrained(folder)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    out = {}
    for family in FAMILIES:
        out[family] = tmp_path_factory.mktemp(family)
        save_tiny(family, out[family])
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_pipeline_runs_end_to_end_on_the_hugging_face_model(family, tmp_path, caplog):
    frames = FAMILIES[family][2]
    hf_folder, out, small = tmp_path / family, tmp_path / "run", tmp_path / "small.json"
    save_tiny(family, hf_folder)
    small.write_text(json.dumps(SMALL))
    assert main(["pipeline", "--hf-model", str(hf_folder), "--dataset", "synthetic", "--fast", "--frames", "1",
                 "--config", str(small), "--out", str(out)]) == 0
    notes = [r.getMessage() for r in caplog.records if "Hugging Face model" in r.getMessage()]
    assert notes == ([] if frames == 16 else [f"data.num_frames 16 → 8: the Hugging Face model {hf_folder} "
                                              "(timesformer) takes 8 frames of 32×32"])

    # train-model fine-tuned it: a 12-class head for the benchmark, its preprocessing from the processor config
    meta = read_json(out / "model" / "meta.json")
    assert meta["hf_config"]["model_type"] == family and meta["hf_config"]["num_frames"] == frames
    assert len(meta["hf_config"]["id2label"]) == len(meta["classes"]) == 12
    assert tuple(meta["preprocessing"]["mean"]) == MEAN and meta["spec"]["num_frames"] == frames
    clip = torch.rand(2, 3, frames, 32, 32)
    model, _ = ModelFolder(out / "model").load()
    with torch.no_grad():
        before = model(clip)
    shutil.rmtree(hf_folder)  # the model folder needs nothing from the Hugging Face folder
    rebuilt, _ = ModelFolder(out / "model").load()
    with torch.no_grad():
        assert torch.equal(rebuilt(clip), before)

    # the generator trained on the model's block features, at the model's clip length
    generator = out / "generator_k1_perceptual"
    assert (generator / "losses.csv").read_text().splitlines()[0].split(",")[3:5] == ["blocks.0", "blocks.1"]
    assert read_json(generator / "meta.json")["num_frames"] == frames
    results = read_json(out / "analysis" / "results.json")
    assert results["num_frames"] == frames and "1" in results["accuracy"]["generator"]
    assert (out / "analysis" / "report.html").is_file()


def test_the_models_clip_shape_wins_when_the_config_is_resolved(tmp_path, caplog):
    save_tiny("timesformer", tmp_path / "timesformer")
    cfg = resolve(overrides={"model.hf_model": str(tmp_path / "timesformer"), "data.crop_size": 24,
                             "data.resize": [24, 30]}, fit_data=fit_data_to_model)
    assert (cfg.data.num_frames, cfg.data.crop_size, cfg.data.resize) == (8, 32, (32, 40))  # resize scaled, aspect kept
    assert caplog.records[-1].getMessage() == (f"data.num_frames 16 → 8, data.crop_size 24 → 32, data.resize (24, 30) → "
                                               f"(32, 40): the Hugging Face model {tmp_path / 'timesformer'} "
                                               "(timesformer) takes 8 frames of 32×32")
    shutil.rmtree(tmp_path / "timesformer")
    again = resolve(base=cfg, overrides={"analysis.ks": [1, 2]})  # a trained model's config: the folder is not read
    assert again.data.num_frames == 8 and again.analysis.ks == (1, 2)


def test_resolving_a_hugging_face_model_without_the_fitting_step_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="fit_data=") as e:
        resolve(overrides={"model.hf_model": str(tmp_path / "timesformer")})
    assert e.value.path == "model.hf_model"


def test_build_model_fine_tunes_the_head_and_refuses_another_clip_length(folders):
    cfg = resolve(overrides={"model.hf_model": str(folders["videomae"])}, fit_data=fit_data_to_model)
    model = build_model(cfg.model, cfg.data, 5)
    original, _ = load_hf_model(folders["videomae"])
    assert model.net.hf.classifier.out_features == 5 and model.spec.extra["hf"]["head_replaced"]
    assert torch.equal(model.net.hf.videomae.embeddings.patch_embeddings.projection.weight,
                       original.net.hf.videomae.embeddings.patch_embeddings.projection.weight)
    cfg = cfg.evolve(data={"num_frames": 8})
    with pytest.raises(ConfigError, match="takes 16-frame clips, the data config gives 8") as e:
        build_model(cfg.model, cfg.data, 5)
    assert e.value.path == "data.num_frames"
    cfg = cfg.evolve(model={"model_factory": "fixtures_user_model:bare"})
    with pytest.raises(ConfigError, match="choose one"):
        resolve(base=cfg)


def test_the_cli_names_its_flag_for_a_folder_that_is_not_a_video_classifier(tmp_path, capsys):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    assert main(["train-model", "--hf-model", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"motionprobe: error: {tmp_path}: a bert model is not a transformers video classifier")
    assert err.count("\n") == 1 and not (tmp_path / "run").exists()


def test_code_shipped_in_a_hugging_face_folder_is_never_run_even_if_a_prompt_would_say_yes(tmp_path, monkeypatch):
    """transformers asks on the terminal before running a folder's own modules (`auto_map`); motionprobe never
    lets it ask, so nobody can answer yes to code inside a model they were sent."""
    marker = tmp_path / "ran"
    (tmp_path / "config.json").write_text(json.dumps({
        "model_type": "planted", "auto_map": {"AutoConfig": "configuration_planted.PlantedConfig"}}))
    (tmp_path / "configuration_planted.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).touch()\n"
        "from transformers import PretrainedConfig\nclass PlantedConfig(PretrainedConfig):\n    model_type = 'planted'\n")
    monkeypatch.setattr(builtins, "input", lambda *_: "y")
    with pytest.raises(UserError) as e:
        load_hf_model(tmp_path)
    assert not marker.exists()
    assert "\n" not in str(e.value) and str(e.value).startswith(f"{tmp_path}: cannot load a Hugging Face config")
    cfg = preset("tiny")
    cfg = cfg.evolve(model={"hf_model": str(tmp_path)})
    with pytest.raises(UserError):
        build_model(cfg.model, cfg.data, 3)
    assert not marker.exists()
