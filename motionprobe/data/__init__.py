"""Datasets by name. Each layout is one module that registers a builder in `registry` (re-exported here).

`build_dataset(cfg.data, split, training, seed=cfg.seed)` returns a ClipDataset; `split` is "train" or "test". A
layout reads only the config's data section; the seed draws the embedded benchmark's clips.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigError
from .base import UNLABELLED, ClipDataset, SkipClip, clips_only, collate_clips, is_skipped, to_float
from .registry import LAYOUTS, Builder, register_layout

if TYPE_CHECKING:
    from ..config import DataConfig

DATASETS = ("synthetic", "ucf101", "hmdb51", "kinetics", "ssv2", "diving48", "list", "folder")


def build_dataset(data: DataConfig, split: str = "test", training: bool = False, seed: int = 0) -> ClipDataset:
    name = data.dataset
    _import_layouts()
    if name not in LAYOUTS:
        raise ConfigError("data.dataset", f"{name!r} is not available; expected one of {', '.join(sorted(LAYOUTS))}")
    return LAYOUTS[name](data, split, training, seed)


def _import_layouts() -> None:
    """Each layout module registers itself on import; importing them here keeps `import motionprobe.data` light.

    The embedded benchmark needs no decoder: where PyAV is missing (a GPU machine's bare image) it still builds,
    and a layout of video files says what is missing when it is asked for."""
    from . import synthetic  # noqa: F401

    try:
        from . import layouts  # noqa: F401
    except ModuleNotFoundError as e:
        if e.name != "av":
            raise
        for name in DATASETS:
            LAYOUTS.setdefault(name, _needs_pyav(name))


def _needs_pyav(name: str) -> Builder:
    def refuse(data: DataConfig, split: str, training: bool, seed: int = 0) -> ClipDataset:
        raise ConfigError("data.dataset", f"{name!r} reads video files with PyAV, which this Python lacks "
                                          "(pip install av)")
    return refuse


__all__ = ["DATASETS", "UNLABELLED", "ClipDataset", "SkipClip", "build_dataset", "clips_only", "collate_clips", "is_skipped",
           "register_layout", "to_float"]
