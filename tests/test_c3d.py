"""C3D as Tran et al. 2015: parameter counts, activation shapes, feature taps by name."""

import pytest
import torch

from motionprobe.config import preset, validate
from motionprobe.errors import ConfigError, UserError
from motionprobe.models import architecture, architectures, build_model
from motionprobe.models.c3d import C3D


def model_of(cfg, num_classes, **kw):
    """The model a config describes: `build_model` takes its model and data sections."""
    return build_model(cfg.model, cfg.data, num_classes, **kw)


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("classes, expected", [(101, 78_409_573), (487, 79_991_015)])
def test_parameter_counts_match_the_paper(classes, expected):
    with torch.device("meta"):
        assert n_params(C3D(classes)) == expected


def test_convolutions_and_fc7_counts():
    with torch.device("meta"):
        net = C3D(101)
    convs = sum(n_params(getattr(net, n)) for n in ("conv1", "conv2", "conv3a", "conv3b", "conv4a", "conv4b",
                                                     "conv5a", "conv5b"))
    assert convs == 27_655_936
    assert convs + n_params(net.fc6) + n_params(net.fc7) == 77_995_776


def test_activation_shapes_at_112x112x16():
    with torch.device("meta"):
        model = model_of(preset("paper"), 101)
        logits, feats = model.forward_features(torch.empty(1, 3, 16, 112, 112),
                                               ["relu1", "relu2", "relu3b", "relu4b", "relu5b", "pool5"])
    assert tuple(logits.shape) == (1, 101)
    assert tuple(feats["relu1"].shape[1:]) == (64, 16, 112, 112)
    assert tuple(feats["relu2"].shape[1:]) == (128, 16, 56, 56)
    assert tuple(feats["relu3b"].shape[1:]) == (256, 8, 28, 28)
    assert tuple(feats["relu4b"].shape[1:]) == (512, 4, 14, 14)
    assert tuple(feats["relu5b"].shape[1:]) == (512, 2, 7, 7)
    assert feats["pool5"][0].numel() == 8192


def test_state_dict_names_are_the_ports():
    with torch.device("meta"):
        keys = set(C3D(487).state_dict())
    expected = {f"{layer}.{p}" for layer in ("conv1", "conv2", "conv3a", "conv3b", "conv4a", "conv4b", "conv5a",
                                              "conv5b", "fc6", "fc7", "fc8") for p in ("weight", "bias")}
    assert keys == expected


def test_tiny_model_runs_and_taps_features():
    model = model_of(preset("tiny"), 10).eval()
    clip = torch.rand(2, 3, 16, 32, 32)
    logits, feats = model.forward_features(clip, ["relu1", "pool5"])
    assert logits.shape == (2, 10)
    assert torch.allclose(logits, model(clip))  # tapping does not change the output
    assert feats["relu1"].shape == (2, 8, 16, 32, 32) and (feats["relu1"] >= 0).all()


def test_unknown_layer_lists_the_names_that_exist():
    model = model_of(preset("tiny"), 10)
    with pytest.raises(UserError, match=r"unknown feature layer 'conv9'.*relu3b"):
        model.features(torch.rand(1, 3, 16, 32, 32), ["conv9"])


def test_model_normalizes_inside():
    model = model_of(preset("tiny"), 10).eval()
    x = torch.rand(1, 3, 16, 32, 32)
    pre = model.preprocess(x)
    assert torch.allclose(pre, (x - 0.45) / 0.225)


def test_the_smallest_clip_is_on_c3ds_record_and_the_config_check_reads_it():
    assert [name for name in architectures() if architecture(name).min_clip] == ["c3d"]
    floor = architecture("c3d").min_clip
    cfg = preset("paper")
    cfg = cfg.evolve(data={"num_frames": floor.frames - 1}, analysis={"ks": (1,)})
    with pytest.raises(ConfigError, match=f"C3D pools time 4 times and needs clips of at least {floor.frames} frames"):
        validate(cfg)
    cfg = cfg.evolve(model={"global_pool": True})  # pool5 then takes whatever time and space are left
    validate(cfg)
