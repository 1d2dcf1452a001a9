"""R3D-18, MC3-18 and R(2+1)D-18: published sizes, torchvision's state-dict layout, forward pass, feature taps."""

from __future__ import annotations

import pytest
import torch
from resnet3d_layout import expected_state_layout, random_state, reference_forward

from motionprobe.config import preset
from motionprobe.errors import UserError
from motionprobe.models import build_model
from motionprobe.models.resnet3d import KINETICS_MEAN, KINETICS_STD, NETWORKS, PERCEPTUAL_LAYERS


def model_of(cfg, num_classes, **kw):
    """The model a config describes: `build_model` takes its model and data sections."""
    return build_model(cfg.model, cfg.data, num_classes, **kw)

ARCHS = ("r3d_18", "mc3_18", "r2plus1d_18")
# Published sizes at 400 classes (torchvision.models.video; Tran et al. 2018).
PUBLISHED = {"r3d_18": (33_371_472, 122), "mc3_18": (11_695_440, 122), "r2plus1d_18": (31_505_325, 224)}


@pytest.fixture(scope="module")
def full_nets():
    torch.manual_seed(0)
    return {arch: NETWORKS[arch](400).eval() for arch in ARCHS}


def _cfg(arch: str, crop: int = 32, width: float = 1.0):
    cfg = preset("tiny")
    cfg = cfg.evolve(model={"arch": arch, "width": width})
    cfg = cfg.evolve(data={"crop_size": crop, "resize": (crop, crop)})
    return cfg


@pytest.mark.parametrize("arch", ARCHS)
def test_published_parameter_and_entry_counts(arch, full_nets):
    net = full_nets[arch]
    params, entries = PUBLISHED[arch]
    assert sum(p.numel() for p in net.parameters()) == params
    assert len(net.state_dict()) == entries
    # the hand-written layout agrees with the published numbers too, so it is a fair yardstick
    layout = expected_state_layout(arch)
    assert len(layout) == entries
    counted = sum(torch.Size(s).numel() for k, s in layout.items()
                  if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
    assert counted == params


@pytest.mark.parametrize("arch", ARCHS)
def test_state_dict_names_and_shapes_match_torchvision(arch, full_nets):
    own = {k: tuple(v.shape) for k, v in full_nets[arch].state_dict().items()}
    expected = expected_state_layout(arch)
    assert sorted(own) == sorted(expected)
    assert {k: s for k, s in own.items() if s != expected[k]} == {}


def test_r2plus1d_mid_widths_spot_checks(full_nets):
    state = full_nets["r2plus1d_18"].state_dict()
    # known values of the (2+1)D split: 45 stem filters; 144 in layer1; 230 for both convs of layer2.0
    assert state["stem.0.weight"].shape == (45, 3, 1, 7, 7)
    assert state["layer1.0.conv1.0.0.weight"].shape == (144, 64, 1, 3, 3)
    assert state["layer2.0.conv1.0.0.weight"].shape == (230, 64, 1, 3, 3)
    assert state["layer2.0.conv2.0.0.weight"].shape == (230, 128, 1, 3, 3)
    assert state["layer2.1.conv1.0.0.weight"].shape == (288, 128, 1, 3, 3)


@pytest.mark.parametrize("arch", ARCHS)
def test_full_size_forward_on_a_tiny_clip(arch, full_nets):
    with torch.no_grad():
        out = full_nets[arch](torch.rand(1, 3, 4, 32, 32))
    assert out.shape == (1, 400) and torch.isfinite(out).all()


@pytest.mark.parametrize("arch", ARCHS)
def test_forward_equals_the_published_computation(arch):
    """Random weights: our module and a functional re-statement of the published network agree.
    (Quarter width keeps it fast; the names were checked against the published layout above.)"""
    net = model_of(_cfg(arch, width=0.25), 10).net.eval()
    state = random_state({k: tuple(v.shape) for k, v in net.state_dict().items()}, seed=1)
    net.load_state_dict(state)
    x = torch.randn(2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ours, ref = net(x), reference_forward(state, arch, x)
    assert ours.shape == (2, 10)
    assert torch.allclose(ours, ref, atol=1e-5, rtol=1e-4), (ours - ref).abs().max()


@pytest.mark.parametrize("arch", ARCHS)
def test_registry_builds_wrapped_model_that_trains(arch):
    model = model_of(_cfg(arch, width=0.125), 10)
    assert model.preprocessing.mean == KINETICS_MEAN and model.preprocessing.std == KINETICS_STD
    assert model.spec.perceptual_layers == PERCEPTUAL_LAYERS
    assert set(PERCEPTUAL_LAYERS) <= set(model.layer_names())
    clip = torch.rand(3, 3, 4, 32, 32)
    labels = torch.tensor([0, 4, 9])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    first = None
    for _ in range(4):  # the same batch four times: the loss must go down
        loss = torch.nn.functional.cross_entropy(model(clip), labels)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first


@pytest.mark.parametrize("arch", ARCHS)
def test_width_scales_channels_and_keeps_names(arch, full_nets):
    small = model_of(_cfg(arch, width=0.25), 400).net
    assert list(small.state_dict()) == list(full_nets[arch].state_dict())
    assert small.state_dict()["layer4.1.conv2.1.weight"].shape == (128,)
    assert small.fc.in_features == 128


@pytest.mark.parametrize("arch, time_after", [("r3d_18", (8, 8, 4, 2, 1)), ("mc3_18", (8, 8, 8, 8, 8)),
                                              ("r2plus1d_18", (8, 8, 4, 2, 1))])
def test_feature_taps_by_name(arch, time_after):
    model = model_of(_cfg(arch, width=0.25), 10).eval()
    clip = torch.rand(2, 3, 8, 32, 32)
    logits, feats = model.forward_features(clip, PERCEPTUAL_LAYERS)
    assert logits.shape == (2, 10)
    channels = (16, 16, 32, 64, 128)
    space = (16, 16, 8, 4, 2)
    for name, c, t, s in zip(PERCEPTUAL_LAYERS, channels, time_after, space, strict=True):
        assert feats[name].shape == (2, c, t, s, s), name
    with torch.no_grad():
        assert torch.equal(logits, model(clip))


def test_tapped_inner_features_are_not_overwritten_later():
    """A block's conv2 output is tapped before the residual sum and the ReLU: recombining taps gives the block."""
    model = model_of(_cfg("r3d_18", width=0.25), 10).eval()
    layers = ["stem", "layer1.0.conv2", "layer1.0", "layer1.0.conv1.1"]
    with torch.no_grad():
        _, f = model.forward_features(torch.rand(1, 3, 8, 32, 32), layers)
    assert (f["layer1.0.conv2"] < 0).any()  # BN output, before any ReLU
    assert (f["layer1.0.conv1.1"] < 0).any()  # BN output tapped before conv1's ReLU
    assert torch.allclose(f["layer1.0"], torch.relu(f["layer1.0.conv2"] + f["stem"]))


def test_unknown_layer_lists_names():
    model = model_of(_cfg("mc3_18", width=0.125), 10)
    with pytest.raises(UserError, match=r"unknown feature layer 'layer9'.*layer4\.1\.conv2"):
        model.features(torch.rand(1, 3, 8, 32, 32), ["layer9"])


def test_other_input_sizes_are_resized_and_cropped_inside_the_wrapper():
    cfg = _cfg("r3d_18", crop=32, width=0.125)
    cfg = cfg.evolve(data={"resize": (40, 50)})
    model = build_model(cfg.model, cfg.data, 10).eval()
    clip = torch.rand(1, 3, 8, 60, 90)
    x = model.preprocess(clip)
    assert x.shape == (1, 3, 8, 32, 32)
    with torch.no_grad():
        assert model(clip).shape == (1, 10)
