"""One generator per k, built from the config's generator section: the pixel or the flow generator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from .flow import FlowGenerator
from .network import TemporalGenerator

KINDS = ("pixels", "flow")  # the choices of generator.kind

if TYPE_CHECKING:
    from ..config import GeneratorConfig


def build_generator(k: int, g: GeneratorConfig, num_frames: int) -> nn.Module:
    """One generator per k for clips of `num_frames`, sized by the config's generator section `g`: `kind` "pixels"
    (generator/network.py's CycleGAN generator: ngf, n_blocks, use_indices, index_encoding, residual, copy_given)
    or "flow" (generator/flow.py: it can only move the given frames' pixels, plus a residual bounded to
    ±flow_residual)."""
    if g.kind == "flow":
        return FlowGenerator(k, num_frames=num_frames, ngf=g.ngf, n_blocks=g.n_blocks,
                             use_indices=g.use_indices, copy_given=g.copy_given, residual_scale=g.flow_residual,
                             erase=g.flow_erase)
    return TemporalGenerator(k, num_frames=num_frames, ngf=g.ngf, n_blocks=g.n_blocks,
                             use_indices=g.use_indices, residual=g.residual, copy_given=g.copy_given,
                             index_encoding=g.index_encoding)
