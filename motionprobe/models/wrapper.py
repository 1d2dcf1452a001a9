"""The video-model contract every part of motionprobe relies on.

A `VideoModel` takes float RGB clips in [0, 1] shaped (B, 3, T, H, W), applies the preprocessing
that belongs to its weights (resize/crop, value range, channel order, mean/std), and returns logits.
Intermediate features are read by layer name through forward hooks, for the perceptual loss and the
pictures. Preprocessing travels with the model, so nobody re-types a mean in a script.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError


@dataclass
class Preprocessing:
    """How [0, 1] RGB clips become the network's input.

    Applied in this order: resize to `resize` (H, W) and center-crop to `crop` when the clip's size
    differs from `crop`; scale values by `value_scale`; reorder channels to `channel_order`; subtract
    `mean`, divide by `std` (both in the scaled range, in the network's channel order).
    """

    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    value_scale: float = 1.0
    channel_order: str = "rgb"
    crop: tuple[int, int] | None = None
    resize: tuple[int, int] | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessing:
        d = dict(d)
        for key in ("mean", "std", "crop", "resize"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)


@dataclass
class ModelSpec:
    """What the rest of motionprobe needs to know about a wrapped model."""

    num_frames: int = 16
    input_size: tuple[int, int] = (112, 112)
    perceptual_layers: tuple[str, ...] = ()
    output: str = "logits"  # or "probs" for networks that end in softmax
    extra: dict = field(default_factory=dict)
    # The registered architecture (models/spec.py) that built the network; None for wrapped, factory and Hugging
    # Face models, whose head and weight formats no spec describes.
    architecture: str | None = None


class VideoModel(nn.Module):
    def __init__(self, net: nn.Module, preprocessing: Preprocessing | None = None, spec: ModelSpec | None = None):
        super().__init__()
        self.net = net
        self.spec = spec or ModelSpec()
        self.register_buffer("_mean", torch.zeros(1, 3, 1, 1, 1), persistent=False)
        self.register_buffer("_std", torch.ones(1, 3, 1, 1, 1), persistent=False)
        self.set_preprocessing(preprocessing or Preprocessing())

    def set_preprocessing(self, p: Preprocessing) -> None:
        """Replace the preprocessing (e.g. the one that belongs to imported weights)."""
        self.preprocessing = p
        self._mean.copy_(torch.tensor(p.mean, dtype=torch.float32).view(1, 3, 1, 1, 1))
        self._std.copy_(torch.tensor(p.std, dtype=torch.float32).view(1, 3, 1, 1, 1))

    # -- preprocessing -------------------------------------------------------------------------
    def preprocess(self, clip: torch.Tensor) -> torch.Tensor:
        if clip.dim() != 5 or clip.shape[1] != 3:
            raise ValueError(f"expected a clip batch shaped (B, 3, T, H, W), got {tuple(clip.shape)}")
        p = self.preprocessing
        x = clip.float() if not clip.is_floating_point() else clip
        if p.crop is not None and tuple(x.shape[-2:]) != tuple(p.crop):
            x = _resize_and_center_crop(x, p.resize, p.crop)
        if p.value_scale != 1.0:
            x = x * p.value_scale
        if p.channel_order == "bgr":
            x = x.flip(1)
        return (x - self._mean.to(x.dtype)) / self._std.to(x.dtype)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        out = self.net(self.preprocess(clip))
        if self.spec.output == "probs":  # networks ending in softmax: log-probabilities act as logits
            out = torch.log(out.clamp_min(1e-12))
        return out

    # -- features ------------------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        return [name for name, _ in self.net.named_modules() if name]

    def _module(self, name: str) -> nn.Module:
        modules = dict(self.net.named_modules())
        if name not in modules or not name:
            raise UserError(f"unknown feature layer {name!r}; this model has: {', '.join(self.layer_names())}")
        return modules[name]

    @contextmanager
    def tap(self, layers: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
        """Within the block, every forward fills the yielded dict with the named layers' outputs."""
        store: dict[str, torch.Tensor] = {}
        handles = []
        for name in layers:
            module = self._module(name)

            def hook(_m, _inp, out, name=name):
                store[name] = out

            handles.append(module.register_forward_hook(hook))
        try:
            yield store
        finally:
            for h in handles:
                h.remove()

    def forward_features(self, clip: torch.Tensor, layers: Sequence[str]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Logits and the named layers' features in one pass."""
        with self.tap(layers) as store:
            logits = self(clip)
        return logits, {name: store[name] for name in layers}

    def features(self, clip: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        return self.forward_features(clip, layers)[1]


def _resize_and_center_crop(x: torch.Tensor, resize: tuple[int, int] | None, crop: tuple[int, int]) -> torch.Tensor:
    b, c, t, h, w = x.shape
    frames = x.transpose(1, 2).reshape(b * t, c, h, w)
    if resize is not None and (h, w) != tuple(resize):
        frames = F.interpolate(frames, size=tuple(resize), mode="bilinear", align_corners=False, antialias=True)
    fh, fw = frames.shape[-2:]
    ch, cw = crop
    if fh < ch or fw < cw:
        frames = F.interpolate(frames, size=(max(fh, ch), max(fw, cw)), mode="bilinear", align_corners=False)
        fh, fw = frames.shape[-2:]
    top, left = (fh - ch) // 2, (fw - cw) // 2
    frames = frames[..., top:top + ch, left:left + cw]
    return frames.reshape(b, t, c, ch, cw).transpose(1, 2)


def wrap(module: nn.Module, normalize: tuple[Sequence[float], Sequence[float]] | Preprocessing | None = None,
         feature_layers: Sequence[str] = (), input_size: tuple[int, int] = (112, 112),
         num_frames: int = 16, output: str = "logits") -> VideoModel:
    """Turn any classifier on (B, 3, T, H, W) clips into a model the generator, selectors and analysis accept.

    `normalize` is (mean, std) on [0, 1] RGB, or a full `Preprocessing`. `feature_layers` are
    submodule names (as in `module.named_modules()`) used by the perceptual loss.

    >>> net = torch.nn.Sequential(torch.nn.Conv3d(3, 4, 3), torch.nn.AdaptiveAvgPool3d(1),
    ...                           torch.nn.Flatten(), torch.nn.Linear(4, 5))
    >>> model = wrap(net, normalize=([0.5] * 3, [0.25] * 3), feature_layers=["0"], input_size=(32, 32))
    >>> model(torch.rand(2, 3, 16, 32, 32)).shape
    torch.Size([2, 5])
    """
    if isinstance(normalize, Preprocessing):
        prep = normalize
    elif normalize is None:
        prep = Preprocessing()
    else:
        mean, std = normalize
        prep = Preprocessing(mean=tuple(float(v) for v in mean), std=tuple(float(v) for v in std))
    model = VideoModel(module, prep, ModelSpec(num_frames=num_frames, input_size=tuple(input_size),
                                               perceptual_layers=tuple(feature_layers), output=output))
    for name in feature_layers:
        model._module(name)  # fail now, with the list of names, rather than mid-training
    return model
