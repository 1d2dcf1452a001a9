"""The class-agnostic temporal generator (k frames + their indices → a 16-frame clip) and its losses.

>>> import torch
>>> from motionprobe.config import preset
>>> g = build_generator(1, preset("tiny").generator, num_frames=16)
>>> g(torch.rand(2, 3, 1, 32, 32), torch.tensor([[8], [3]])).shape
torch.Size([2, 3, 16, 32, 32])
"""

from .build import build_generator
from .losses import PerceptualLoss, PixelLoss, build_loss, normalized_sq_distance
from .network import ResnetGenerator, TemporalGenerator
from .replicate import Replicate, replicate_nearest
from .subsets import take_frames, training_subsets

__all__ = ["PerceptualLoss", "PixelLoss", "Replicate", "ResnetGenerator", "TemporalGenerator", "build_generator",
           "build_loss", "normalized_sq_distance", "replicate_nearest", "take_frames", "training_subsets"]
