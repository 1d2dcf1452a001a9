"""A trained generator folder: generator.safetensors + config.json (resolved Config) + meta.json.

meta.json says what the generator is without the code: k, the loss it was trained with, whether it
sees frame indices, the video model folder whose features trained it, metrics and the code version.
It is written last, so its presence marks a complete folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .. import config as config_mod
from ..errors import UserError
from ..io import code_version, load_tensors, read_json, write_checkpoint
from ..models.checkpoint import load_state_strict
from .network import TemporalGenerator, build_generator

WEIGHTS = "generator.safetensors"


def save_generator(folder: str | Path, generator: TemporalGenerator, cfg: config_mod.Config, **meta: Any) -> None:
    """Write the folder atomically, file by file, meta.json last. `meta` adds e.g. loss, model, metrics."""
    info = {"k": generator.k, "num_frames": generator.num_frames, "use_indices": generator.use_indices,
            "code_version": code_version(), **meta}
    write_checkpoint(folder, generator.state_dict(), cfg.to_dict(), info, weights_name=WEIGHTS)


def load_generator(folder: str | Path, device: str | torch.device = "cpu") -> tuple[TemporalGenerator, dict]:
    """Rebuild a generator folder in eval mode; returns (generator, meta)."""
    folder = Path(folder)
    if not (folder / "meta.json").is_file() or not (folder / WEIGHTS).is_file():
        raise UserError(f"--generator: {folder} is not a trained generator folder (no meta.json or {WEIGHTS})")
    cfg = config_mod.from_dict(read_json(folder / "config.json"))
    meta = read_json(folder / "meta.json")
    if "k" not in meta:
        raise UserError(f"--generator: {folder / 'meta.json'} does not say which k the generator takes")
    generator = build_generator(int(meta["k"]), cfg)
    load_state_strict(generator, load_tensors(folder / WEIGHTS), str(folder / WEIGHTS))
    return generator.to(device).eval(), meta
