"""Build any video model from a Config; the CLI and the tests iterate over the one table of architectures.

A model comes from one of two places, in this order:

- `model.model_factory` (`package.module:function`): the user's own code. Importing it runs it, so a factory
  is built only when the caller says it trusts it (`trust_model_code=True`: the user typed the option). A
  config read from a model folder someone else made may name any module, and must never run it on its own;
- `model.arch`: a registered `Architecture` (models/spec.py), e.g. c3d, r3d_18, i3d.
"""

from __future__ import annotations

import importlib

from ..config import Config
from ..errors import ConfigError
from .spec import Architecture
from .wrapper import ModelSpec, VideoModel

_ARCHS: dict[str, Architecture] = {}


def register(arch: Architecture) -> Architecture:
    """Add an architecture to the table (each architecture's module registers its own on import)."""
    if arch.name in _ARCHS:
        raise ValueError(f"architecture {arch.name!r} is registered twice")
    _ARCHS[arch.name] = arch
    return arch


def architectures() -> list[str]:
    return sorted(_ARCHS)


def architecture(name: str) -> Architecture:
    if name not in _ARCHS:
        raise ConfigError("model.arch", f"unknown architecture {name!r}; expected one of {', '.join(architectures())}")
    return _ARCHS[name]


def build_architecture(arch: Architecture, num_classes: int, cfg: Config) -> VideoModel:
    """The registered network for `cfg`'s clips, wrapped with its from-scratch preprocessing and feature layers."""
    size = (cfg.data.crop_size, cfg.data.crop_size)
    spec = ModelSpec(num_frames=cfg.data.num_frames, input_size=size, perceptual_layers=arch.perceptual_layers,
                     architecture=arch.name)
    return VideoModel(arch.build(num_classes, cfg), arch.preprocessing(cfg), spec)


def build_model(cfg: Config, num_classes: int, *, trust_model_code: bool = False) -> VideoModel:
    """The model `cfg.model` describes, with `num_classes` outputs and fresh weights. `trust_model_code` allows
    importing `model.model_factory`."""
    if cfg.model.model_factory:
        if not trust_model_code:
            raise ConfigError("model.model_factory", f"{cfg.model.model_factory!r} names code to import, and a saved "
                                                     "config never runs code on its own; pass {trust_model_code} "
                                                     "if you trust it", "trust_model_code")
        return _from_factory(cfg.model.model_factory, num_classes, cfg)
    return build_architecture(architecture(cfg.model.arch), num_classes, cfg)


def _from_factory(spec: str, num_classes: int, cfg: Config) -> VideoModel:
    """`package.module:function` returning a VideoModel (see motionprobe.wrap) or a bare nn.Module."""
    from .wrapper import wrap

    if ":" not in spec:
        raise ConfigError("model.model_factory", f"expected 'package.module:function', got {spec!r}")
    mod_name, fn_name = spec.split(":", 1)
    try:
        fn = getattr(importlib.import_module(mod_name), fn_name)
    except (ImportError, AttributeError) as e:
        raise ConfigError("model.model_factory", f"cannot load {spec!r}: {e}") from None
    model = fn(num_classes=num_classes)
    if not isinstance(model, VideoModel):
        size = (cfg.data.crop_size, cfg.data.crop_size)
        model = wrap(model, input_size=size, num_frames=cfg.data.num_frames)
    return model
