"""PyTorch weights files (what `torch.save` writes): the state dict read without running code.

`torch.load(..., weights_only=True)` builds tensors and plain containers only, and refuses a file that asks for
anything else (a planted `__reduce__` included) before it is called. The published C3D Sports-1M port, torchvision's
video ResNets and I3D as a state dict are all read this way, as is any other state dict given as `model.weights`.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import torch

from ...errors import ConfigError

# Checkpoint dicts that hold the state dict under one of these keys (training scripts' common layouts).
CONTAINER_KEYS = ("state_dict", "model_state_dict", "model")


def read_torch_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a PyTorch pickle, without executing anything the file asks for."""
    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if re.search(r"Unsupported operand|String is too long", str(e)):  # not a pickle torch can read safely
            raise ConfigError("model.weights", f"{path} is not a readable PyTorch weights file (not a pickle that "
                            "torch.load reads with weights_only=True)") from None
        asked = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(e))
        what = f" (it asks for {asked.group(1)})" if asked else ""
        raise ConfigError("model.weights", f"{path} refused: it holds objects other than tensors and plain "
                                           f"containers{what}; motionprobe never runs code from a weights file — "
                                           "re-save it as a plain state dict or safetensors") from None
    except (RuntimeError, EOFError, KeyError, ValueError, OSError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError("model.weights", f"{path} is not a readable PyTorch weights file ({first})") from None
    return _state_dict_in(obj, path)


def _state_dict_in(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in CONTAINER_KEYS:
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj:
        raise ConfigError("model.weights", f"{path} does not hold a state dict (a mapping of parameter names to tensors)")
    odd = [str(k) for k, v in obj.items() if not (isinstance(k, str) and isinstance(v, torch.Tensor))]
    if odd:
        raise ConfigError("model.weights", f"{path}: entries that are not named tensors: {', '.join(odd[:8])}"
                        f"{' …' if len(odd) > 8 else ''}")
    return dict(obj)
