"""The generator's training losses: perceptual (features of the frozen video model) and pixel.

Both are the normalized squared L2 distance of Johnson et al. (2016), extended to video: for a layer
l with features shaped (C_l, T_l, H_l, W_l) per clip,

    d_l = ||φ_l(G(x_S)) − φ_l(x)||² / (C_l · T_l · H_l · W_l)

averaged over the batch. Perceptual = Σ_l w_l · d_l over the chosen layers (default: the model's
`spec.perceptual_layers`, all weights 1); pixel = the same distance on the [0, 1] clips themselves.
Worked example: two 1-clip batches of shape (1, 2, 1, 1, 2) that differ by 1 in one value and by
2 in another have distance (1 + 4) / 4 = 1.25.

The video model is frozen: eval mode (no dropout), parameters without gradients. Gradients still flow
*through* it to the generated clip, and from there to the generator only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from ..errors import ConfigError, UserError
from ..models import VideoModel

if TYPE_CHECKING:
    from ..config import GeneratorConfig

LOSSES = ("perceptual", "pixel")


def normalized_sq_distance(a: Tensor, b: Tensor) -> Tensor:
    """||a − b||² divided by the per-sample element count, averaged over the batch (dim 0)."""
    return (a - b).flatten(1).pow(2).mean(dim=1).mean()


class PixelLoss(nn.Module):
    """Normalized squared distance in pixel space."""

    def terms(self, generated: Tensor, target: Tensor) -> dict[str, Tensor]:
        return {"pixel": normalized_sq_distance(generated, target)}

    def combine(self, terms: dict[str, Tensor]) -> Tensor:
        return terms["pixel"]

    def forward(self, generated: Tensor, target: Tensor) -> Tensor:
        return self.combine(self.terms(generated, target))


class PerceptualLoss(nn.Module):
    """Weighted sum of normalized feature distances at named layers of a frozen video model."""

    def __init__(self, model: VideoModel, layers: Sequence[str] | None = None, weights: Sequence[float] | None = None,
                 pixel_weight: float = 0.0):
        super().__init__()
        layers = tuple(layers) if layers else tuple(model.spec.perceptual_layers)
        if not layers:
            raise UserError("generator.perceptual_layers: this model names no default perceptual layers; "
                            f"choose some of: {', '.join(model.layer_names())}")
        for name in layers:
            model._module(name)  # an unknown name fails now, listing the model's layers
        weights = tuple(float(w) for w in weights) if weights else (1.0,) * len(layers)
        if len(weights) != len(layers):
            raise UserError(f"generator.perceptual_weights: expected {len(layers)} weights (one per layer of "
                            f"{', '.join(layers)}), got {len(weights)}")
        if not (pixel_weight >= 0 and math.isfinite(pixel_weight)):
            raise UserError(f"generator.pixel_weight: expected a finite weight ≥ 0, got {pixel_weight}")
        self.layers, self.weights, self.pixel_weight = layers, weights, float(pixel_weight)
        self.model = model.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> PerceptualLoss:
        """The video model stays in eval mode whatever the loss is switched to."""
        super().train(mode)
        self.model.eval()
        return self

    def terms(self, generated: Tensor, target: Tensor) -> dict[str, Tensor]:
        """The normalized distance at every layer (unweighted), for logging."""
        with torch.no_grad():
            wanted = self.model.features(target, self.layers)
        got = self.model.features(generated, self.layers)
        terms = {name: normalized_sq_distance(got[name], wanted[name]) for name in self.layers}
        if self.pixel_weight:
            terms["pixel"] = normalized_sq_distance(generated, target)
        return terms

    def combine(self, terms: dict[str, Tensor]) -> Tensor:
        total = sum(w * terms[name] for name, w in zip(self.layers, self.weights, strict=True))
        return total + self.pixel_weight * terms["pixel"] if self.pixel_weight else total

    def forward(self, generated: Tensor, target: Tensor) -> Tensor:
        return self.combine(self.terms(generated, target))


def build_loss(name: str, model: VideoModel | None, g: GeneratorConfig) -> PerceptualLoss | PixelLoss:
    """`perceptual` (needs the video model) or `pixel`, configured by the config's generator section `g`."""
    if name == "pixel":
        return PixelLoss()
    if name == "perceptual":
        if model is None:
            raise ConfigError("generator.loss", "the perceptual loss needs a video model folder")
        return PerceptualLoss(model, g.perceptual_layers, g.perceptual_weights, g.pixel_weight)
    raise ConfigError("generator.loss", f"expected one of {', '.join(LOSSES)}, got {name!r}")
