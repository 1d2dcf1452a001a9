"""One record per architecture: how to build it and what belongs to it, as timm keeps a pretrained config per model.

An `Architecture` names the network's factory, its classifier head, the layers the perceptual loss compares by
default, the normalization for training it from scratch, and the published weights it reads (`WeightFormat`:
a reader and the preprocessing those weights were trained with). The registry builds models from it
(models/registry.py), `model.weights` files are imported with it (weights/load.py), and the tests iterate over it.

    >>> from motionprobe.models import architecture
    >>> spec = architecture("c3d")
    >>> spec.head, spec.perceptual_layers[0], [w.name for w in spec.weights]
    ('fc8', 'relu1', ['c3d-sports1m'])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from .wrapper import Preprocessing

if TYPE_CHECKING:
    from ..config import DataConfig, ModelConfig

Reader = Callable[[Path], dict[str, torch.Tensor]]


def any_file(_path: Path) -> bool:
    return True


@dataclass(frozen=True)
class WeightFormat:
    """One published form of an architecture's weights.

    `accepts` tells from the file itself whether `read` is meant for it (the I3D Flax pickle by its first
    opcodes); formats are tried in the architecture's order, so a catch-all (`any_file`) comes last.
    `preprocessing` is what the weights were trained with and replaces the model's when they are loaded.
    `num_classes` is the published classifier's size (a dataset with another count gets a fresh head).
    `hint` is added to the error when the file's tensors do not fit the network.
    """

    name: str
    description: str
    read: Reader
    preprocessing: Preprocessing
    num_classes: int
    accepts: Callable[[Path], bool] = any_file
    hint: str = ""


@dataclass(frozen=True)
class MinClip:
    """The smallest clip an architecture's pooling leaves non-empty; a config below it is refused before anything is
    built, in these words: "{time_pooling} and needs clips of at least {frames} frames". `global_pool_lifts`: with
    `model.global_pool` the last pooling takes whatever is left, so any clip fits."""

    frames: int
    crop: int
    time_pooling: str
    space_pooling: str
    global_pool_lifts: bool = False


@dataclass(frozen=True)
class Architecture:
    """A registered video architecture.

    `build(num_classes, model, data)` returns the bare network (the model section's width etc. size it for the
    data section's clips); `head` is the module whose weight's first dimension is the class count (an nn.Linear
    or I3D's 1×1×1 conv); `scratch` is the normalization (mean, std, value range, channel order) of a network
    trained from scratch on [0, 1] RGB, to which `preprocessing(data)` adds the data's resize and crop.
    `min_clip`: the smallest clip it takes (None: any).
    """

    name: str
    build: Callable[[int, ModelConfig, DataConfig], nn.Module]
    head: str
    perceptual_layers: tuple[str, ...]
    scratch: Preprocessing
    weights: tuple[WeightFormat, ...] = ()
    min_clip: MinClip | None = None

    def preprocessing(self, data: DataConfig) -> Preprocessing:
        """Training from scratch: `scratch`, with clips of another size resized to `data.resize` and
        center-cropped to `data.crop_size`, as the datasets prepare them."""
        side = data.crop_size
        return replace(self.scratch, crop=(side, side), resize=tuple(data.resize))

    def weight_format(self, path: Path) -> WeightFormat | None:
        """The first of `weights` that accepts the file at `path`, or None."""
        return next((w for w in self.weights if w.accepts(path)), None)
