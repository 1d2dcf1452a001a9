"""The generator benchmark's statistics: paired sign tests on the same clips, and which rows get them."""

from __future__ import annotations

import torch
from torch import nn

from benchmarks.generator_quality import accuracies, generator_label, pixel_twin, sign_test
from motionprobe.config import preset
from motionprobe.data.synthetic import SyntheticMotionDataset
from motionprobe.generator import replicate_nearest
from motionprobe.models.registry import build_model


def test_sign_test_counts_discordant_clips_and_gives_the_exact_two_sided_p():
    a = torch.tensor([True] * 9 + [False] * 1 + [True] * 5)
    b = torch.tensor([False] * 9 + [True] * 1 + [True] * 5)  # 9 only a, 1 only b, 5 both
    result = sign_test(a, b)
    assert (result["only_this"], result["only_other"]) == (9, 1)
    assert result["p"] == 2 * (1 + 10) / 2**10  # P(X ≤ 1) + P(X ≥ 9) for X ~ Binomial(10, ½)
    assert sign_test(b, a)["p"] == result["p"]
    assert sign_test(a, a) == {"only_this": 0, "only_other": 0, "p": 1.0}
    assert sign_test(torch.tensor([True] * 4), torch.tensor([False] * 4))["p"] == 2 / 16


def test_seeded_generators_are_compared_with_the_pixel_generator_of_their_own_seed():
    assert generator_label("perceptual", 0) == "perceptual" and generator_label("perceptual", 2) == "perceptual s2"
    assert pixel_twin("perceptual") == "pixel" and pixel_twin("perceptual_no_indices s2") == "pixel s2"


class Replicating(nn.Module):
    """A 'generator' that returns nearest-frame replication: every comparison with replicate must tie."""

    def forward(self, frames: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        return replicate_nearest(frames, indices, 16)


class Blank(nn.Module):
    def forward(self, frames: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        return torch.zeros(frames.shape[0], 3, 16, *frames.shape[3:])


def test_accuracies_pair_each_generator_with_replicate_and_its_pixel_twin():
    torch.manual_seed(0)
    cfg = preset("tiny")
    test = SyntheticMotionDataset("test", per_class=2, size=cfg.data.crop_size)
    model = build_model(cfg.model, cfg.data, len(test.classes)).eval()
    generators = {(1, "perceptual"): Replicating(), (1, "pixel"): Blank(), (1, "perceptual s1"): Replicating()}
    result = accuracies(model, generators, test, batch_size=7)

    for subset in ("uniform", "random"):
        replicate = result[f"k=1 {subset} replicate"]
        same = result[f"k=1 {subset} perceptual"]
        assert same["overall"] == replicate["overall"] and set(same) >= {"appearance", "motion", "keyframe", "implied"}
        assert same["vs_replicate"] == {"only_this": 0, "only_other": 0, "p": 1.0}
        assert "vs_pixel" in same and "vs_pixel" not in result[f"k=1 {subset} pixel"]
        assert "vs_pixel" not in result[f"k=1 {subset} perceptual s1"]  # no pixel generator with seed 1
        assert "vs_replicate" not in replicate
    # A blank clip gets one class for every clip: at most one class's clips can be right.
    blank = result["k=1 uniform pixel"]
    assert blank["overall"] <= 2 / len(test)
    same, vs = result["k=1 uniform perceptual"], result["k=1 uniform perceptual"]["vs_pixel"]
    assert vs["only_this"] - vs["only_other"] == round((same["overall"] - blank["overall"]) * len(test))
