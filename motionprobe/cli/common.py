"""Flags shared by the verbs, and how options resolve: preset < config file < command line."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from .. import config as config_mod
from ..data import DATASETS
from ..errors import UserError

# CLI option (dest) → field of Config it sets. Options not listed here are verb arguments.
OPTION_PATHS = {
    "preset": "preset", "seed": "seed", "device": "device",
    "dataset": "data.dataset", "root": "data.root", "split": "data.split", "cache": "data.cache",
    "clips_per_video": "data.clips_per_video", "train_per_class": "data.train_per_class",
    "test_per_class": "data.test_per_class", "short_video_policy": "data.short_video_policy",
    "annotations": "data.annotations", "frame_stride": "data.frame_stride", "resize_mode": "data.resize_mode",
    "test_fraction": "data.test_fraction",
    "arch": "model.arch", "weights": "model.weights", "model_factory": "model.model_factory",
    "epochs": "train.epochs", "batch_size": "train.batch_size", "lr": "train.lr",
}


def add_common(p: argparse.ArgumentParser, *, data: bool = True, out: bool = True) -> None:
    g = p.add_argument_group("common options")
    g.add_argument("--config", metavar="FILE", help="YAML or TOML file of options (CLI flags win)")
    g.add_argument("--preset", help="typed preset: tiny (CPU, minutes) or paper (C3D 112×112×16); "
                   "default tiny on the synthetic benchmark, paper otherwise")
    g.add_argument("--seed", type=int, help="random seed (default 0)")
    g.add_argument("--device", choices=["cpu", "cuda"], help="where to compute (default cpu)")
    if out:
        g.add_argument("--out", metavar="DIR", help="output folder")
    if data:
        add_data(p)


def add_data(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--dataset", choices=DATASETS, help="dataset layout (default synthetic: the embedded benchmark)")
    g.add_argument("--root", metavar="PATH", help="dataset root folder (or annotation file for 'list')")
    g.add_argument("--split", type=int, help="official split number (default 1)")
    g.add_argument("--cache", metavar="DIR", help="frame cache made by 'motionprobe data cache'")
    g.add_argument("--clips-per-video", type=int, help="evaluation clips per video (default 1, centered)")
    g.add_argument("--train-per-class", type=int, help="synthetic: training clips per class")
    g.add_argument("--test-per-class", type=int, help="synthetic: test clips per class")
    g.add_argument("--annotations", metavar="PATH", help="folder (or file) of split/annotation files, when they are "
                                                         "neither inside nor beside --root")
    g.add_argument("--short-video-policy", choices=["loop", "pad", "skip"], help="videos shorter than a clip (default loop)")
    g.add_argument("--frame-stride", type=int, help="take every N-th frame (default 1)")
    g.add_argument("--resize-mode", choices=["fixed", "short_side"], help="fixed: C3D's 128×171; short_side: keep aspect")
    g.add_argument("--test-fraction", type=float, help="folder layout: share of each class held out for test")


def apply_config_file(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Make the values of --config FILE the defaults of the chosen verb, so flags still win."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv)
    if not known.config or not argv:
        return
    data = config_mod.load_file(known.config)
    verb = argv[0]
    sub = _subparser(parser, verb)
    if sub is None:
        return
    dests = {a.dest for a in sub._actions}
    defaults, config_keys = {}, {}
    sections = {f.name for f in dataclasses.fields(config_mod.Config) if dataclasses.is_dataclass(f.default_factory)}
    for key, value in data.items():
        dest = key.replace("-", "_")
        # A mapping under a section name ("model:", "generator:") is config, not the option of that name.
        if dest in dests and not (key in sections and isinstance(value, dict)):
            defaults[dest] = value
        else:
            config_keys[key] = value
    sub.set_defaults(**defaults, _config_overrides=config_keys)


def _subparser(parser: argparse.ArgumentParser, verb: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(verb)
    return None


def resolve_config(args: argparse.Namespace, base: config_mod.Config | None = None) -> config_mod.Config:
    """Preset (or `base`, e.g. a trained model's config) < config file < explicit flags."""
    preset_name = getattr(args, "preset", None)
    if base is not None and preset_name is None:
        cfg = config_mod.from_dict(base.to_dict())
    else:
        # The embedded benchmark is small; real datasets default to the paper's setting.
        file_overrides = getattr(args, "_config_overrides", {}) or {}
        dataset = getattr(args, "dataset", None) or file_overrides.get("data", {}).get("dataset", "synthetic")
        cfg = config_mod.preset(preset_name or ("tiny" if dataset == "synthetic" else "paper"))
    config_mod.apply_overrides(cfg, getattr(args, "_config_overrides", {}) or {})
    overrides: dict[str, Any] = {}
    for dest, path in OPTION_PATHS.items():
        value = getattr(args, dest, None)
        if value is not None:
            overrides[path] = value
    config_mod.apply_overrides(cfg, overrides)
    _validate(cfg)
    return cfg


def _validate(cfg: config_mod.Config) -> None:
    if cfg.data.dataset != "synthetic" and not cfg.data.root:
        raise UserError(f"--root: dataset {cfg.data.dataset!r} needs --root PATH pointing at its files")
    if cfg.data.root and not Path(cfg.data.root).exists():
        raise UserError(f"--root: {cfg.data.root} does not exist")
    if cfg.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UserError("--device cuda: no CUDA device is available here; use --device cpu")


def out_dir(args: argparse.Namespace, default: str) -> Path:
    path = Path(getattr(args, "out", None) or default)
    if path.exists() and not path.is_dir():
        raise UserError(f"--out: {path} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def model_config(folder: str | Path) -> config_mod.Config:
    """The resolved config a trained model folder was made with: the base other verbs start from."""
    from ..io import read_json

    path = Path(folder) / "config.json"
    if not path.is_file():
        raise UserError(f"--model: {folder} is not a trained model folder (no config.json)")
    return config_mod.from_dict(read_json(path))
