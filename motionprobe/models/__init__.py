"""Video models: architectures, the [0, 1]-RGB wrapper with feature taps, checkpoints, the registry."""

from . import c3d, i3d, resnet3d  # noqa: F401  each registers its Architecture: c3d; i3d; r3d_18, mc3_18, r2plus1d_18
from .registry import architecture, architectures, build_model, register
from .spec import Architecture, WeightFormat
from .wrapper import ModelSpec, Preprocessing, VideoModel, wrap

__all__ = ["Architecture", "ModelSpec", "Preprocessing", "VideoModel", "WeightFormat", "architecture", "architectures",
           "build_model", "register", "wrap"]
