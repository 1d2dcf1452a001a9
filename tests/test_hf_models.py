"""Hugging Face transformers video classifiers as motionprobe models (motionprobe.models.hf).

Tiny random VideoMAE (32×32, patch 8, 2 layers, 16 frames, tubelet 2) and TimeSformer (32×32, patch 8, 2 layers,
8 frames) models are written with `save_pretrained`, next to processor configs written by transformers' own
processor classes with a mean/std that is neither the class default nor the ImageNet fallback. Nothing is
downloaded. The adapter's logits, features, preprocessing and errors are checked against the transformers model
itself, and the analysis and the perceptual loss run through it at both frame counts.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import transformers  # the optional extra motionprobe[hf]
from transformers.models.timesformer.video_processing_timesformer import TimesformerVideoProcessor
from transformers.models.videomae.image_processing_pil_videomae import VideoMAEImageProcessorPil

from motionprobe.analysis import analyze
from motionprobe.config import AnalysisConfig
from motionprobe.data.base import to_float
from motionprobe.data.synthetic import SyntheticMotionDataset
from motionprobe.errors import ConfigError, UserError
from motionprobe.generator import PerceptualLoss, TemporalGenerator, normalized_sq_distance, take_frames
from motionprobe.io import load_tensors, save_tensors
from motionprobe.models.hf import (
    build_hf_from_config,
    class_names,
    default_perceptual_blocks,
    hf_architecture_config,
    load_hf_model,
    preprocessing_from_processor,
)

MEAN, STD = (0.3, 0.4, 0.5), (0.2, 0.25, 0.3)  # neither transformers' class defaults nor ImageNet's
LABELS = ("archery", "bowling", "juggling")
TINY = dict(image_size=32, patch_size=8, num_hidden_layers=2, hidden_size=32, num_attention_heads=2,
            intermediate_size=64, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
            label2id={name: i for i, name in enumerate(LABELS)})
# name: (model class, config, processor, frames, tokens per block, a clip size the wrapper must resize)
FAMILIES = {
    "videomae": (transformers.VideoMAEForVideoClassification,
                 transformers.VideoMAEConfig(num_frames=16, tubelet_size=2, **TINY),
                 VideoMAEImageProcessorPil(image_mean=list(MEAN), image_std=list(STD), size={"shortest_edge": 32},
                                           crop_size={"height": 32, "width": 32}),
                 16, (16 // 2) * (32 // 8) ** 2, 48),
    "timesformer": (transformers.TimesformerForVideoClassification,
                    transformers.TimesformerConfig(num_frames=8, **TINY),
                    TimesformerVideoProcessor(image_mean=list(MEAN), image_std=list(STD), size={"height": 40, "width": 40},
                                              crop_size={"height": 32, "width": 32}),
                    8, 1 + 8 * (32 // 8) ** 2, 24),
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """One save_pretrained folder per family (model + processor config), plus a VideoMAE one without processor."""
    out = {}
    for name, (cls, config, processor, *_rest) in FAMILIES.items():
        torch.manual_seed(0)
        folder = tmp_path_factory.mktemp(name)
        model = cls(config)
        model.save_pretrained(folder)
        processor.save_pretrained(folder)
        out[name] = folder
    bare = tmp_path_factory.mktemp("videomae-bare")
    FAMILIES["videomae"][0](FAMILIES["videomae"][1]).save_pretrained(bare)
    out["bare"] = bare
    return out


def reference_logits(folder, clip: torch.Tensor) -> torch.Tensor:
    """The transformers model's own logits on (B, T, C, H, W) input normalized with the files' mean/std."""
    hf = transformers.AutoModelForVideoClassification.from_pretrained(folder, local_files_only=True).eval()
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1, 1), torch.tensor(STD).view(1, 3, 1, 1, 1)
    with torch.no_grad():
        return hf(pixel_values=((clip - mean) / std).permute(0, 2, 1, 3, 4)).logits


@pytest.mark.parametrize("family", FAMILIES)
def test_the_adapter_reads_frames_size_mean_std_and_class_names_from_the_files(folders, family):
    _cls, _config, processor, frames, _tokens, _size = FAMILIES[family]
    model, classes = load_hf_model(folders[family])
    assert classes == list(LABELS)
    assert model.spec.num_frames == frames and model.spec.input_size == (32, 32)
    assert model.preprocessing.mean == MEAN and model.preprocessing.std == STD
    assert model.preprocessing.crop == (32, 32) and model.preprocessing.value_scale == 1.0
    assert model.preprocessing.resize == {"videomae": (32, 32), "timesformer": (40, 40)}[family]
    written = {"videomae": "preprocessor_config.json", "timesformer": "video_preprocessor_config.json"}[family]
    assert (folders[family] / written).is_file() and model.spec.extra["hf"]["processor"] == written
    assert model.spec.perceptual_layers == ("blocks.0", "blocks.1") and not model.training


@pytest.mark.parametrize("family", FAMILIES)
def test_logits_equal_the_transformers_models_own(folders, family):
    model, _ = load_hf_model(folders[family])
    torch.manual_seed(1)
    clip = torch.rand(2, 3, FAMILIES[family][3], 32, 32)
    with torch.no_grad():
        got = model(clip)
    assert got.shape == (2, len(LABELS))
    assert torch.allclose(got, reference_logits(folders[family], clip), atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_clips_of_another_size_are_resized_and_cropped_to_the_models(folders, family):
    *_rest, frames, _tokens, size = FAMILIES[family]
    model, _ = load_hf_model(folders[family])
    clip = torch.rand(1, 3, frames, size, size)
    resize = model.preprocessing.resize
    resized = F.interpolate(clip[0].transpose(0, 1), size=resize, mode="bilinear", align_corners=False, antialias=True)
    top = (resize[0] - 32) // 2
    cropped = resized[..., top:top + 32, top:top + 32].transpose(0, 1).unsqueeze(0)
    with torch.no_grad():
        assert torch.allclose(model(clip), reference_logits(folders[family], cropped), atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_block_features_have_the_token_shape_match_the_hidden_states_and_carry_gradients(folders, family):
    *_rest, frames, tokens, _size = FAMILIES[family]
    model, _ = load_hf_model(folders[family])
    clip = torch.rand(2, 3, frames, 32, 32, requires_grad=True)
    first_block = model.net.hf.get_submodule(model.net.layers_path)[0]
    hooks = len(first_block._forward_hooks)
    logits, feats = model.forward_features(clip, ["blocks.0", "blocks.1"])
    assert len(first_block._forward_hooks) == hooks and not model.net.blocks[0]._forward_hooks  # relays and taps gone
    assert {name: tuple(f.shape) for name, f in feats.items()} == {"blocks.0": (2, tokens, 32), "blocks.1": (2, tokens, 32)}
    hidden = model.net.hf(pixel_values=model.preprocess(clip).permute(0, 2, 1, 3, 4), output_hidden_states=True)
    for i in range(2):  # hidden_states[0] is the embedding, [i + 1] block i's output
        assert torch.allclose(feats[f"blocks.{i}"], hidden.hidden_states[i + 1], atol=1e-6)
    feats["blocks.0"].pow(2).mean().backward()
    assert clip.grad is not None and clip.grad.abs().sum() > 0


def test_another_class_count_replaces_only_the_head(folders):
    model, classes = load_hf_model(folders["videomae"], num_classes=5)
    same, _ = load_hf_model(folders["videomae"], num_classes=3)
    saved = load_tensors(folders["videomae"] / "model.safetensors")
    assert classes == [f"class_{i}" for i in range(5)] and model.net.hf.classifier.out_features == 5
    assert model.spec.extra["hf"]["head_replaced"] and model.spec.extra["hf"]["file_classes"] == 3
    assert not same.spec.extra["hf"]["head_replaced"] and torch.equal(same.net.hf.classifier.weight,
                                                                      saved["classifier.weight"])
    # (transformers 5 renames some tensors on loading, e.g. q_bias → query.bias: compare loaded with loaded)
    kept = {k: v for k, v in same.net.state_dict().items() if not k.startswith("hf.classifier.")}
    assert kept and all(torch.equal(model.net.state_dict()[k], v) for k, v in kept.items())
    assert model(torch.rand(2, 3, 16, 32, 32)).shape == (2, 5)


def test_a_folder_without_processor_config_gets_imagenet_mean_std(folders):
    model, classes = load_hf_model(folders["bare"])
    assert model.preprocessing.mean == (0.485, 0.456, 0.406) and model.preprocessing.std == (0.229, 0.224, 0.225)
    assert model.spec.extra["hf"]["processor"] is None and classes == list(LABELS)


@pytest.mark.parametrize("family", FAMILIES)
def test_rebuilt_from_the_architecture_config_and_saved_weights_gives_identical_logits(folders, family, tmp_path):
    model, classes = load_hf_model(folders[family])
    arch = json.loads(json.dumps(hf_architecture_config(model)))  # what meta.json holds
    save_tensors(tmp_path / "model.safetensors", model.net.state_dict())
    rebuilt = build_hf_from_config(arch, len(classes))
    rebuilt.net.load_state_dict(load_tensors(tmp_path / "model.safetensors"), strict=True)
    rebuilt.set_preprocessing(model.preprocessing)
    rebuilt.eval()
    assert rebuilt.spec.num_frames == model.spec.num_frames and class_names(rebuilt.net.hf.config) == list(LABELS)
    clip = torch.rand(2, 3, model.spec.num_frames, 32, 32)
    with torch.no_grad():
        assert torch.equal(rebuilt(clip), model(clip))


@pytest.mark.parametrize("family, wrong", [("videomae", 8), ("timesformer", 16)])
def test_another_frame_count_is_a_one_line_config_error(folders, family, wrong):
    # transformers' TimeSformer runs a 16-frame clip through an 8-frame model without complaint
    model, _ = load_hf_model(folders[family])
    with pytest.raises(ConfigError) as e:
        model(torch.rand(1, 3, wrong, 32, 32))
    frames = FAMILIES[family][3]
    assert e.value.path == "data.num_frames" and "\n" not in str(e.value)
    assert f"takes exactly {frames} frames" in str(e.value) and f"got {wrong}" in str(e.value)


def test_what_is_not_a_transformers_video_classifier_is_a_one_line_user_error(folders, tmp_path, monkeypatch):
    import huggingface_hub.constants

    empty = tmp_path / "empty"
    empty.mkdir()
    other = tmp_path / "motionprobe-run"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"data": {"num_frames": 16}, "model": {"arch": "c3d"}}))
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert"}))
    no_weights = tmp_path / "no-weights"
    no_weights.mkdir()
    (no_weights / "config.json").write_text((folders["videomae"] / "config.json").read_text())
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # a hub id fails at once, not after retries
    for source, expected in [(empty, "no config.json"), (other, "cannot load a Hugging Face config"),
                             (bert, "not a transformers video classifier"), (no_weights, "cannot load it as"),
                             (tmp_path / "missing.txt", "nor a hub model id"),
                             ("someone/videomae-k400", "no such folder, and as a hub model id: cannot load")]:
        with pytest.raises(UserError) as e:
            load_hf_model(source)
        message = str(e.value)
        assert message.startswith(f"{source}: ") and expected in message and "\n" not in message, message


def test_preprocessor_spellings():
    legacy = preprocessing_from_processor({"image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
                                           "size": 224, "do_center_crop": True}, (224, 224))  # VideoMAEFeatureExtractor
    assert legacy.resize == (224, 224) and legacy.crop == (224, 224) and legacy.value_scale == 1.0
    raw = preprocessing_from_processor({"image_mean": 0.5, "image_std": 0.5, "do_rescale": False, "do_resize": False},
                                       (32, 32))  # a model trained on 0–255 values: pixels = clip · 255
    assert raw.value_scale == 255.0 and raw.mean == (0.5, 0.5, 0.5) and raw.resize is None and raw.crop == (32, 32)
    plain = preprocessing_from_processor({"image_mean": [0.3] * 3, "do_normalize": False}, (32, 32))
    assert plain.mean == (0.0, 0.0, 0.0) and plain.std == (1.0, 1.0, 1.0)
    with pytest.raises(UserError, match="crops to 256×256 but the model takes 224×224"):
        preprocessing_from_processor({"crop_size": {"height": 256, "width": 256}, "do_center_crop": True}, (224, 224))


def test_default_perceptual_blocks_spread_over_the_depth_and_class_name_fallback():
    assert default_perceptual_blocks(12) == ("blocks.2", "blocks.5", "blocks.8", "blocks.11")
    assert default_perceptual_blocks(1) == ("blocks.0",) and default_perceptual_blocks(2) == ("blocks.0", "blocks.1")

    class Config:
        num_labels, id2label = 3, {0: "walk", 2: "run"}

    assert class_names(Config()) == ["walk", "class_1", "run"]


@pytest.mark.parametrize("family", FAMILIES)
def test_the_analysis_runs_on_the_adapter(folders, family, tmp_path):
    frames = FAMILIES[family][3]
    test = SyntheticMotionDataset("test", per_class=2, size=32, num_frames=frames)
    model, _ = load_hf_model(folders[family], num_classes=len(test.classes))
    torch.manual_seed(0)
    generator = TemporalGenerator(1, num_frames=frames, ngf=4, n_blocks=1).eval()
    results = analyze(model, test, tmp_path, AnalysisConfig(ks=(1, 4), bootstrap=50), generators={1: generator},
                      progress=False).to_json()
    clips = torch.stack([to_float(test[i]["clip"]) for i in range(len(test))])
    with torch.no_grad():
        predicted = model(clips).argmax(1).numpy()
    assert results["num_frames"] == frames and results["num_clips"] == len(test)
    assert results["accuracy"]["original"]["value"] == pytest.approx(np.mean(predicted == np.array(test.labels)), abs=1e-6)
    assert set(results["accuracy"]["uniform"]) == {"1", "4"} and set(results["accuracy"]["generator"]) == {"1"}


@pytest.mark.parametrize("family", FAMILIES)
def test_the_perceptual_loss_trains_a_generator_through_the_adapter(folders, family):
    frames = FAMILIES[family][3]
    model, _ = load_hf_model(folders[family])
    frozen = {k: v.clone() for k, v in model.net.state_dict().items()}
    loss_fn = PerceptualLoss(model)
    data = SyntheticMotionDataset("train", per_class=1, size=32, num_frames=frames)
    clips = torch.stack([to_float(data[i]["clip"]) for i in range(4)])
    indices = torch.tensor([[0], [frames // 2], [frames - 1], [3]])
    torch.manual_seed(0)
    generator = TemporalGenerator(1, num_frames=frames, ngf=4, n_blocks=1)
    before = [p.clone() for p in generator.parameters()]
    opt = torch.optim.Adam(generator.parameters(), lr=1e-3)
    for step in range(3):
        generated = generator(take_frames(clips, indices), indices)
        loss = loss_fn(generated, clips)
        if step == 0:  # the loss is the sum of the two blocks' normalized distances
            with torch.no_grad():
                got, wanted = model.features(generated, loss_fn.layers), model.features(clips, loss_fn.layers)
            expected = sum(normalized_sq_distance(got[n], wanted[n]) for n in ("blocks.0", "blocks.1"))
            assert loss_fn.layers == ("blocks.0", "blocks.1") and loss.item() == pytest.approx(expected.item(), rel=1e-5)
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert torch.isfinite(loss)
    assert all(not torch.equal(a, b) for a, b in zip(before, generator.parameters(), strict=True))
    assert all(torch.equal(frozen[k], v) for k, v in model.net.state_dict().items())
