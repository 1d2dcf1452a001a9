"""The table of dataset layouts: each layout module registers its builder here under the name `data.dataset` takes.

Its own module so that a layout can register itself without importing `motionprobe.data`, which imports the layouts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .base import ClipDataset

if TYPE_CHECKING:
    from ..config import DataConfig

Builder = Callable[["DataConfig", str, bool, int], ClipDataset]  # data section, split, training, seed
LAYOUTS: dict[str, Builder] = {}


def register_layout(name: str) -> Callable[[Builder], Builder]:
    def deco(fn: Builder) -> Builder:
        LAYOUTS[name] = fn
        return fn

    return deco
