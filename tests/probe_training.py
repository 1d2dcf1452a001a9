"""The small supervised fit that the planted-truth tests use to show what a frame (or two) tells apart."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def fit(net: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float) -> nn.Module:
    """Adam on seeded random batches of 32; the net in eval mode. Its initial weights come from the global RNG
    as the caller left it."""
    torch.manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (32,))
        loss = F.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()
