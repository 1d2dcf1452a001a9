"""Resumable training state shared by both loops: weights, optimizer, epoch, in one place.

`train_state.safetensors` is the whole checkpoint in one atomically written file: every tensor (model
and optimizer) plus, in its header's metadata, the rest (epoch, history, optimizer scalars).
`train_state.json` is a readable copy of that rest, written after it. Two separate files could not be
replaced together: a kill between the two writes would pair new weights with the old epoch counter,
and a resumed run would train that epoch twice.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError, UserError
from ..io import atomic_write_json, json_text, load_tensors_and_metadata, save_tensors

STATE_TENSORS = "train_state.safetensors"
STATE_JSON = "train_state.json"
STATE_KEY = "motionprobe.train_state"  # safetensors metadata entry holding STATE_JSON's content


@dataclass
class TrainState:
    epoch: int  # epochs completed
    history: list[dict[str, Any]]
    extra: dict[str, Any]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def save_train_state(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: TrainState) -> None:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    slots: dict[str, list[str]] = {}
    for pid, pstate in opt["state"].items():
        for key, value in pstate.items():
            if torch.is_tensor(value):
                tensors[f"optim.{pid}.{key}"] = value
                slots.setdefault(str(pid), []).append(key)
    scalars = {str(pid): {k: v for k, v in ps.items() if not torch.is_tensor(v)} for pid, ps in opt["state"].items()}
    record = {
        "epoch": state.epoch, "history": state.history, "extra": state.extra,
        "optimizer": {"param_groups": opt["param_groups"], "tensor_slots": slots, "scalars": scalars},
    }
    save_tensors(folder / STATE_TENSORS, tensors, metadata={STATE_KEY: json_text(record)})
    atomic_write_json(folder / STATE_JSON, record)


def optimizer_step(optimizer: torch.optim.Optimizer, diverged: str) -> None:
    """`optimizer.step()`; a learning rate too large for float32 makes torch raise an overflow, which is
    a diverged run like a NaN loss: `diverged` is the one-line message to raise instead."""
    try:
        optimizer.step()
    except RuntimeError as e:
        if "overflow" not in str(e):
            raise
        raise UserError(diverged) from None


def check_finite(module: torch.nn.Module, diverged: str) -> None:
    """Refuse to checkpoint non-finite weights: a step after the last finite loss can still produce them,
    and writing them would replace the last good checkpoint."""
    for tensor in module.state_dict().values():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise UserError(diverged)


def has_train_state(folder: Path) -> bool:
    return (folder / STATE_JSON).is_file() and (folder / STATE_TENSORS).is_file()



def refuse_started_run(out: Path, resume: bool, what: str) -> None:
    """A folder that holds a run is continued only when asked (`resume`), never trained over from scratch."""
    if not resume and has_train_state(out):
        raise ConfigError("out", f"{out} already holds a {what} run; pass {{resume}} to continue it or choose "
                                 "another folder", "resume")


def refuse_fewer_epochs(out: Path, done: int, planned: int, path: str) -> None:
    """A resumed run asked for fewer epochs than it has trained: its config.json would say fewer than the weights
    have had."""
    if done > planned:
        raise ConfigError(path, f"{out} has trained {done} epochs already; ask for at least {done}, or choose "
                                "another folder")

def _read_state(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    if not (folder / STATE_TENSORS).is_file():
        raise ConfigError("resume", f"{folder} holds no training state ({STATE_TENSORS}); start the run afresh")
    tensors, header = load_tensors_and_metadata(folder / STATE_TENSORS)
    if STATE_KEY not in header:
        raise ConfigError("resume", f"{folder / STATE_TENSORS} holds no motionprobe training state; start the run afresh")
    return tensors, json.loads(header[STATE_KEY])


def train_state_extra(folder: Path) -> dict[str, Any]:
    """What a checkpoint says it is a run of (its `extra`), read before any weights are loaded."""
    return dict(_read_state(folder)[1].get("extra", {}))


def load_train_state(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> TrainState:
    tensors, meta = _read_state(folder)
    from ..weights.load import load_state_strict

    try:  # another dataset (class count), architecture or k: name the keys instead of torch's traceback
        load_state_strict(model, {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")},
                          str(folder / STATE_TENSORS))
    except UserError as e:
        raise ConfigError("resume", f"{folder} holds a run with other settings; resume it with the settings it "
                                    f"was started with, or choose another folder ({e})") from None
    opt_meta = meta["optimizer"]
    opt_state: dict[int, dict[str, Any]] = {}
    for pid, keys in opt_meta["tensor_slots"].items():
        opt_state[int(pid)] = {key: tensors[f"optim.{pid}.{key}"] for key in keys}
    for pid, scalars in opt_meta["scalars"].items():
        opt_state.setdefault(int(pid), {}).update(scalars)
    optimizer.load_state_dict({"state": opt_state, "param_groups": opt_meta["param_groups"]})
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
