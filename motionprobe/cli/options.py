"""The one table from command-line options to config paths, and how a verb's options become a Config.

Options resolve as preset < config file (`--config FILE`) < flags. `CONFIG_OPTIONS` maps each option's
argparse `dest` to the config path it sets; a dest means the same path in every verb, so a verb that
gives a flag another meaning uses another dest (train-generator's `--epochs` is `generator_epochs`).
The same table turns a library `ConfigError("generator.lr", ...)` back into the flag that sets it in the
verb at hand (`--lr`), so the library never names a flag.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import config as config_mod
from ..data import DATASETS
from ..data.sampling import POLICIES
from ..data.transforms import RESIZE_MODES
from ..errors import UserError
from ..folders import ModelFolder

CONFIG_OPTIONS = {
    "preset": "preset", "seed": "seed", "device": "device",
    "dataset": "data.dataset", "root": "data.root", "split": "data.split", "cache": "data.cache",
    "clips_per_video": "data.clips_per_video", "train_per_class": "data.train_per_class",
    "test_per_class": "data.test_per_class", "short_video_policy": "data.short_video_policy",
    "annotations": "data.annotations", "frame_stride": "data.frame_stride", "resize_mode": "data.resize_mode",
    "test_fraction": "data.test_fraction", "truth": "data.truth",
    "arch": "model.arch", "weights": "model.weights", "model_factory": "model.model_factory",
    "hf_model": "model.hf_model",
    "epochs": "train.epochs", "batch_size": "train.batch_size", "lr": "train.lr",
    "generator_epochs": "generator.epochs", "generator_batch_size": "generator.batch_size",
    "generator_lr": "generator.lr", "decay_fraction": "generator.decay_fraction",
    "use_indices": "generator.use_indices", "loss": "generator.loss",
    "frames": "analysis.ks", "candidates": "analysis.candidates", "bootstrap": "analysis.bootstrap",
    "analysis_batch_size": "analysis.batch_size", "shard_size": "analysis.shard_size",
    "target": "analysis.target", "probes": "analysis.probes",
}


def add_common(p: argparse.ArgumentParser, *, data: bool = True, out: bool = True) -> None:
    g = p.add_argument_group("common options")
    g.add_argument("--config", metavar="FILE", help="YAML or TOML file of options (CLI flags win)")
    g.add_argument("--preset", help="typed preset: tiny (CPU, minutes), paper (C3D 112×112×16) or real (I3D "
                   "on unlabelled videos); default tiny on the synthetic benchmark, paper otherwise")
    g.add_argument("--seed", type=int, help="random seed (default 0)")
    g.add_argument("--device", choices=config_mod.DEVICES, help="where to compute (default cpu)")
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
    g.add_argument("--short-video-policy", choices=POLICIES, help="videos shorter than a clip (default loop)")
    g.add_argument("--frame-stride", type=int, help="take every N-th frame (default 1)")
    g.add_argument("--resize-mode", choices=RESIZE_MODES, help="fixed: C3D's 128×171; short_side: keep aspect")
    g.add_argument("--test-fraction", type=float, help="folder layout: share of each class held out for test")
    g.add_argument("--truth", metavar="FILE", help="planted-truth file giving each class its kind (default: a "
                                                   "truth.json beside the data; docs/datasets.md)")


def add_commands(sub: argparse._SubParsersAction, name: str, *, dest: str, metavar: str, usage_to_stderr: bool = False,
                 **kwargs: Any) -> argparse._SubParsersAction:
    """A verb made of commands (`data info`, `weights get`): its parser, and the subparsers that `add_command`
    fills. The verb without a command prints its help (data: on stderr) and exits with 2."""
    p = sub.add_parser(name, **kwargs)
    p.set_defaults(run=lambda args: _help(p, usage_to_stderr), parser=p)
    return p.add_subparsers(dest=dest, metavar=metavar)


def _help(p: argparse.ArgumentParser, to_stderr: bool) -> int:
    p.print_help(sys.stderr if to_stderr else sys.stdout)
    return 2


def add_command(commands: argparse._SubParsersAction, name: str, run: Callable[[argparse.Namespace], int],
                **kwargs: Any) -> argparse.ArgumentParser:
    """One command of a verb made of commands: its parser, set to call `run(args)`."""
    p = commands.add_parser(name, **kwargs)
    p.set_defaults(run=run, parser=p)
    return p


def add_hf_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hf-model", metavar="DIR", help="a Hugging Face transformers video classifier (VideoMAE, "
                   "TimeSformer, …): a save_pretrained folder or a hub id; its clip length and size become the data's, "
                   "its head is replaced for the dataset's classes (needs motionprobe[hf])")


def ks(text: str) -> list[int]:
    """`--frames 1,2,4` (and `--frames 1 2 4`, one list per word)."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers of frames like 1,2,4,8, got {text!r}") from None


def candidates(text: str) -> int | str:
    """`--candidates 48` or `all`: read as a config file's value would be; `config.validate` judges both alike."""
    word = text.strip()
    return int(word) if word.lstrip("-").isdigit() else word


def probes(text: str) -> list[str]:
    """`--probes shuffle,reverse`."""
    return [part.strip() for part in text.split(",") if part.strip()]


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    """What an analysis scores against and which temporal probes run beside it (analyze and pipeline)."""
    p.add_argument("--target", choices=config_mod.TARGET_CHOICES,
                   help="score against the labels, or against the model's prediction on the full clip (agreement: "
                        "no labels needed), or both; auto (default): labels where the dataset has them")
    p.add_argument("--probes", type=probes, metavar="P,P",
                   help="temporal probes beside the bound, by family and severity: shuffle_w2, local_shuffle, "
                        "shuffle_w8, shuffle; reverse; freeze_25, freeze_50, freeze; speed_x0.25, slow, fast, "
                        "speed_x4, speed_x8, speed_x16 (fast to speed_x16: the stride curve) (default all; real "
                        "preset: shuffle, reverse)")
    p.add_argument("--no-probes", dest="probes", action="store_const", const=[], help="run no temporal probe")


def assignments(items: list[str], option: str) -> dict[int, Path]:
    """["1=runs/g1", "4=runs/g4"] → {1: Path("runs/g1"), 4: Path("runs/g4")}."""
    out: dict[int, Path] = {}
    for item in items:
        k, sep, folder = item.partition("=")
        if not sep or not k.strip().isdigit() or not folder:
            raise UserError(f"{option}: expected K=DIR (e.g. 1=runs/generator_k1), got {item!r}")
        if int(k) in out:
            raise UserError(f"{option}: k={int(k)} given twice")
        out[int(k)] = Path(folder)
    return out


def apply_config_file(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Make the values of --config FILE the defaults of the chosen verb, so flags still win."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv)
    if not known.config or not argv:
        return
    try:
        data = config_mod.load_file(known.config)
    except UserError as e:
        raise UserError(f"--config: {e}") from None
    sub = _subparser(parser, argv[0])
    if sub is None:
        return
    actions = {a.dest: a for a in sub._actions}
    defaults, config_keys = {}, {}
    sections = {f.name for f in dataclasses.fields(config_mod.Config) if dataclasses.is_dataclass(f.default_factory)}
    for key, value in data.items():
        dest = str(key).replace("-", "_")
        # A mapping under a section name ("model:", "generator:") is config, not the option of that name.
        if dest in actions and not (key in sections and isinstance(value, dict)):
            # A config path's value is judged by config.validate like the flag's; any other option's (--out,
            # --model, --resume, ...) is read here as argparse reads the same words on the command line.
            defaults[dest] = value if dest in CONFIG_OPTIONS else option_value(actions[dest], key, value, known.config)
        else:
            config_keys[key] = value
    sub.set_defaults(**defaults, _config_overrides=config_keys)


def option_value(action: argparse.Action, key: str, value: Any, file: str) -> Any:
    """A config file's value for an option, converted and checked as argparse would the option's words.

    >>> p = argparse.ArgumentParser()
    >>> option_value(p.add_argument("--steps", type=int), "steps", 20, "f.yaml")
    20
    >>> option_value(p.add_argument("--resume", action="store_true"), "resume", "yes", "f.yaml")
    Traceback (most recent call last):
    ...
    motionprobe.errors.UserError: --config: f.yaml: resume: expected true or false, got 'yes'
    """
    where = f"--config: {file}: {key}"
    if action.nargs == 0:  # a switch (store_true, store_const): true gives it, false leaves it off
        if not isinstance(value, bool):
            raise UserError(f"{where}: expected true or false, got {value!r}")
        return action.const if value else action.default
    many = action.nargs in ("+", "*")
    converted = []
    for word in value if many and isinstance(value, list) else [value]:
        if isinstance(word, bool) or not isinstance(word, (str, int, float)):
            raise UserError(f"{where}: expected {'values' if many else 'a value'} as on the command line, got {value!r}")
        try:
            item = action.type(str(word)) if callable(action.type) else str(word)
        except (argparse.ArgumentTypeError, ValueError, TypeError, UserError) as e:
            raise UserError(f"{where}: {e}") from None
        if action.choices is not None and item not in action.choices:
            raise UserError(f"{where}: expected one of {', '.join(map(str, action.choices))}, got {word!r}")
        converted.append(item)
    return converted if many else converted[0]


def _subparser(parser: argparse.ArgumentParser, verb: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(verb)
    return None


def config_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config paths the verb's flags (and the config file's values for them) set."""
    overrides: dict[str, Any] = {}
    for dest, path in CONFIG_OPTIONS.items():
        value = getattr(args, dest, None)
        if value is None or dest == "preset":
            continue
        if dest == "frames":  # "--frames 1,2 4" → [[1, 2], [4]]; a config file may give [1, 2, 4] or 4
            groups = value if isinstance(value, (list, tuple)) else [value]
            value = [k for group in groups for k in (group if isinstance(group, list) else [group])]
        overrides[path] = value
    return overrides


def resolve_config(args: argparse.Namespace, base: config_mod.Config | None = None) -> config_mod.Config:
    """Preset (or `base`, e.g. a trained model's config) < config file < explicit flags, validated; with
    --hf-model the clip length and crop are the model's."""
    return config_mod.resolve(getattr(args, "preset", None), base=base, file=getattr(args, "_config_overrides", None),
                              overrides=config_overrides(args), fit_data=_fit_data_to_model)


def _fit_data_to_model(data: config_mod.DataConfig, source: str) -> config_mod.DataConfig:
    from ..models.hf import fit_data_to_model  # torch and the model's config are read only for --hf-model

    return fit_data_to_model(data, source)


# Options whose dest differs from the workflow argument they set (the dest of the same name means something
# else in CONFIG_OPTIONS): evaluate's --batch-size is `evaluate(batch_size=)`, invert's --lr is `settings.lr`.
WORKFLOW_ARGUMENTS = {"eval_batch_size": "batch_size", "inversion_lr": "settings.lr", "steps": "settings.steps",
                      "tv": "settings.tv_space", "tv_time": "settings.tv_time", "compare_bootstrap": "bootstrap"}


def add_model_options(p: argparse.ArgumentParser) -> None:
    """The last options of a verb that reads a trained model folder (--model DIR): the switch that lets the
    folder run code, then the common options."""
    add_trust_model_code(p)
    add_common(p)


def model_config(args: argparse.Namespace) -> config_mod.Config:
    """The config of a verb that reads a trained model folder: the folder's own config < config file < flags."""
    return resolve_config(args, base=ModelFolder(args.model).config())


def add_trust_model_code(p: argparse.ArgumentParser) -> None:
    """The switch that lets a model folder's config import the model factory it names (docs/troubleshooting.md)."""
    p.add_argument("--trust-model-code", action="store_true",
                   help="import the model factory (package.module:function) that the model folder's config.json "
                        "names; without it a model folder never runs code")


def flag_for(parser: argparse.ArgumentParser, path: str) -> str | None:
    """The option of `parser` that sets config path (or names workflow argument) `path`, e.g. '--frames'."""
    for action in parser._actions:
        if action.option_strings and path in (action.dest, CONFIG_OPTIONS.get(action.dest),
                                              WORKFLOW_ARGUMENTS.get(action.dest)):
            return action.option_strings[0]
    return None
