"""Every registered architecture, from its one record (models/spec.py): built at a tiny width, a forward on a tiny
clip, its default perceptual layers tapped by name, its head checked to be the classifier, and each of its
published weight formats imported with the preprocessing that belongs to those weights."""

from __future__ import annotations

import pytest
import torch

from motionprobe.config import preset
from motionprobe.models import Architecture, architecture, architectures, build_model
from motionprobe.weights.formats.i3d_flax import write_flax_checkpoint
from motionprobe.weights.load import apply_pretrained

EXPECTED = {"c3d", "r3d_18", "mc3_18", "r2plus1d_18", "i3d"}
CLASSES = 5
# How a test writes a file of each format: the published files are a PyTorch pickle, except DeepMind's Flax one.
WRITERS = {"i3d-flax": write_flax_checkpoint}


def tiny(name: str):
    cfg = preset("tiny")  # 16 frames of 32×32
    cfg = cfg.evolve(model={"arch": name, "width": 0.125})
    return cfg


def head_of(net: torch.nn.Module, arch: Architecture) -> torch.nn.Module:
    return dict(net.named_modules())[arch.head]


def test_the_registry_holds_each_architecture_once():
    assert set(architectures()) == EXPECTED
    assert all(architecture(name).name == name for name in architectures())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_built_from_its_record_forward_taps_and_head(name):
    arch, cfg = architecture(name), tiny(name)
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.data, CLASSES).eval()
    # the network's own taps where it has them (a C3D with fewer groups ends in pool5), else the record's
    layers = model.spec.perceptual_layers
    assert model.spec.architecture == name and layers == getattr(model.net, "perceptual_layers", arch.perceptual_layers)
    p = model.preprocessing
    assert (p.mean, p.std, p.crop, p.resize) == (arch.scratch.mean, arch.scratch.std, (32, 32), (32, 32))

    clip = torch.rand(1, 3, 16, 32, 32, requires_grad=True)
    logits, feats = model.forward_features(clip, layers)
    assert logits.shape == (1, CLASSES) and set(feats) == set(layers)
    assert all(f.dim() == 5 and f.shape[0] == 1 and torch.isfinite(f).all() for f in feats.values())
    # fine detail first, the coarse maps the classifier reads last (as C3D's relu1 … relu5b)
    heights = [feats[layer].shape[-1] for layer in layers]
    assert heights == sorted(heights, reverse=True) and heights[0] > heights[-1]
    feats[layers[-1]].pow(2).mean().backward()  # the perceptual loss needs gradients to the clip
    assert clip.grad is not None and clip.grad.abs().sum() > 0

    # the head is the classifier: with its weight zeroed, every clip's logits are its bias
    head = head_of(model.net, arch)
    assert head.weight.shape[0] == CLASSES
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.arange(CLASSES, dtype=torch.float32))
        assert torch.allclose(model(torch.rand(2, 3, 16, 32, 32)), torch.arange(CLASSES).float().expand(2, -1),
                              atol=1e-5)


@pytest.mark.parametrize("name, fmt", [(name, fmt) for name in sorted(EXPECTED) for fmt in architecture(name).weights],
                         ids=lambda v: v if isinstance(v, str) else v.name)
def test_each_published_format_loads_with_its_preprocessing_and_class_count(tmp_path, name, fmt):
    """A file of the format, written from a network with the published class count, fine-tunes a 5-class model:
    every tensor but the head's is loaded, the head is replaced, the weights' preprocessing comes along."""
    cfg = tiny(name)
    source = build_model(cfg.model, cfg.data, fmt.num_classes).net
    path = tmp_path / f"{name}-{fmt.name}.weights"
    WRITERS.get(fmt.name, lambda p, state: torch.save(state, p))(path, source.state_dict())
    assert architecture(name).weight_format(path) is fmt
    model = apply_pretrained(build_model(cfg.model, cfg.data, CLASSES), path, name, CLASSES)
    report = model.spec.extra["weights"]
    assert (report["format"], report["head"], report["file_classes"], report["head_replaced"]) == \
        (fmt.name, architecture(name).head, fmt.num_classes, True)
    assert model.preprocessing == fmt.preprocessing and model.spec.input_size == fmt.preprocessing.crop
    kept = [k for k in source.state_dict() if not k.startswith(f"{architecture(name).head}.")]
    assert all(torch.equal(model.net.state_dict()[k], source.state_dict()[k]) for k in kept if "num_batches" not in k)
