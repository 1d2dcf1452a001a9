"""Build any video model from the config's model and data sections; the CLI and the tests iterate over the one
table of architectures.

A model comes from one of three places, in this order:

- `model.model_factory` (`package.module:function`): the user's own code. Importing it runs it, so a factory
  is built only when the caller says it trusts it (`trust_model_code=True`: the user typed the option). A
  config read from a model folder someone else made may name any module, and must never run it on its own;
- `model.hf_model`: a Hugging Face transformers video classifier (a `save_pretrained` folder or a hub id),
  its head re-initialised when the dataset has another class count (models/hf.py);
- `model.arch`: a registered `Architecture` (models/spec.py), e.g. c3d, r3d_18, i3d.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .spec import Architecture
from .wrapper import ModelSpec, VideoModel

if TYPE_CHECKING:
    from ..config import DataConfig, ModelConfig

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


def build_architecture(arch: Architecture, num_classes: int, m: ModelConfig, data: DataConfig) -> VideoModel:
    """The registered network for the data's clips, wrapped with its from-scratch preprocessing and feature layers."""
    size = (data.crop_size, data.crop_size)
    net = arch.build(num_classes, m, data)
    # A network sized by its config (a C3D with fewer groups) names its own layers; else the architecture's.
    layers = getattr(net, "perceptual_layers", arch.perceptual_layers)
    spec = ModelSpec(num_frames=data.num_frames, input_size=size, architecture=arch.name, perceptual_layers=layers)
    return VideoModel(net, arch.preprocessing(data), spec)


def build_model(m: ModelConfig, data: DataConfig, num_classes: int, *, trust_model_code: bool = False) -> VideoModel:
    """The model the config's model section `m` describes, for the data section's clips, with `num_classes`
    outputs and fresh weights (a Hugging Face model: its own, with a fresh head for another class count).
    `trust_model_code` allows importing `model.model_factory`."""
    if m.model_factory:
        if not trust_model_code:
            raise ConfigError("model.model_factory", f"{m.model_factory!r} names code to import, and a saved "
                                                     "config never runs code on its own; pass {trust_model_code} "
                                                     "if you trust it", "trust_model_code")
        return _from_factory(m.model_factory, num_classes, data)
    if m.hf_model:
        return _from_hf(m.hf_model, num_classes, data)
    return build_architecture(architecture(m.arch), num_classes, m, data)


def _from_factory(spec: str, num_classes: int, data: DataConfig) -> VideoModel:
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
        size = (data.crop_size, data.crop_size)
        model = wrap(model, input_size=size, num_frames=data.num_frames)
    return model


def _from_hf(source: str, num_classes: int, data: DataConfig) -> VideoModel:
    """The Hugging Face classifier, refused before any training when its clip length is not the data's (its
    position embeddings fix it; `config.resolve` sets the data's from the model)."""
    from .hf import load_hf_model

    model, _ = load_hf_model(source, num_classes=num_classes)
    if model.spec.num_frames != data.num_frames:
        raise ConfigError("data.num_frames", f"the Hugging Face model {source} takes {model.spec.num_frames}"
                                             f"-frame clips, the data config gives {data.num_frames}")
    return model


def network_record(model: VideoModel) -> dict:
    """What a model folder's meta.json needs beside its config to rebuild the network: for a Hugging Face model
    its architecture config (`hf_config`), so the folder no longer needs the folder or hub id it came from."""
    from .hf import HFVideoClassifier, hf_architecture_config

    return {"hf_config": hf_architecture_config(model)} if isinstance(model.net, HFVideoClassifier) else {}


def rebuild_model(m: ModelConfig, data: DataConfig, num_classes: int, meta: dict, *,
                  trust_model_code: bool = False) -> VideoModel:
    """The network of a saved model (fresh weights, to load the saved ones into) from its config and meta.json."""
    if "hf_config" in meta:
        from .hf import build_hf_from_config

        return build_hf_from_config(meta["hf_config"], num_classes)
    return build_model(m, data, num_classes, trust_model_code=trust_model_code)
