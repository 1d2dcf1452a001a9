"""Video models: architectures, the [0, 1]-RGB wrapper with feature taps, checkpoints, the registry."""

from . import i3d, resnet3d  # noqa: F401  registers i3d; r3d_18, mc3_18, r2plus1d_18
from .registry import architectures, build_model, register
from .wrapper import ModelSpec, Preprocessing, VideoModel, wrap

__all__ = ["ModelSpec", "Preprocessing", "VideoModel", "architectures", "build_model", "register", "wrap"]
