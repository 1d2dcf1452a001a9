"""The planted-truth sets of benchmarks/planted_sets: their truth proven on the data itself with small probes, and
each set written to disk and read back through its layout.

The probes look at a window on the class's object (its centre at frame t is start + velocity · t, which the
truth records), so a small CNN learns in a few seconds what a whole-frame probe would first have to find; the
key-frame events fill the whole frame, and are read from whole frames' colours."""

from __future__ import annotations

import numpy as np
import probe_training
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

CLIP = 16
# Videos a class (train, test) and frames drawn, per kind: a probe learns one small task from a few dozen videos.
COUNTS = {"appearance": (16, 8), "motion": (30, 12), "implied": (30, 12), "keyframe": (24, 16)}
LENGTH = {"appearance": 10, "motion": 10, "implied": 10, "keyframe": CLIP}  # a 16-frame clip holds the key frames
FRAMES = range(0, 9, 2)  # the single frames (and frame pairs t, t + 1) the probes see from each video
SIDE = {"photo": 26, "glyph": 28}  # a window around the object (a glyph grown 1.6 × may overflow it a little)


def window(frame: np.ndarray, cx: float, cy: float, side: int) -> np.ndarray:
    """The side × side window of a frame centred at (cx, cy), wrapping at the edges as the objects do."""
    h, w = frame.shape[:2]
    rows = (int(round(cy)) - side // 2 + np.arange(side)) % h
    cols = (int(round(cx)) - side // 2 + np.arange(side)) % w
    return frame[np.ix_(rows, cols)]


def colour_histogram(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 → (T, 48): per channel, the share of each frame's pixels at each of 16 levels."""
    levels = (frames // 16).astype(np.int64).reshape(len(frames), -1, 3)
    counts = [np.concatenate([np.bincount(f[:, c], minlength=16) for c in range(3)]) for f in levels]
    return np.stack(counts) / levels.shape[1]


def sample(planted, split: str, kind: str) -> dict:
    """The videos of `split` of the classes of one kind, each as: windows on its object in single frames
    (F, 3, S, S) and in frame pairs at frame t's place (F, 6, S, S); colour histograms of its whole frames
    (T, 48) and which are key frames (T,); its label within the kind (0, 1, ...).

    The object's centre at frame t is start + velocity · t, wrapped (the truth file records both)."""
    side, ids = SIDE[planted.name], group(planted, kind)
    per_class = COUNTS[kind][0 if split == "train" else 1]
    out: dict[str, list] = {"single": [], "pair": [], "hist": [], "key": [], "label": []}
    for label in ids:
        for j in range(per_class):
            frames, info = draw(planted, 0, split, label, j, length=LENGTH[kind])
            centre = [np.array(info["start"]) + np.array(info["velocity"]) * t for t in range(len(frames))]
            out["single"].append([window(frames[t], *centre[t], side) for t in FRAMES])
            out["pair"].append([np.concatenate([window(frames[t], *centre[t], side),
                                                window(frames[t + 1], *centre[t], side)], axis=-1) for t in FRAMES])
            out["hist"].append(colour_histogram(frames))
            out["key"].append(np.isin(np.arange(len(frames)), info["key_frames"]))
            out["label"].append(ids.index(label))
    images = {name: torch.from_numpy(np.stack(out[name])).permute(0, 1, 4, 2, 3).float() / 255.0
              for name in ("single", "pair")}
    return {**images, "hist": torch.from_numpy(np.stack(out["hist"])).float(),
            "key": torch.from_numpy(np.stack(out["key"])), "label": torch.tensor(out["label"])}


@pytest.fixture(autouse=True)
def one_thread():
    """These small convolutions run fastest on one thread: on a busy machine, two threads spend ten times the
    processor time waiting on each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module", params=sorted(SETS))
def rendered(request):
    planted = SETS[request.param]
    return planted, {kind: {split: sample(planted, split, kind) for split in ("train", "test")} for kind in COUNTS}


def probe(in_channels: int, classes: int) -> nn.Module:
    """A small CNN that keeps a 3 × 3 map of where its features are: the window is centred on the object, so what
    lies behind it (a streak, echoes) or where it went in the next frame is a place in that map."""
    def block(i: int, o: int) -> list[nn.Module]:
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]

    return nn.Sequential(*block(in_channels, 16), nn.MaxPool2d(2), *block(16, 32), nn.MaxPool2d(2), *block(32, 32),
                         nn.AdaptiveAvgPool2d(3), nn.Flatten(), nn.Linear(32 * 9, classes))


def fit(net: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 250) -> nn.Module:
    return probe_training.fit(net, x, y, steps, lr=3e-3)


def group(planted, kind: str) -> list[int]:
    return [i for i, c in enumerate(planted.classes) if planted.kinds[c] == kind]


def frames_and_labels(part: dict, field: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Every window of a sample as one example, with its video's label."""
    return part[field].flatten(0, 1), part["label"].repeat_interleave(part[field].shape[1])


def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


def test_one_frame_decides_appearance_but_is_at_chance_inside_the_motion_group(rendered):
    """One probe learns the appearance and the motion classes from single frames: it tells the appearance classes
    apart, so it could see a difference in one frame; inside the motion group it finds none."""
    planted, parts = rendered
    n_app, n_motion = len(group(planted, "appearance")), len(group(planted, "motion"))

    def both(split: str) -> tuple[torch.Tensor, torch.Tensor]:
        (xa, ya), (xm, ym) = (frames_and_labels(parts[kind][split], "single") for kind in ("appearance", "motion"))
        return torch.cat([xa, xm]), torch.cat([ya, ym + n_app])

    net = fit(probe(3, n_app + n_motion), *both("train"), steps=800)  # 250 left set glyph's glyphs at 0.87
    x, y = both("test")
    with torch.no_grad():
        logits = net(x)
    app, motion = y < n_app, y >= n_app
    assert (logits[app][:, :n_app].argmax(1) == y[app]).float().mean().item() > 0.9
    assert (logits[motion][:, n_app:].argmax(1) + n_app == y[motion]).float().mean().item() < 1 / n_motion + 0.15


def test_one_frame_decides_implied_motion(rendered):
    """The streak or the echoes behind the object show its direction in every frame."""
    planted, parts = rendered
    net = fit(probe(3, len(group(planted, "implied"))), *frames_and_labels(parts["implied"]["train"], "single"))
    assert accuracy(net, *frames_and_labels(parts["implied"]["test"], "single")) > 0.9


def test_two_consecutive_frames_decide_motion(rendered):
    planted, parts = rendered
    net = fit(probe(6, len(group(planted, "motion"))), *frames_and_labels(parts["motion"]["train"], "pair"))
    assert accuracy(net, *frames_and_labels(parts["motion"]["test"], "pair")) > 0.8


def test_key_frames_alone_decide_the_keyframe_classes(rendered):
    """The colours of a whole key frame decide its class (a ridge regression on colour histograms); any other
    frame of the same videos is at chance inside the group. Frames of one video share its background, and the
    photo set's backgrounds come from five textures, so the chance estimate is noisy: its margin is wide."""
    planted, parts = rendered
    n = len(group(planted, "keyframe"))

    def frames(split: str, key: bool) -> tuple[torch.Tensor, torch.Tensor]:
        part = parts["keyframe"][split]
        mask = part["key"] if key else ~part["key"]
        return part["hist"][mask], part["label"][:, None].expand_as(mask)[mask]

    for key in (True, False):
        x, y = frames("train", key)
        mean = x.mean(0)
        weights = torch.linalg.solve((x - mean).T @ (x - mean) + 1e-3 * len(x) * torch.eye(x.shape[1]),
                                     (x - mean).T @ F.one_hot(y, n).float())
        x, y = frames("test", key)
        correct = (((x - mean) @ weights).argmax(1) == y).float().mean().item()
        if key:
            assert correct > 0.9
        else:
            assert correct < 1 / n + 0.25


@pytest.mark.parametrize("name", sorted(SETS))
def test_written_set_reads_back_through_its_layout_with_its_truth(tmp_path, name):
    planted = SETS[name]
    summary = write_set(planted, tmp_path, seed=3, train_per_class=1, test_per_class=1, progress=False)
    assert summary["videos"]["test"] == len(planted.classes)
    cfg = preset("tiny")
    height, width = planted.size
    cfg = cfg.evolve(data={"dataset": planted.layout, "root": str(tmp_path)})
    cfg = cfg.evolve(data={"resize": (height, width), "crop_size": min(height, width)})  # native size, a centred square
    test = build_dataset(cfg.data, "test")
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
