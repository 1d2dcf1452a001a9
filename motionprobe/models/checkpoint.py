"""A trained model folder: model.safetensors + config.json (resolved Config) + meta.json.

meta.json carries what a reader needs without the code: class names, the preprocessing that
belongs to the weights, the seed, metrics and the code version. It is written last.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from .. import config as config_mod
from ..errors import UserError
from ..io import code_version, load_tensors, read_json, write_checkpoint
from .registry import build_model
from .wrapper import ModelSpec, Preprocessing, VideoModel


def save_model(folder: str | Path, model: VideoModel, cfg: config_mod.Config, classes: list[str],
               **meta: Any) -> None:
    info = {"classes": list(classes), "preprocessing": model.preprocessing.to_dict(),
            "spec": asdict(model.spec), "code_version": code_version(), **meta}
    write_checkpoint(folder, model.net.state_dict(), cfg.to_dict(), info)


def load_state_strict(net: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load a state dict, naming every missing, unexpected or mis-shaped key on failure."""
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f"{k} {tuple(state[k].shape)} != {tuple(own[k].shape)}" for k in own
              if k in state and state[k].shape != own[k].shape]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing[:8])}{' …' if len(missing) > 8 else ''}")
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected[:8])}{' …' if len(unexpected) > 8 else ''}")
    if shapes:
        problems.append(f"shape mismatch {'; '.join(shapes[:8])}")
    if problems:
        raise UserError(f"{source}: weights do not fit the model: {'; '.join(problems)}")
    net.load_state_dict(state, strict=True)


def load_model(folder: str | Path, device: str | torch.device = "cpu") -> tuple[VideoModel, dict]:
    """Rebuild a model folder in eval mode; returns (model, meta)."""
    folder = Path(folder)
    if not (folder / "meta.json").is_file():
        raise UserError(f"--model: {folder} is not a trained model folder (no meta.json)")
    cfg = config_mod.from_dict(read_json(folder / "config.json"))
    meta = read_json(folder / "meta.json")
    model = build_model(cfg, len(meta["classes"]))
    load_state_strict(model.net, load_tensors(folder / "model.safetensors"), str(folder / "model.safetensors"))
    model.set_preprocessing(Preprocessing.from_dict(meta["preprocessing"]))
    spec = dict(meta.get("spec", {}))
    for key in ("input_size", "perceptual_layers"):
        if key in spec:
            spec[key] = tuple(spec[key])
    model.spec = ModelSpec(**spec)
    return model.to(device).eval(), meta
