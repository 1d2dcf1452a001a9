"""The planted-truth sets of benchmarks/planted_sets: their truth proven on the data itself with small 2D probes
at the 32 × 32 the tiny preset sees, and each set written to disk and read back through its layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.planted_sets import SETS, draw
from benchmarks.planted_sets.write import write_set
from motionprobe.config import preset
from motionprobe.data import build_dataset
from motionprobe.data.sampling import clip_indices, spaced_starts
from motionprobe.data.truth import read_truth

CLIP, SIDE = 16, 32
TRAIN, TEST = 6, 3  # videos a class


def frames_of(planted, split: str, per_class: int):
    """Every class's first `per_class` videos of `split`, CLIP frames each, resized to SIDE × SIDE:
    (n, CLIP, 3, SIDE, SIDE) floats, labels (n,), and which frames are key frames (n, CLIP)."""
    clips, labels, keys = [], [], []
    for label in range(len(planted.classes)):
        for j in range(per_class):
            frames, info = draw(planted, 0, split, label, j, length=CLIP)
            clips.append(frames)
            labels.append(label)
            keys.append(np.isin(np.arange(CLIP), info["key_frames"]))
    x = torch.from_numpy(np.stack(clips)).permute(0, 1, 4, 2, 3).flatten(0, 1).float() / 255.0
    x = F.interpolate(x, size=(SIDE, SIDE), mode="area").view(len(clips), CLIP, 3, SIDE, SIDE)
    return x, torch.tensor(labels), torch.from_numpy(np.stack(keys))


@pytest.fixture(scope="module", params=sorted(SETS))
def rendered(request):
    planted = SETS[request.param]
    return planted, frames_of(planted, "train", TRAIN), frames_of(planted, "test", TEST)


def probe(in_channels: int, classes: int) -> nn.Module:
    """A small per-frame CNN with global max pooling: position-invariant, like a 2D image model."""
    return nn.Sequential(nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
                         nn.Linear(16, classes))


def fit(net: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int) -> nn.Module:
    torch.manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (32,))
        loss = F.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


def group(planted, kind: str) -> list[int]:
    return [i for i, c in enumerate(planted.classes) if planted.kinds[c] == kind]


def test_single_frames_decide_appearance_implied_and_key_frames_but_not_motion(rendered):
    planted, (xtr, ytr, _), (xte, yte, keys) = rendered
    net = fit(probe(3, len(planted.classes)), xtr.flatten(0, 1), ytr.repeat_interleave(CLIP), steps=300)
    with torch.no_grad():
        logits = net(xte.flatten(0, 1)).view(len(xte), CLIP, -1)
    y = yte[:, None].expand(-1, CLIP)

    def within(kind: str, mask: torch.Tensor | None = None) -> float:
        ids = torch.tensor(group(planted, kind))
        chosen = torch.isin(y, ids) & (torch.ones_like(y, dtype=torch.bool) if mask is None else mask)
        return (ids[logits[chosen][:, ids].argmax(1)] == y[chosen]).float().mean().item()

    assert within("appearance") > 0.9
    assert within("implied") > 0.9  # the streak or the echoes show the direction in every frame
    assert within("keyframe", keys) > 0.9  # a key frame decides
    assert within("keyframe", ~keys) < 1 / len(group(planted, "keyframe")) + 0.2  # any other frame: chance
    assert within("motion") < 1 / len(group(planted, "motion")) + 0.15


def test_two_consecutive_frames_decide_motion(rendered):
    planted, train, test = rendered
    ids = group(planted, "motion")

    def pairs(split):
        x, y, _ = split
        keep = torch.isin(y, torch.tensor(ids))
        x, y = x[keep], torch.tensor([ids.index(int(v)) for v in y[keep]])
        t = torch.from_numpy(np.random.default_rng(0).integers(0, CLIP - 1, (len(x), 4)))
        rows = torch.arange(len(x))[:, None].expand(-1, 4)
        return torch.cat([x[rows, t], x[rows, t + 1]], dim=2).flatten(0, 1), y.repeat_interleave(4)

    net = fit(probe(6, len(ids)), *pairs(train), steps=300)
    x, y = pairs(test)
    with torch.no_grad():
        assert (net(x).argmax(1) == y).float().mean().item() > 0.8


@pytest.mark.parametrize("name", sorted(SETS))
def test_written_set_reads_back_through_its_layout_with_its_truth(tmp_path, name):
    planted = SETS[name]
    summary = write_set(planted, tmp_path, seed=3, train_per_class=1, test_per_class=1, progress=False)
    assert summary["videos"]["test"] == len(planted.classes)
    cfg = preset("tiny")
    height, width = planted.size
    cfg.data.dataset, cfg.data.root = planted.layout, str(tmp_path)
    cfg.data.resize, cfg.data.crop_size = (height, width), min(height, width)  # native size, a centred square
    test = build_dataset(cfg, "test")
    assert test.classes == sorted(planted.classes) if planted.layout == "hmdb51" else list(planted.classes)
    assert test.metadata["kinds"] == {c: planted.kinds[c] for c in test.classes}
    truth = read_truth(tmp_path / "truth.json")
    errors, others = [], []
    for i in range(len(test)):
        item = test[i]
        planted_here = truth.clips[item["id"].split("#")[0]]
        assert planted.classes[planted_here["label"]] == test.classes[item["label"]] and planted_here["split"] == "test"
        frames, _ = draw(planted, 3, "test", planted_here["label"], 0)
        assert len(frames) == planted_here["num_frames"]
        span = len(frames)
        indices = clip_indices(spaced_starts(span, test.sampling.span, 1)[0], span, test.sampling)
        top, left = (height - cfg.data.crop_size) // 2, (width - cfg.data.crop_size) // 2
        expected = torch.from_numpy(frames[indices, top:top + cfg.data.crop_size, left:left + cfg.data.crop_size])
        decoded = item["clip"].permute(1, 2, 3, 0)
        errors.append((decoded.float() - expected.float()).abs().mean().item())
        others.append((decoded.float() - torch.roll(expected, 1, 0).float()).abs().mean().item())
    assert np.mean(errors) < 12.0  # of 255: codec loss (4:2:0 chroma) on noisy pictures
    assert np.mean(errors) < 0.5 * np.mean(others)  # the right frames, in the right order
