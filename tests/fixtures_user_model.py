"""A user's own video classifier, importable as `fixtures_user_model:<function>` for --model-factory tests."""

from __future__ import annotations

import torch
from torch import nn

import motionprobe

USER_MEAN, USER_STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


class TinyVideoNet(nn.Module):
    """conv → ReLU → conv → global pool → linear; named parts so features can be tapped."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv3d(3, 6, 3, padding=1), nn.ReLU(), nn.Conv3d(6, 8, 3, stride=2, padding=1),
                                      nn.ReLU())
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.classifier = nn.Linear(8, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))


def bare(num_classes: int) -> nn.Module:
    """Returns a plain nn.Module: motionprobe wraps it with the data's size and no normalization."""
    return TinyVideoNet(num_classes)


def wrapped(num_classes: int) -> motionprobe.models.VideoModel:
    """Returns a model already wrapped with its own normalization and perceptual layers."""
    return motionprobe.wrap(TinyVideoNet(num_classes), normalize=(USER_MEAN, USER_STD),
                            feature_layers=["features.1", "features.3"], input_size=(32, 32), num_frames=16)
