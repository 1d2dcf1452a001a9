"""Build any registered video model by name; the CLI and the tests iterate over this one table."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ..config import Config
from ..errors import ConfigError
from .c3d import C3D, PERCEPTUAL_LAYERS
from .wrapper import ModelSpec, Preprocessing, VideoModel

Factory = Callable[[int, Config], VideoModel]
_ARCHS: dict[str, Factory] = {}

# Normalization for models motionprobe trains from scratch on [0, 1] RGB.
DEFAULT_MEAN = (0.45, 0.45, 0.45)
DEFAULT_STD = (0.225, 0.225, 0.225)


def register(name: str) -> Callable[[Factory], Factory]:
    def deco(fn: Factory) -> Factory:
        _ARCHS[name] = fn
        return fn

    return deco


def architectures() -> list[str]:
    return sorted(_ARCHS)


@register("c3d")
def c3d(num_classes: int, cfg: Config) -> VideoModel:
    size = (cfg.data.crop_size, cfg.data.crop_size)
    net = C3D(num_classes, width=cfg.model.width, fc_dim=cfg.model.fc_dim, dropout=cfg.model.dropout,
              num_frames=cfg.data.num_frames, input_size=size, batch_norm=cfg.model.batch_norm)
    return VideoModel(net, Preprocessing(mean=DEFAULT_MEAN, std=DEFAULT_STD),
                      ModelSpec(num_frames=cfg.data.num_frames, input_size=size, perceptual_layers=PERCEPTUAL_LAYERS))


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


def build_model(cfg: Config, num_classes: int) -> VideoModel:
    if cfg.model.model_factory:
        return _from_factory(cfg.model.model_factory, num_classes, cfg)
    if cfg.model.arch not in _ARCHS:
        raise ConfigError("model.arch", f"unknown architecture {cfg.model.arch!r}; expected one of "
                                        f"{', '.join(architectures())}")
    return _ARCHS[cfg.model.arch](num_classes, cfg)
