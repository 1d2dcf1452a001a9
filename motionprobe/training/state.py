"""Resumable training state shared by both loops: weights, optimizer, scheduler, epoch, in one place.

`train_state.safetensors` holds every tensor (model and optimizer); `train_state.json` holds the rest
and is written last, so its presence means the pair is complete. Resuming reads only these two files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import UserError
from ..io import atomic_write_json, load_tensors, read_json, save_tensors

STATE_TENSORS = "train_state.safetensors"
STATE_JSON = "train_state.json"


@dataclass
class TrainState:
    epoch: int  # epochs completed
    history: list[dict[str, Any]]
    extra: dict[str, Any]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def save_train_state(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                     scheduler: Any | None, state: TrainState) -> None:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    slots: dict[str, list[str]] = {}
    for pid, pstate in opt["state"].items():
        for key, value in pstate.items():
            if torch.is_tensor(value):
                tensors[f"optim.{pid}.{key}"] = value
                slots.setdefault(str(pid), []).append(key)
    scalars = {str(pid): {k: v for k, v in ps.items() if not torch.is_tensor(v)} for pid, ps in opt["state"].items()}
    save_tensors(folder / STATE_TENSORS, tensors)
    atomic_write_json(folder / STATE_JSON, {
        "epoch": state.epoch, "history": state.history, "extra": state.extra,
        "optimizer": {"param_groups": opt["param_groups"], "tensor_slots": slots, "scalars": scalars},
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
    })


def has_train_state(folder: Path) -> bool:
    return (folder / STATE_JSON).is_file() and (folder / STATE_TENSORS).is_file()


def load_train_state(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                     scheduler: Any | None) -> TrainState:
    if not has_train_state(folder):
        raise UserError(f"--resume: {folder} holds no training state ({STATE_JSON}); start without --resume")
    meta = read_json(folder / STATE_JSON)
    tensors = load_tensors(folder / STATE_TENSORS)
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    opt_meta = meta["optimizer"]
    opt_state: dict[int, dict[str, Any]] = {}
    for pid, keys in opt_meta["tensor_slots"].items():
        opt_state[int(pid)] = {key: tensors[f"optim.{pid}.{key}"] for key in keys}
    for pid, scalars in opt_meta["scalars"].items():
        opt_state.setdefault(int(pid), {}).update(scalars)
    optimizer.load_state_dict({"state": opt_state, "param_groups": opt_meta["param_groups"]})
    if scheduler is not None and meta.get("scheduler") is not None:
        scheduler.load_state_dict(meta["scheduler"])
    return TrainState(epoch=int(meta["epoch"]), history=list(meta["history"]), extra=dict(meta.get("extra", {})))


class MetricsLog:
    """Appends rows to a CSV (rewritten atomically from history) and to TensorBoard when installed."""

    def __init__(self, folder: Path, name: str = "log.csv"):
        self.path = folder / name
        self.writer = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(folder / "tensorboard"))
        except Exception:  # tensorboard is optional
            self.writer = None

    def write(self, history: list[dict[str, Any]]) -> None:
        from ..io import atomic_write_text

        if not history:
            return
        keys = list(history[0])
        for row in history[1:]:
            keys += [k for k in row if k not in keys]
        lines = [",".join(keys)] + [",".join(_fmt(row.get(k, "")) for k in keys) for row in history]
        atomic_write_text(self.path, "\n".join(lines) + "\n")
        if self.writer is not None:
            row = history[-1]
            for k, v in row.items():
                if isinstance(v, (int, float)) and k != "epoch":
                    self.writer.add_scalar(k, v, row.get("epoch", len(history)))
            self.writer.flush()


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)
