"""Inception-I3D: TensorFlow SAME padding, the published layer table and sizes, any clip length and width, feature
taps by endpoint name, and the registry entry that trains."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from i3d_layout import flax_layout

from motionprobe.config import preset
from motionprobe.models import build_model
from motionprobe.models.i3d import (
    ENDPOINTS,
    PERCEPTUAL_LAYERS,
    Conv3dSame,
    InceptionI3d,
    Logits,
    MaxPool3dSame,
    tf_same_padding,
)


def model_of(cfg, num_classes, **kw):
    """The model a config describes: `build_model` takes its model and data sections."""
    return build_model(cfg.model, cfg.data, num_classes, **kw)

# Measured on the real i3d-kinetics-400.ckpt: 230 arrays holding 12,704,544 values, of which the 114 BatchNorm
# statistics (mean and var of 57 units, 7,280 channels) hold 2 × 7,280 = 14,560: the network's parameters are the rest.
CHECKPOINT_VALUES, BN_CHANNELS = 12_704_544, 7_280
PARAMETERS = CHECKPOINT_VALUES - 2 * BN_CHANNELS  # 12,689,984

# Activations on a 3×16×224×224 clip, from the paper's table (channels, time, height, width).
SHAPES_224 = {
    "Conv3d_1a_7x7": (64, 8, 112, 112), "MaxPool3d_2a_3x3": (64, 8, 56, 56), "Conv3d_2b_1x1": (64, 8, 56, 56),
    "Conv3d_2c_3x3": (192, 8, 56, 56), "MaxPool3d_3a_3x3": (192, 8, 28, 28), "Mixed_3b": (256, 8, 28, 28),
    "Mixed_3c": (480, 8, 28, 28), "MaxPool3d_4a_3x3": (480, 4, 14, 14), "Mixed_4b": (512, 4, 14, 14),
    "Mixed_4c": (512, 4, 14, 14), "Mixed_4d": (512, 4, 14, 14), "Mixed_4e": (528, 4, 14, 14),
    "Mixed_4f": (832, 4, 14, 14), "MaxPool3d_5a_2x2": (832, 2, 7, 7), "Mixed_5b": (832, 2, 7, 7),
    "Mixed_5c": (1024, 2, 7, 7),
}


@pytest.fixture(scope="module")
def full_net():
    torch.manual_seed(0)
    return InceptionI3d(400).eval()


def _cfg(width: float = 0.125, crop: int = 32, frames: int = 16):
    cfg = preset("tiny")
    cfg = cfg.evolve(model={"arch": "i3d", "width": width})
    cfg = cfg.evolve(data={"crop_size": crop, "resize": (crop, crop), "num_frames": frames})
    return cfg


@pytest.mark.parametrize("size, kernel, stride, pads", [
    (224, 7, 2, (2, 3)),  # Conv3d_1a_7x7 in space: ceil(224/2) = 112 outputs need 111·2 + 7 − 224 = 5
    (16, 7, 2, (2, 3)),   # ... and in time on 16 frames
    (9, 7, 2, (3, 3)),    # 5 outputs: 4·2 + 7 − 9 = 6
    (112, 3, 2, (0, 1)),  # MaxPool3d_2a_3x3: 55·2 + 3 − 112 = 1, the odd one at the end
    (8, 3, 2, (0, 1)),    # MaxPool3d_4a_3x3 in time
    (14, 2, 2, (0, 0)),   # MaxPool3d_5a_2x2: 6·2 + 2 − 14 = 0
    (5, 2, 2, (0, 1)),    # an odd size under a 2-wide pool: 2·2 + 2 − 5 = 1
    (28, 3, 1, (1, 1)),   # stride 1: always k − 1, split evenly for odd k
    (1, 3, 1, (1, 1)),
    (3, 7, 2, (3, 3)),    # more padding than input: 1·2 + 7 − 3 = 6
    (56, 1, 1, (0, 0)),
])
def test_tf_same_padding_against_hand_computed_values(size, kernel, stride, pads):
    assert tf_same_padding(size, kernel, stride) == pads
    assert (size + sum(pads) - kernel) // stride + 1 == math.ceil(size / stride)  # SAME: ceil(n / s) outputs


def test_strided_conv_pads_the_extra_pixel_at_the_end_unlike_torch_padding():
    conv = Conv3dSame(2, 3, (3, 7, 7), (2, 2, 2), bias=False)
    x = torch.randn(1, 2, 6, 20, 20, generator=torch.Generator().manual_seed(0))
    # T: 6 → 3 outputs, total 2·2 + 3 − 6 = 1 → (0, 1); H, W: 20 → 10, total 9·2 + 7 − 20 = 5 → (2, 3)
    expected = F.conv3d(F.pad(x, (2, 3, 2, 3, 0, 1)), conv.weight, stride=2)
    got = conv(x)
    assert got.shape == (1, 3, 3, 10, 10)
    assert torch.allclose(got, expected, atol=1e-6)
    symmetric = F.conv3d(x, conv.weight, stride=2, padding=(1, 3, 3))  # same size, windows one pixel off
    assert symmetric.shape == got.shape and not torch.allclose(symmetric, got, atol=1e-3)


def test_max_pool_pads_with_minus_infinity():
    pool = MaxPool3dSame((1, 3, 3), (1, 2, 2))
    x = -1.0 - torch.rand(1, 1, 1, 4, 4)  # all below zero: a zero-padded border would win
    out = pool(x)  # 4 → 2 outputs, pad (0, 1): windows rows 0..2 and 2..3 (+ the pad)
    assert out.shape == (1, 1, 1, 2, 2)
    assert (out < -1.0).all()
    assert out[0, 0, 0, 1, 1] == x[0, 0, 0, 2:, 2:].max()
    assert out[0, 0, 0, 0, 0] == x[0, 0, 0, :3, :3].max()


def test_parameter_count_is_the_checkpoints(full_net):
    layout = flax_layout()
    params = sum(math.prod(s) for k, s in layout.items() if k.startswith("params/"))
    assert sum(math.prod(s) for s in layout.values()) == CHECKPOINT_VALUES and len(layout) == 230
    assert params == PARAMETERS == 12_689_984
    assert sum(p.numel() for p in full_net.parameters()) == PARAMETERS
    bn = [m for m in full_net.modules() if isinstance(m, torch.nn.BatchNorm3d)]
    assert len(bn) == 57 and sum(m.num_features for m in bn) == BN_CHANNELS
    assert all(m.weight is None and m.bias is not None and m.eps == 1e-3 for m in bn)  # β only, DeepMind's ε


def test_endpoints_in_the_papers_order(full_net):
    assert [name for name, _ in full_net.named_children()] == list(ENDPOINTS)
    names = {name for name, _ in full_net.named_modules()}
    assert {"Mixed_3b.Branch_1.Conv3d_0b_3x3", "Mixed_4f.Branch_3.MaxPool3d_0a_3x3", "Logits.Conv3d_0c_1x1"} <= names
    assert set(PERCEPTUAL_LAYERS) <= set(ENDPOINTS)


@pytest.mark.parametrize("frames", [9, 16, 32])
def test_activation_shapes_at_224(frames):
    """Shapes on the meta device (no arithmetic): the table at 16 frames; time scales as ceil(T/2), /2, /2."""
    with torch.device("meta"):
        net = InceptionI3d(400).eval()
    got = {}
    hooks = [getattr(net, name).register_forward_hook(lambda _m, _i, out, name=name: got.__setitem__(name, out.shape))
             for name in SHAPES_224]
    logits = net(torch.empty(2, 3, frames, 224, 224, device="meta"))
    for h in hooks:
        h.remove()
    t1 = math.ceil(frames / 2)
    t4, t5 = math.ceil(t1 / 2), math.ceil(math.ceil(t1 / 2) / 2)
    for name, (c, t, h, w) in SHAPES_224.items():
        time = {8: t1, 4: t4, 2: t5}[t]
        assert tuple(got[name]) == (2, c, time, h, w), name
    assert tuple(logits.shape) == (2, 400)
    if frames == 16:
        assert [tuple(got[n])[2:] for n in ("Conv3d_1a_7x7", "MaxPool3d_4a_3x3", "Mixed_5c")] == \
            [(8, 112, 112), (4, 14, 14), (2, 7, 7)]


def test_logits_pool_is_deepminds_at_224_and_shrinks_on_small_maps():
    head = Logits(4, 3, dropout=0.0).eval()
    conv = head.Conv3d_0c_1x1.conv
    x = torch.randn(1, 4, 3, 7, 7, generator=torch.Generator().manual_seed(0))
    # 2×7×7 average pool, stride 1, over 3 time steps → 2 steps; 1×1×1 conv; mean of the two
    pooled = torch.stack([x[:, :, t:t + 2].mean(dim=(2, 3, 4)) for t in range(2)], dim=2)
    expected = (torch.einsum("oc,bct->bot", conv.weight.flatten(1), pooled) + conv.bias.view(1, 3, 1)).mean(2)
    assert torch.allclose(head(x), expected, atol=1e-6)
    tiny = torch.randn(1, 4, 1, 1, 1)  # a 32×32 clip leaves 1×1×1: the pool takes what there is
    expected = conv.weight.flatten(1) @ tiny.flatten() + conv.bias
    assert torch.allclose(head(tiny)[0], expected, atol=1e-6)


@pytest.mark.parametrize("frames", [9, 16, 32])
@pytest.mark.parametrize("width", [0.125, 0.25])
def test_tiny_variant_runs_any_length_and_width(frames, width):
    model = model_of(_cfg(width=width, frames=frames), 7).eval()
    with torch.no_grad():
        logits, feats = model.forward_features(torch.rand(2, 3, frames, 32, 32), PERCEPTUAL_LAYERS)
    assert logits.shape == (2, 7) and torch.isfinite(logits).all()
    t1 = math.ceil(frames / 2)
    w = lambda c: max(1, round(c * width))  # noqa: E731
    expected = {"Conv3d_1a_7x7": (w(64), t1, 16, 16), "Conv3d_2c_3x3": (w(192), t1, 8, 8),
                "Mixed_3c": (w(128) + w(192) + w(96) + w(64), t1, 4, 4),
                "Mixed_4f": (w(256) + w(320) + w(128) + w(128), math.ceil(t1 / 2), 2, 2),
                "Mixed_5c": (w(384) + w(384) + w(128) + w(128), math.ceil(math.ceil(t1 / 2) / 2), 1, 1)}
    assert {k: tuple(v.shape[1:]) for k, v in feats.items()} == expected


def test_width_keeps_the_names(full_net):
    small = InceptionI3d(400, width=0.25)
    assert list(small.state_dict()) == list(full_net.state_dict())
    assert small.state_dict()["Mixed_5c.Branch_0.Conv3d_0a_1x1.conv.weight"].shape == (96, 208, 1, 1, 1)


def test_dropout_before_the_logits_is_configurable():
    net = InceptionI3d(5, width=0.125, dropout=0.5)
    assert net.Logits.Dropout.p == 0.5
    x = torch.rand(2, 3, 9, 32, 32)
    with torch.no_grad():
        net.train()
        noisy = net(x)
        net.eval()
        a, b = net(x), net(x)
    assert torch.equal(a, b) and not torch.allclose(noisy, a)


def test_registry_builds_a_wrapped_model_that_trains():
    model = model_of(_cfg(), 10)
    assert model.preprocessing.mean == (0.5, 0.5, 0.5) and model.preprocessing.std == (0.5, 0.5, 0.5)
    assert model.spec.perceptual_layers == PERCEPTUAL_LAYERS and model.spec.input_size == (32, 32)
    clip, labels = torch.rand(3, 3, 16, 32, 32), torch.tensor([0, 4, 9])
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(4):  # the same batch four times: the loss must go down
        loss = F.cross_entropy(model(clip), labels)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses[-1] < losses[0]


def test_input_is_mapped_to_minus_one_one():
    model = model_of(_cfg(), 3)
    clip = torch.rand(1, 3, 9, 32, 32)
    assert torch.allclose(model.preprocess(clip), clip * 2 - 1, atol=1e-6)
