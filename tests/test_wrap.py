"""Bring your own model: motionprobe.wrap on a user's nn.Module, and --model-factory package.module:function."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from fixtures_user_model import USER_MEAN, USER_STD, TinyVideoNet

import motionprobe
from motionprobe.config import preset
from motionprobe.errors import UserError
from motionprobe.folders import ModelFolder
from motionprobe.models import VideoModel, build_model

MEAN = torch.tensor(USER_MEAN).view(1, 3, 1, 1, 1)
STD = torch.tensor(USER_STD).view(1, 3, 1, 1, 1)


@pytest.fixture(autouse=True)
def _tests_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


def test_wrap_normalizes_inside_and_returns_the_modules_logits():
    torch.manual_seed(0)
    net = TinyVideoNet(5).eval()
    model = motionprobe.wrap(net, normalize=(USER_MEAN, USER_STD), feature_layers=["features.1"],
                             input_size=(32, 32), num_frames=8)
    assert isinstance(model, VideoModel)
    assert model.spec.perceptual_layers == ("features.1",) and model.spec.num_frames == 8
    clip = torch.rand(2, 3, 8, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(clip), net((clip - MEAN) / STD), atol=1e-6)


def test_forward_features_taps_the_users_layers():
    net = TinyVideoNet(5).eval()
    model = motionprobe.wrap(net, normalize=(USER_MEAN, USER_STD), feature_layers=["features.1", "features.3"],
                             input_size=(32, 32))
    clip = torch.rand(2, 3, 16, 32, 32)
    with torch.no_grad():
        logits, feats = model.forward_features(clip, model.spec.perceptual_layers)
        x = (clip - MEAN) / STD
        first = torch.relu(net.features[0](x))
    assert logits.shape == (2, 5)
    assert feats["features.1"].shape == (2, 6, 16, 32, 32) and feats["features.3"].shape == (2, 8, 8, 16, 16)
    assert torch.allclose(feats["features.1"], first, atol=1e-6)
    # features are differentiable with respect to the clip (the perceptual loss needs that)
    clip.requires_grad_(True)
    model.features(clip, ["features.3"])["features.3"].mean().backward()
    assert clip.grad is not None and clip.grad.abs().sum() > 0


def test_unknown_layer_lists_the_models_names():
    with pytest.raises(UserError) as e:
        motionprobe.wrap(TinyVideoNet(5), feature_layers=["conv9"])
    msg = str(e.value)
    assert "'conv9'" in msg and "features.0" in msg and "classifier" in msg and "\n" not in msg


def test_model_factory_bare_module_is_wrapped_for_the_data():
    cfg = preset("tiny")
    cfg = cfg.evolve(model={"model_factory": "fixtures_user_model:bare"})
    model = build_model(cfg.model, cfg.data, 7, trust_model_code=True)
    assert isinstance(model, VideoModel) and isinstance(model.net, TinyVideoNet)
    assert model.spec.input_size == (cfg.data.crop_size, cfg.data.crop_size)
    assert model(torch.rand(2, 3, 16, 32, 32)).shape == (2, 7)


def test_model_factory_wrapped_model_trains_and_survives_a_checkpoint(tmp_path):
    cfg = preset("tiny")
    cfg = cfg.evolve(model={"model_factory": "fixtures_user_model:wrapped"})
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.data, 4, trust_model_code=True)
    assert model.preprocessing.mean == USER_MEAN and model.spec.perceptual_layers == ("features.1", "features.3")
    clip, labels = torch.rand(4, 3, 16, 32, 32), torch.tensor([0, 1, 2, 3])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(8):
        loss = torch.nn.functional.cross_entropy(model(clip), labels)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses[-1] < losses[0]

    ModelFolder(tmp_path / "m").save(model.eval(), cfg, list("abcd"))
    again, meta = ModelFolder(tmp_path / "m").load(trust_model_code=True)
    assert meta["classes"] == list("abcd") and again.preprocessing == model.preprocessing
    assert again.spec.perceptual_layers == model.spec.perceptual_layers
    with torch.no_grad():
        assert torch.equal(again(clip), model(clip))


@pytest.mark.parametrize("spec, message", [
    ("fixtures_user_model.bare", "expected 'package.module:function'"),
    ("no_such_module_here:build", "cannot load 'no_such_module_here:build'"),
    ("fixtures_user_model:missing", "cannot load 'fixtures_user_model:missing'"),
])
def test_model_factory_errors_name_the_option(spec, message):
    cfg = preset("tiny")
    cfg = cfg.evolve(model={"model_factory": spec})
    with pytest.raises(UserError, match=f"model.model_factory: {message}"):
        build_model(cfg.model, cfg.data, 3, trust_model_code=True)
