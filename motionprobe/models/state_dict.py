"""Loading a state dict into a network strictly, with a message that names every key that does not fit."""

from __future__ import annotations

import torch

from ..errors import UserError


def load_state_strict(net: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load a state dict, naming every missing, unexpected or mis-shaped key on failure.

    >>> net = torch.nn.Linear(2, 3)
    >>> load_state_strict(net, {"weight": torch.zeros(3, 2)}, "w.safetensors")
    Traceback (most recent call last):
    ...
    motionprobe.errors.UserError: w.safetensors: weights do not fit the model: missing bias
    """
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
