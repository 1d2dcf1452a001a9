"""Perceptual and pixel losses: normalization, zeros, a frozen model that passes gradients through."""

import pytest
import torch
from torch import nn

from motionprobe.config import preset
from motionprobe.errors import UserError
from motionprobe.generator import (
    PerceptualLoss,
    PixelLoss,
    TemporalGenerator,
    build_loss,
    normalized_sq_distance,
    take_frames,
)
from motionprobe.models import build_model, wrap


def model_of(cfg, num_classes, **kw):
    """The model a config describes: `build_model` takes its model and data sections."""
    return build_model(cfg.model, cfg.data, num_classes, **kw)


def channel_sum_model() -> nn.Module:
    """Layer "sum": a 1×1×1 convolution adding the three channels (features 1×T×H×W); then a classifier."""
    conv = nn.Conv3d(3, 1, 1, bias=False)
    nn.init.ones_(conv.weight)
    net = nn.Sequential()
    net.add_module("sum", conv)
    net.add_module("drop", nn.Dropout(0.5))
    net.add_module("pool", nn.AdaptiveAvgPool3d(1))
    net.add_module("flat", nn.Flatten())
    net.add_module("fc", nn.Linear(1, 2))
    return wrap(net, feature_layers=["sum"], input_size=(2, 2))


def test_normalized_distance_hand_example():
    a = torch.zeros(1, 2, 1, 1, 2)
    b = a.clone()
    b[0, 0, 0, 0, 0], b[0, 1, 0, 0, 1] = 1.0, 2.0
    assert normalized_sq_distance(a, b).item() == pytest.approx((1 + 4) / 4)
    # Averaged over the batch: a second, identical pair halves it.
    assert normalized_sq_distance(torch.cat([a, a]), torch.cat([b, a])).item() == pytest.approx(1.25 / 2)


def test_perceptual_and_pixel_divide_by_c_t_h_w():
    x = torch.zeros(1, 3, 2, 2, 2)
    y = x.clone()
    y[0, 0, 1, 1, 0] = 1.0  # one value differs by 1
    perceptual = PerceptualLoss(channel_sum_model(), ["sum"])
    assert perceptual(y, x).item() == pytest.approx(1 / (1 * 2 * 2 * 2))  # C_l = 1 after the channel sum
    assert PixelLoss()(y, x).item() == pytest.approx(1 / (3 * 2 * 2 * 2))


def test_layer_weights_scale_their_terms():
    model = channel_sum_model()
    x, y = torch.rand(2, 3, 2, 2, 2), torch.rand(2, 3, 2, 2, 2)
    once = PerceptualLoss(model, ["sum"])(y, x)
    assert PerceptualLoss(model, ["sum"], [3.0])(y, x).item() == pytest.approx(3 * once.item())


def test_a_pixel_weight_adds_that_many_pixel_distances():
    model = channel_sum_model()
    x, y = torch.rand(2, 3, 2, 2, 2), torch.rand(2, 3, 2, 2, 2)
    anchored = PerceptualLoss(model, ["sum"], pixel_weight=20.0)
    terms = anchored.terms(y, x)
    assert set(terms) == {"sum", "pixel"} and terms["pixel"].item() == pytest.approx(PixelLoss()(y, x).item())
    expected = PerceptualLoss(model, ["sum"])(y, x).item() + 20 * PixelLoss()(y, x).item()
    assert anchored(y, x).item() == pytest.approx(expected)
    with pytest.raises(UserError, match="generator.pixel_weight: expected a finite weight ≥ 0, got -1"):
        PerceptualLoss(model, ["sum"], pixel_weight=-1.0)


def test_losses_are_zero_for_identical_clips_and_positive_otherwise():
    torch.manual_seed(0)
    cfg = preset("tiny")
    model = build_model(cfg.model, cfg.data, 10)
    x = torch.rand(2, 3, 16, 32, 32)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    for loss in (build_loss("perceptual", model, cfg.generator), build_loss("pixel", None, cfg.generator)):
        assert loss(x, x).item() == 0.0
        assert loss(y, x).item() > 0.0
    terms = build_loss("perceptual", model, cfg.generator).terms(y, x)
    assert list(terms) == list(model.spec.perceptual_layers) and all(v > 0 for v in terms.values())


def test_frozen_model_passes_gradients_to_the_generator_only():
    torch.manual_seed(0)
    cfg = preset("tiny")
    model = build_model(cfg.model, cfg.data, 10)
    model.train()
    loss = build_loss("perceptual", model, cfg.generator)
    loss.train()  # switching the loss to training must not wake the model's dropout
    assert not model.training and all(not m.training for m in model.modules())
    generator = TemporalGenerator(1, ngf=4, n_blocks=1)
    clip = torch.rand(2, 3, 16, 32, 32)
    indices = torch.tensor([[3], [8]])
    loss(generator(take_frames(clip, indices), indices), clip).backward()
    assert all(p.grad is None and not p.requires_grad for p in model.parameters())
    grads = [p.grad for p in generator.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0


def test_unknown_layer_names_the_models_layers():
    with pytest.raises(UserError, match="unknown feature layer 'conv9'.*conv1"):
        PerceptualLoss(model_of(preset("tiny"), 10), ["conv1", "conv9"])


def test_weights_must_match_layers():
    with pytest.raises(UserError, match="perceptual_weights: expected 2 weights"):
        PerceptualLoss(channel_sum_model(), ["sum", "fc"], [1.0])


def test_unknown_loss_is_a_user_error():
    with pytest.raises(UserError, match="generator.loss: expected one of perceptual, pixel"):
        build_loss("adversarial", None, preset("tiny").generator)
