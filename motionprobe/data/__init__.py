"""Datasets by name. Each layout is one module that registers a builder here.

`build_dataset(cfg, split, training)` returns a ClipDataset; `split` is "train" or "test".
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import Config
from ..errors import ConfigError
from .base import UNLABELLED, ClipDataset, SkipClip, clips_only, collate_clips, is_skipped, to_float

Builder = Callable[[Config, str, bool], ClipDataset]
_LAYOUTS: dict[str, Builder] = {}
DATASETS = ("synthetic", "ucf101", "hmdb51", "kinetics", "ssv2", "diving48", "list", "folder")


def register_layout(name: str) -> Callable[[Builder], Builder]:
    def deco(fn: Builder) -> Builder:
        _LAYOUTS[name] = fn
        return fn

    return deco


def build_dataset(cfg: Config, split: str = "test", training: bool = False) -> ClipDataset:
    name = cfg.data.dataset
    _import_layouts()
    if name not in _LAYOUTS:
        raise ConfigError("data.dataset", f"{name!r} is not available; expected one of {', '.join(sorted(_LAYOUTS))}")
    return _LAYOUTS[name](cfg, split, training)


def _import_layouts() -> None:
    """Each layout module registers itself on import; importing them here keeps `import motionprobe.data` light."""
    from . import layouts, synthetic  # noqa: F401


__all__ = ["DATASETS", "UNLABELLED", "ClipDataset", "SkipClip", "build_dataset", "clips_only", "collate_clips", "is_skipped",
           "register_layout", "to_float"]
