"""Feature inversion (the paper's Figure 1): which clip does a layer's representation describe?

Starting from noise (or the model's mean colour), optimise a clip x in [0, 1] so that the model's
features at one layer match those of a real clip x₀:

    loss(x) = ‖φ(x) − φ(x₀)‖² / ‖φ(x₀)‖²  +  λ_s · TV_space(x)  +  λ_t · TV_time(x)

The feature term is relative (1 = as far as all-zero features; 0 = identical). The total variation
terms (mean absolute difference between neighbouring pixels, and between consecutive frames) are the
smoothness prior that keeps the reconstruction from being adversarial noise. Adam on the pixels,
clamped to [0, 1] after every step. Motion the reconstruction shows is motion the layer kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from tqdm import tqdm

from ..errors import ConfigError
from ..io import atomic_write_json, code_version
from ..models.wrapper import VideoModel
from .canvas import Row, animation, motion_frames, motion_magnitude, strip, to_frames, write_gif, write_png

INITS = ("noise", "mean")


@dataclass
class InversionSettings:
    steps: int = 200
    lr: float = 0.05
    init: str = "noise"
    # Measured on the tiny C3D at pool5: 0.05 leaves pixel noise, 2 washes the clip out; the
    # relative feature loss ends below 0.01 either way.
    tv_space: float = 1.0
    tv_time: float = 0.5
    seed: int = 0


@dataclass
class Inversion:
    """The real clip and its reconstruction (3, T, H, W) in [0, 1], and the feature loss along the way."""

    layer: str
    original: Tensor
    reconstruction: Tensor
    initial_loss: float  # relative feature loss of the starting clip
    final_loss: float  # relative feature loss of the reconstruction returned
    history: list[tuple[int, float]] = field(default_factory=list)  # (step, feature loss) every few steps


def feature_loss(features: Tensor, target: Tensor) -> Tensor:
    """‖f − t‖² / ‖t‖² per clip, averaged over the batch.

    >>> t = torch.ones(1, 4)
    >>> float(feature_loss(torch.zeros(1, 4), t)), float(feature_loss(t, t))
    (1.0, 0.0)
    """
    b = features.shape[0]
    f, t = features.reshape(b, -1), target.reshape(b, -1)
    return ((f - t).pow(2).sum(1) / t.pow(2).sum(1).clamp_min(1e-12)).mean()


def total_variation(clip: Tensor) -> tuple[Tensor, Tensor]:
    """(spatial, temporal) mean absolute difference between neighbours of a clip batch (B, 3, T, H, W)."""
    space = (clip[..., 1:, :] - clip[..., :-1, :]).abs().mean() + (clip[..., 1:] - clip[..., :-1]).abs().mean()
    time = (clip[:, :, 1:] - clip[:, :, :-1]).abs().mean() if clip.shape[2] > 1 else clip.new_zeros(())
    return space, time


def check_layer(model: VideoModel, layer: str) -> None:
    if layer not in model.layer_names():
        raise ConfigError("layer", f"unknown feature layer {layer!r}; this model has: {', '.join(model.layer_names())}")


def initial_clip(model: VideoModel, shape: tuple[int, ...], init: str, generator: torch.Generator) -> Tensor:
    """Noise around mid-grey, or the model's normalisation mean (its training data's mean colour)."""
    if init == "noise":
        return (0.5 + 0.2 * (torch.rand(shape, generator=generator) - 0.5)).clamp(0, 1)
    if init == "mean":
        p = model.preprocessing
        mean = torch.tensor(p.mean, dtype=torch.float32) / p.value_scale
        if p.channel_order == "bgr":
            mean = mean.flip(0)
        noise = 0.01 * torch.randn(shape, generator=generator)  # breaks the symmetry of a constant clip
        return (mean.view(1, 3, 1, 1, 1) + noise).clamp(0, 1)
    raise ConfigError("init", f"expected one of {', '.join(INITS)}, got {init!r}")


def invert_features(model: VideoModel, clip: Tensor, layer: str, settings: InversionSettings | None = None,
                    progress: bool = True) -> Inversion:
    """Reconstruct `clip` (3, T, H, W; uint8 or float in [0, 1]) from the model's features at `layer`."""
    s = settings or InversionSettings()
    check_layer(model, layer)
    if s.steps < 1:
        raise ConfigError("steps", f"expected a positive number of steps, got {s.steps}")
    model = model.eval()
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    real = (clip.float() / 255.0 if clip.dtype == torch.uint8 else clip.float()).unsqueeze(0).to(device)
    with torch.no_grad():
        target = model.features(real, [layer])[layer].detach()
    rng = torch.Generator().manual_seed(s.seed)
    x = initial_clip(model, tuple(real.shape), s.init, rng).to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=s.lr)
    history: list[tuple[int, float]] = []
    log_every = max(1, s.steps // 50)
    bar = tqdm(range(s.steps + 1), desc=f"inverting {layer}", unit="step", disable=not progress, leave=False)
    for step in bar:
        feat = feature_loss(model.features(x, [layer])[layer], target)
        if step % log_every == 0 or step == s.steps:
            history.append((step, feat.detach().item()))
            bar.set_postfix(feature_loss=f"{history[-1][1]:.4f}")
        if step == s.steps:  # the last pass only measures the clip returned
            break
        space, time = total_variation(x)
        loss = feat + s.tv_space * space + s.tv_time * time
        (grad,) = torch.autograd.grad(loss, [x])  # the model's weights need no gradient
        optimizer.zero_grad(set_to_none=True)
        x.grad = grad
        optimizer.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    bar.close()
    return Inversion(layer=layer, original=real[0].detach().cpu(), reconstruction=x[0].detach().cpu(),
                     initial_loss=history[0][1], final_loss=history[-1][1], history=history)


@dataclass
class InversionFiles:
    png: Path
    gif: Path
    json: Path


def write_inversion(inversion: Inversion, out_dir: str | Path, info: dict[str, Any] | None = None) -> InversionFiles:
    """inversion.png (original, reconstruction and both motions as rows), inversion.gif (side by side)
    and inversion.json (settings, `info` and the feature loss before and after) into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    real_motion, rec_motion = motion_magnitude(inversion.original), motion_magnitude(inversion.reconstruction)
    scale = max(0.05, float(torch.quantile(torch.cat([real_motion.flatten(), rec_motion.flatten()]), 0.995)))
    rows = [Row("original clip", to_frames(inversion.original)),
            Row(f"reconstruction from {inversion.layer}", to_frames(inversion.reconstruction)),
            Row("motion of the original", motion_frames(real_motion, scale)),
            Row("motion of the reconstruction", motion_frames(rec_motion, scale))]
    title = (f"feature inversion at {inversion.layer}: relative feature loss {inversion.initial_loss:.4f} at the start, "
             f"{inversion.final_loss:.4f} at the end")
    files = InversionFiles(png=write_png(strip(rows, title), out_dir / "inversion.png"),
                           gif=write_gif(animation(rows[:2]), out_dir / "inversion.gif"),
                           json=out_dir / "inversion.json")
    atomic_write_json(files.json, {
        **(info or {}), "layer": inversion.layer,
        "feature_loss": "|phi(x) - phi(x0)|^2 / |phi(x0)|^2 at the layer (1 = as far as zero features)",
        "feature_loss_initial": inversion.initial_loss, "feature_loss_final": inversion.final_loss,
        "history": [{"step": step, "feature_loss": loss} for step, loss in inversion.history],
        "files": {"strip": files.png.name, "gif": files.gif.name}, "code_version": code_version()})
    return files
