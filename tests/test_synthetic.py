"""The embedded benchmark's planted truth, proven on the data itself with small 2D probes."""

import numpy as np
import probe_training
import pytest
import torch
from torch import nn

from motionprobe.config import preset
from motionprobe.data import build_dataset, to_float
from motionprobe.data.synthetic import CLASSES, KIND, SyntheticMotionDataset


def frames_of(ds: SyntheticMotionDataset, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All 16 frames of the first n clips: (n, 16, 3, H, W) floats and labels (n,)."""
    clips = torch.stack([to_float(ds[i]["clip"]) for i in range(n)]).transpose(1, 2)
    return clips, torch.tensor(ds.labels[:n])


def probe(in_channels: int, classes: int, downsample: bool) -> nn.Module:
    """A small per-frame CNN with global max pooling (position-invariant, like a 2D image model), its initial
    weights seeded: drawn from the global RNG as other test files left it, the probe's accuracy changed with the
    order the tests ran in."""
    torch.manual_seed(0)
    return nn.Sequential(nn.AvgPool2d(2) if downsample else nn.Identity(), nn.Conv2d(in_channels, 16, 3, padding=1),
                         nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
                         nn.Linear(16, classes))


def fit(net: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 200) -> nn.Module:
    return probe_training.fit(net, x, y, steps, lr=5e-3)


def probe_accuracy(splits, inputs, in_channels: int, classes: int) -> float:
    """Fit a full-resolution probe on `inputs(train)` and return its accuracy on `inputs(test)`."""
    train, test = splits
    net = fit(probe(in_channels, classes, downsample=False), *inputs(train), steps=250)
    x, y = inputs(test)
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


@pytest.fixture(scope="module")
def splits():
    return SyntheticMotionDataset("train", per_class=16), SyntheticMotionDataset("test", per_class=8)


def test_deterministic_for_a_seed_and_different_across_seeds():
    a, b = SyntheticMotionDataset("test", per_class=2, seed=3), SyntheticMotionDataset("test", per_class=2, seed=3)
    c = SyntheticMotionDataset("test", per_class=2, seed=4)
    assert all(torch.equal(a[i]["clip"], b[i]["clip"]) for i in range(len(a)))
    assert not torch.equal(a[0]["clip"], c[0]["clip"])
    assert not torch.equal(a[0]["clip"], SyntheticMotionDataset("train", per_class=2, seed=3)[0]["clip"])


def test_metadata_states_the_planted_truth():
    ds = build_dataset(preset("tiny").data, "test")
    kinds = ds.metadata["kinds"]
    assert set(kinds.values()) == {"appearance", "motion", "keyframe", "implied"}
    assert all(sum(k == kind for k in kinds.values()) >= 2 for kind in ("appearance", "motion", "keyframe", "implied"))
    assert set(ds.metadata["truth"]) == set(kinds.values())
    assert ds[0]["clip"].shape == (3, 16, 32, 32) and ds[0]["clip"].dtype == torch.uint8
    assert len(ds) == 20 * len(CLASSES)


def test_a_subset_of_kinds_draws_only_their_classes():
    ds = SyntheticMotionDataset("test", per_class=2, kinds=("motion", "implied"))
    assert ds.classes == [c for c in CLASSES if KIND[c] in ("motion", "implied")] and len(ds) == 2 * len(ds.classes)
    assert set(ds.metadata["kinds"].values()) == set(ds.metadata["truth"]) == {"motion", "implied"}
    for i in range(len(ds)):
        info = ds.info(i)
        assert info.label == ds.labels[i] and info.kind == KIND[ds.classes[ds.labels[i]]]
    with pytest.raises(ValueError, match="kinds must be some of"):
        SyntheticMotionDataset("test", kinds=("colour",))


def test_everything_moves_in_every_class(splits):
    """Models are trained on moving clips: consecutive frames differ in every kind of class."""
    clips, labels = frames_of(splits[0], 30)
    change = (clips[:, 1:] - clips[:, :-1]).abs().mean(dim=(1, 2, 3, 4))
    for kind in ("appearance", "motion", "keyframe", "implied"):
        sel = torch.tensor([KIND[CLASSES[int(y)]] == kind for y in labels])
        assert change[sel].min() > 0.01, kind


def test_single_frames_decide_appearance_but_not_motion(splits):
    train, test = splits
    xtr, ytr = frames_of(train, len(train))
    # Colour and flashes survive 2× downsampling; it keeps the probe cheap.
    net = fit(probe(3, len(CLASSES), downsample=True), xtr.flatten(0, 1), ytr.repeat_interleave(16))
    xte, yte = frames_of(test, len(test))
    with torch.no_grad():
        logits = net(xte.flatten(0, 1)).view(len(test), 16, -1)
    y = yte[:, None].expand(-1, 16)

    def within(group: tuple[str, ...], mask: torch.Tensor) -> float:
        ids = torch.tensor([CLASSES.index(c) for c in group])
        sel = torch.isin(y, ids) & mask
        pred = ids[logits[sel][:, ids].argmax(1)]
        return (pred == y[sel]).float().mean().item()

    everywhere = torch.ones_like(y, dtype=torch.bool)
    appearance = tuple(c for c in CLASSES if KIND[c] == "appearance")
    motion = tuple(c for c in CLASSES if KIND[c] == "motion")
    keyframe = tuple(c for c in CLASSES if KIND[c] == "keyframe")
    key_mask = torch.zeros_like(everywhere)
    for i in range(len(test)):
        key_mask[i, list(test.info(i).key_frames)] = True

    assert within(appearance, everywhere) > 0.9
    assert within(motion, everywhere) < 0.25 + 0.15  # chance is 1/4
    assert within(keyframe, key_mask) > 0.9  # the kept frame is a key frame: it decides
    assert within(keyframe, ~key_mask) < 1 / 3 + 0.2  # any other frame: chance


def test_motion_is_decodable_from_two_frames(splits):
    """Inside the motion group the direction is there, in how the cross moves between frames."""
    motion_ids = [CLASSES.index(c) for c in CLASSES if KIND[c] == "motion"]

    def pairs(ds):
        idx = [i for i in range(len(ds)) if ds.labels[i] in motion_ids]
        clips, _ = frames_of(ds, max(idx) + 1)
        clips = clips[idx].repeat(4, 1, 1, 1, 1)  # four random frame pairs per clip
        n = len(clips)
        t = torch.from_numpy(np.random.default_rng(0).integers(0, 15, n))
        x = torch.cat([clips[torch.arange(n), t], clips[torch.arange(n), t + 1]], dim=1)
        y = torch.tensor([motion_ids.index(ds.labels[i]) for i in idx]).repeat(4)
        return x, y

    assert probe_accuracy(splits, pairs, in_channels=6, classes=len(motion_ids)) > 0.8


def test_implied_motion_is_decodable_from_one_frame(splits):
    """Inside the implied group one frame suffices: the trail behind the object shows where it goes."""
    implied_ids = [CLASSES.index(c) for c in CLASSES if KIND[c] == "implied"]

    def single(ds):
        idx = [i for i in range(len(ds)) if ds.labels[i] in implied_ids]
        clips, _ = frames_of(ds, max(idx) + 1)
        y = torch.tensor([implied_ids.index(ds.labels[i]) for i in idx])
        return clips[idx].flatten(0, 1), y.repeat_interleave(clips.shape[1])  # every frame alone

    assert probe_accuracy(splits, single, in_channels=3, classes=len(implied_ids)) > 0.9  # chance is 1/2
