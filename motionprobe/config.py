"""Typed presets and config files.

A config is a tree of frozen dataclasses. Presets (`tiny`, `paper`) are instances; a YAML/TOML file or the
command line overrides single fields. `resolve` builds the config a run uses and checks it, once; after
that it cannot change, only be copied with changes (`cfg.evolve(train={"lr": 0.1})`, which is
`dataclasses.replace` section by section). The workflows check a config they did not get from `resolve`
(a Python caller's own) and skip one that is checked already. Every run writes its resolved config as
`config.json` beside its outputs, so a run folder always says how it was made.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from .data.sampling import MAX_FRAMES, POLICIES
from .data.transforms import MAX_SIDE, RESIZE_MODES
from .errors import ConfigError, UserError
from .probes import DEFAULT_PROBES, check_probes


@dataclass(frozen=True)
class DataConfig:
    dataset: str = "synthetic"
    root: str | None = None
    split: int = 1
    num_frames: int = 16
    frame_stride: int = 1
    # Spatial size the model sees (square crop side) and the short-side resize before cropping.
    crop_size: int = 112
    resize: tuple[int, int] = (128, 171)
    # Synthetic benchmark sizes (clips per class).
    train_per_class: int = 60
    test_per_class: int = 20
    clips_per_video: int = 1
    short_video_policy: str = "loop"  # videos shorter than a clip: one of data/sampling.py's POLICIES
    cache: str | None = None
    # "fixed": every frame to `resize` (C3D); "short_side": short side to resize[0], aspect kept (ResNets).
    resize_mode: str = "fixed"
    hflip: bool = False  # training flip; off because it swaps direction-defined classes (left/right)
    annotations: str | None = None  # split/annotation files; default: looked for inside and beside the root
    test_fraction: float = 0.3  # 'folder' layout: seeded share of each class's videos held out for test
    truth: str | None = None  # planted-truth file (data/truth.py); default: a truth.json found beside the data


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "c3d"
    width: float = 1.0  # channel multiplier on the paper's widths
    fc_dim: int = 4096
    dropout: float = 0.5
    batch_norm: bool = False  # BatchNorm after each conv: not the paper's C3D, but trains fast from scratch
    global_pool: bool = False  # C3D's pool5 over all of time and space (fc6 sees what, not where)
    weights: str | None = None
    model_factory: str | None = None
    hf_model: str | None = None  # a Hugging Face video classifier: save_pretrained folder or hub id


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 16
    min_steps: int = 0  # at least this many optimiser steps: on a small dataset the epochs repeat until then
    batch_size: int = 30
    optimizer: str = "sgd"  # C3D recipe: SGD, momentum 0.9, step decay
    lr: float = 0.003
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "step"  # "step": × lr_gamma every lr_step_epochs; "cosine": warm-up, then half a cosine to 0
    lr_step_epochs: int = 4
    lr_gamma: float = 0.1
    warmup_epochs: float = 0.0  # cosine schedule: linear warm-up over this many epochs
    log_every: int = 10


@dataclass(frozen=True)
class GeneratorConfig:
    kind: str = "pixels"  # "pixels": paints the clip (CycleGAN's generator); "flow": only moves the given pixels
    flow_residual: float = 0.1  # kind "flow": the bound of its per-pixel residual, on [0, 1] values
    flow_erase: bool = False  # kind "flow": a slot may show the given frame's median colour in place of its pixels
    ngf: int = 64
    n_blocks: int = 9
    use_indices: bool = True
    loss: str = "perceptual"
    perceptual_layers: tuple[str, ...] | None = None  # None: the architecture's default
    perceptual_weights: tuple[float, ...] | None = None  # one per layer; None: all 1
    pixel_weight: float = 0.0  # perceptual loss only: + this × the pixel distance, an anchor to real-looking frames
    residual: bool = True  # predict a change on top of nearest-kept-frame replication
    copy_given: bool = True  # the given frames pass through unchanged at their positions
    index_encoding: str = "slots"  # "slots": frames at their positions among T slots; "stacked": in order, network blind
    epochs: int = 10
    min_steps: int = 0  # at least this many optimiser steps: on a small dataset the epochs repeat until then
    distinct_share: float = 0.0  # this share of training subsets holds the clip's most distinct frame (rare events)
    holdout_clips: int = 256  # training clips held out to keep the state that agrees with the model most (0: off)
    batch_size: int = 8
    lr: float = 2e-4
    decay_fraction: float = 0.5  # the last half of the steps lowers lr linearly towards 0, as in CycleGAN
    beta1: float = 0.5
    beta2: float = 0.999
    sample_every: int = 200
    checkpoint_every: int = 500  # steps; a checkpoint is also written at the end of every epoch
    log_every: int = 10  # steps per row of losses.csv


@dataclass(frozen=True)
class AnalysisConfig:
    ks: tuple[int, ...] = ()  # numbers of kept frames; empty: the powers of two below the clip length
    candidates: int | str = 48  # a number of seeded random subsets, or "all" C(T, k)
    replicate_candidates: int | str = 16  # the replicated pool's size (every frame at k = 1 of 16)
    batch_size: int = 64
    bootstrap: int = 1000
    shard_size: int = 256
    target: str = "auto"  # label | prediction (agreement with the full-clip prediction) | both | auto
    probes: tuple[str, ...] = DEFAULT_PROBES  # motionprobe/probes.py: the graded families and the stride curve
    probe_draws: int = 5  # permutations the random probes are averaged over
    class_floor: float = 0.5  # classes recognised on fewer of their full clips are marked not analysable


@dataclass(frozen=True)
class Config:
    preset: str = "paper"
    seed: int = 0
    device: str = "cpu"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def evolve(self, **changes: Any) -> Config:
        """A copy with some values changed: top-level fields by name, a section's by a mapping.

        >>> cfg = preset("tiny").evolve(seed=3, train={"lr": 0.1})
        >>> cfg.seed, cfg.train.lr, cfg.train.epochs == preset("tiny").train.epochs
        (3, 0.1, True)
        """
        sections = {name: replace(getattr(self, name), **value) for name, value in changes.items()
                    if is_dataclass(getattr(self, name, None)) and isinstance(value, dict)}
        return replace(self, **{**changes, **sections})

    def save(self, path: str | Path) -> None:
        from .io import atomic_write_json

        atomic_write_json(path, self.to_dict())


def _paper() -> Config:
    """The paper's setting: C3D at 112×112×16, CycleGAN's 9-block generator, 48 candidates."""
    return Config(preset="paper")


def _tiny() -> Config:
    """Trains on 2 CPU cores in minutes: 32×32×16 synthetic clips, a three-group C3D at 1/8 width, the flow generator.

    Why each value, as measured: docs/experiments/tiny-preset.md."""
    return Config(
        preset="tiny",
        data=DataConfig(crop_size=32, resize=(32, 32), train_per_class=50, test_per_class=20),
        model=ModelConfig(width=0.125, fc_dim=128, dropout=0.1, batch_norm=True, global_pool=True),
        train=TrainConfig(epochs=12, min_steps=800, batch_size=16, optimizer="adamw", lr=1e-3, weight_decay=1e-2,
                          schedule="cosine", warmup_epochs=1),
        generator=GeneratorConfig(kind="flow", flow_residual=0.03, flow_erase=True, ngf=16, n_blocks=2,
                                  use_indices=False, epochs=6, min_steps=400, distinct_share=0.5, holdout_clips=64,
                                  batch_size=16, lr=1e-3, sample_every=100),
        analysis=AnalysisConfig(candidates=48, batch_size=128, bootstrap=500, shard_size=64),
    )


def _real() -> Config:
    """DeepMind's Kinetics-400 I3D on real, unlabelled videos at the weights' own clips (16 frames, short side 256,
    center crop 224), sized so `make demo-real` fits 2 CPU cores.

    Why these sizes, and a GPU run's settings: docs/experiments/real-video.md."""
    return Config(
        preset="real",
        data=DataConfig(dataset="folder", crop_size=224, resize=(256, 256), resize_mode="short_side",
                        clips_per_video=2, test_fraction=0.0),
        model=ModelConfig(arch="i3d", dropout=0.0),
        generator=GeneratorConfig(kind="flow", ngf=16, n_blocks=2, epochs=8, holdout_clips=0, batch_size=3, lr=3e-5,
                                  sample_every=4, log_every=1),
        analysis=AnalysisConfig(ks=(1, 4), candidates=4, replicate_candidates=4, batch_size=8, bootstrap=1000,
                                shard_size=3, target="prediction", probes=("shuffle", "reverse"), probe_draws=2),
    )


PRESETS = {"paper": _paper, "tiny": _tiny, "real": _real}


def preset(name: str) -> Config:
    if not isinstance(name, str) or name not in PRESETS:
        raise ConfigError("preset", f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}")
    cfg = PRESETS[name]()
    return cfg.evolve(analysis={"ks": cfg.analysis.ks or default_ks(cfg.data.num_frames)})


# A config file is a few dozen values: one larger, deeper or longer is refused before it is read further (a
# "billion laughs" YAML expands 9 aliases of 9 into 10⁹ values; 5000 nested brackets overflow the parser's stack).
MAX_CONFIG_BYTES = 1 << 20
MAX_CONFIG_VALUES = 10_000
MAX_CONFIG_DEPTH = 32


def load_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or TOML config file into a (possibly nested) dict."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p} is not a file")
    if p.stat().st_size > MAX_CONFIG_BYTES:
        raise UserError(f"{p} is {p.stat().st_size} bytes; a config file is at most {MAX_CONFIG_BYTES} (is it one?)")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{p} is not a UTF-8 text file (is it a config file?)") from None
    language = "TOML" if p.suffix == ".toml" else "YAML"
    try:
        data = tomllib.loads(text) if p.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as e:
        raise UserError(f"{p} is not valid {language}: {str(e).splitlines()[0]}") from None
    except RecursionError:
        raise UserError(f"{p}: values nested too deeply (at most {MAX_CONFIG_DEPTH} levels)") from None
    except ValueError as e:  # an integer of thousands of digits (Python's int() refuses more than 4300), a bad date
        why = "an integer of more than 4300 digits" if "integer string conversion" in str(e) else str(e).splitlines()[0]
        raise UserError(f"{p} is not valid {language}: {why[:120]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{p} must hold a mapping of option names to values")
    _check_size(data, p)
    return data


def _check_size(data: Any, path: Path) -> None:
    """Refuse a tree of more than MAX_CONFIG_VALUES values or MAX_CONFIG_DEPTH levels, counting a value reached
    through several YAML aliases every time (what reading it would cost), and stopping as soon as it is too big."""
    budget = MAX_CONFIG_VALUES
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise UserError(f"{path} holds more than {MAX_CONFIG_VALUES} values (YAML aliases count each time they "
                            "are used); a config file is a few dozen")
        if depth > MAX_CONFIG_DEPTH:
            raise UserError(f"{path}: values nested too deeply (at most {MAX_CONFIG_DEPTH} levels)")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children)


POOL_SIZES = ("analysis.candidates", "analysis.replicate_candidates")  # a number or "all"


def _coerce(value: Any, current: Any, name: str) -> Any:
    if name in POOL_SIZES and isinstance(value, str):  # 'all', as the flag reads it: ' ALL' too
        return value.strip().lower()
    if isinstance(current, tuple) or (isinstance(value, list)):
        return tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ConfigError(name, f"expects true/false, got {value!r}")
        return value
    if isinstance(current, int) and not isinstance(value, bool) and name not in POOL_SIZES:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int):
            raise ConfigError(name, f"expects an integer, got {value!r}")
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def apply_overrides(cfg: Any, overrides: dict[str, Any], prefix: str = "") -> Any:
    """A copy of `cfg` (a Config or one of its sections) with fields set from a nested dict
    ({"train": {"lr": 0.1}}) or dotted keys ({"train.lr": 0.1})."""
    for key, value in overrides.items():
        if "." in key:
            head, rest = key.split(".", 1)
            cfg = apply_overrides(cfg, {head: {rest: value}}, prefix)
            continue
        names = {f.name for f in fields(cfg)}
        if key not in names:
            raise ConfigError(f"{prefix}{key}", f"unknown option {key!r}; known: {', '.join(sorted(names))}")
        current = getattr(cfg, key)
        if is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{prefix}{key}", f"expected a mapping of {key} options, got {value!r}")
            cfg = replace(cfg, **{key: apply_overrides(current, value, prefix=f"{prefix}{key}.")})
        else:
            cfg = replace(cfg, **{key: _coerce(value, current, f"{prefix}{key}")})
    return cfg


def from_dict(data: dict[str, Any]) -> Config:
    """Rebuild a Config from its saved dict (config.json)."""
    cfg = preset(data.get("preset", "paper"))
    return apply_overrides(cfg, data)


def resolve(preset_name: str | None = None, *, base: Config | None = None, file: dict[str, Any] | None = None,
            overrides: dict[str, Any] | None = None,
            fit_data: Callable[[DataConfig, str], DataConfig] | None = None) -> Config:
    """The config a run uses: a preset (or `base`, e.g. a trained model's config) < a config file's values
    < explicit overrides (config paths → values). Without a preset or base, the embedded benchmark gets
    `tiny` and real datasets `paper`. With `model.hf_model`, the clip length and crop are the Hugging Face
    model's: the caller passes `fit_data=models.hf.fit_data_to_model` (the CLI does), which reads the model
    and returns the fitted data section, so that this module stays below `models`. The result is validated, and
    nothing downstream validates it again.

    >>> cfg = resolve(overrides={"analysis.ks": [1, 4]})
    >>> cfg.preset, cfg.analysis.ks
    ('tiny', (1, 4))
    """
    file, overrides = dict(file or {}), dict(overrides or {})
    if base is not None and preset_name is None:
        cfg = base
    else:
        dataset = overrides.get("data.dataset") or (file.get("data") or {}).get("dataset", "synthetic")
        cfg = preset(preset_name or ("tiny" if dataset == "synthetic" else "paper"))
    cfg = apply_overrides(apply_overrides(cfg, file), overrides)
    if cfg.model.hf_model and not (base is not None and preset_name is None):  # a trained model's config already fits
        if fit_data is None:
            raise ConfigError("model.hf_model", "a Hugging Face model sets the clip length and crop: resolve the "
                                                "config with fit_data=motionprobe.models.hf.fit_data_to_model")
        cfg = cfg.evolve(data=fit_data(cfg.data, cfg.model.hf_model))
    if not _named("analysis.ks", file, overrides) and (base is None or preset_name is not None):
        cfg = cfg.evolve(analysis={"ks": default_ks(cfg.data.num_frames)})  # the k's follow the clip length unless given
    for epochs, floor in STEP_FLOORS:  # epochs asked for are trained as asked: a preset's step floor is then off
        if _named(epochs, file, overrides) and not _named(floor, file, overrides):
            section, name = floor.split(".")
            cfg = cfg.evolve(**{section: {name: 0}})
    validate(cfg)
    return cfg


def checked(cfg: Config) -> Config:
    """`cfg`, validated unless it was already (by `resolve` or an earlier call): a frozen config checked once
    stays valid, so the workflows call this where a Python caller may hand them a config of their own."""
    if not getattr(cfg, "_validated", False):
        validate(cfg)
    return cfg


def rechecked(before: Config, after: Config) -> Config:
    """`after` checked, unless it holds the same values as `before` and `before` was checked: then `before`."""
    return before if after == before and getattr(before, "_validated", False) else checked(after)


# A number of epochs and the step floor that can lengthen it on a small dataset (training/schedule.py).
STEP_FLOORS = (("train.epochs", "train.min_steps"), ("generator.epochs", "generator.min_steps"))


def _named(path: str, *sources: dict[str, Any]) -> bool:
    """Whether a config path is set in any of these mappings, dotted ("train.epochs") or nested ({"train": …})."""
    section, name = path.split(".")
    return any(path in source or name in (source.get(section) or {}) for source in sources)


def default_ks(num_frames: int) -> tuple[int, ...]:
    """The numbers of kept frames analysed by default: the powers of two below the clip length.

    >>> default_ks(8), default_ks(16), default_ks(32)
    ((1, 2, 4), (1, 2, 4, 8), (1, 2, 4, 8, 16))
    """
    return tuple(2 ** i for i in range(max(1, num_frames).bit_length()) if 2 ** i < num_frames) or (1,)


def validate(cfg: Config) -> None:
    """Refuse what the options cannot mean before anything runs or is written, naming the config path.

    One validator serves the presets, config files, command-line flags and Python callers alike.

    >>> validate(preset("tiny").evolve(analysis={"candidates": 0}))
    Traceback (most recent call last):
    ...
    motionprobe.errors.ConfigError: analysis.candidates: expected a positive number of subsets or 'all', got 0
    """
    _check(cfg.seed, "seed", int, f"an integer in 0..{MAX_SEED}", lambda v: 0 <= v <= MAX_SEED)
    check_device(cfg.device, "device")
    _check_data(cfg.data)
    _check_model(cfg.model)
    check_clip_fits_architecture(cfg)
    _check_train(cfg.train)
    _check_generator(cfg.generator)
    _check_analysis(cfg.analysis, cfg.data.num_frames)
    check_pool_sizes(cfg)
    check_memory(cfg)
    object.__setattr__(cfg, "_validated", True)  # not a field: `evolve` and `replace` make unchecked copies


def _check_data(d: DataConfig) -> None:
    # Names and paths first: the checks below compare and open them.
    _check(d.dataset, "data.dataset", str, "the name of a dataset layout")
    for path, value in (("data.root", d.root), ("data.cache", d.cache), ("data.annotations", d.annotations)):
        if value is not None:
            _check(value, path, str, "a path or name (text)", lambda v: bool(v.strip()))
    for name in ("num_frames", "frame_stride", "crop_size", "clips_per_video", "train_per_class", "test_per_class"):
        _positive_int(getattr(d, name), f"data.{name}")
    if not (isinstance(d.resize, tuple) and len(d.resize) == 2 and all(_is_int(v) and v > 0 for v in d.resize)):
        shown = list(d.resize) if isinstance(d.resize, tuple) else d.resize
        raise ConfigError("data.resize", f"expected two positive integers [height, width], got {_shown(shown)}")
    if max(d.resize) > MAX_SIDE:
        raise ConfigError("data.resize", f"expected sides of at most {MAX_SIDE} pixels, got {_shown(list(d.resize))}")
    _choice(d.short_video_policy, "data.short_video_policy", POLICIES)
    _choice(d.resize_mode, "data.resize_mode", RESIZE_MODES)
    if not (_is_number(d.test_fraction) and 0 <= d.test_fraction < 1):
        raise ConfigError("data.test_fraction", f"expected a number in [0, 1), got {d.test_fraction!r}")
    if d.dataset != "synthetic" and not d.root:
        raise ConfigError("data.root", f"dataset {d.dataset!r} needs the path of its files")
    if d.root and not Path(d.root).exists():
        raise ConfigError("data.root", f"{d.root} does not exist")
    _positive_int(d.split, "data.split")


def _check_model(m: ModelConfig) -> None:
    _check(m.arch, "model.arch", str, "the name of an architecture")
    for path, value in (("model.weights", m.weights), ("model.model_factory", m.model_factory)):
        if value is not None:
            _check(value, path, str, "a path or name (text)", lambda v: bool(v.strip()))
    if not (_is_number(m.width) and 0 < m.width <= MAX_WIDTH):
        raise ConfigError("model.width", f"expected a positive channel multiplier up to {MAX_WIDTH}, got {m.width!r}")
    _positive_int(m.fc_dim, "model.fc_dim")
    if m.hf_model is not None and not (isinstance(m.hf_model, str) and m.hf_model):
        raise ConfigError("model.hf_model", f"expected a Hugging Face model folder or hub id, got {m.hf_model!r}")
    if m.hf_model and m.model_factory:
        raise ConfigError("model.hf_model", "a Hugging Face model and a model factory were both given; choose one")
    _fraction(m.dropout, "model.dropout")


def _check_train(t: TrainConfig) -> None:
    for name in ("epochs", "batch_size", "lr_step_epochs", "log_every"):
        _positive_int(getattr(t, name), f"train.{name}")
    _check(t.min_steps, "train.min_steps", int, f"a number of steps in 0..{LIMITS['train.min_steps']}",
           lambda v: 0 <= v <= LIMITS["train.min_steps"])
    check_learning_rate(t.lr, "train.lr")
    for name in ("momentum", "weight_decay"):
        if not (_is_number(getattr(t, name)) and getattr(t, name) >= 0):
            raise ConfigError(f"train.{name}", f"expected a finite number ≥ 0, got {getattr(t, name)!r}")
    if not (_is_number(t.lr_gamma) and t.lr_gamma > 0):
        raise ConfigError("train.lr_gamma", f"expected a positive factor, got {t.lr_gamma!r}")
    _choice(t.optimizer, "train.optimizer", ("sgd", "adamw"))
    _choice(t.schedule, "train.schedule", ("step", "cosine"))
    if not (_is_number(t.warmup_epochs) and t.warmup_epochs >= 0):
        raise ConfigError("train.warmup_epochs", f"expected a number of epochs ≥ 0, got {t.warmup_epochs!r}")


def _check_generator(g: GeneratorConfig) -> None:
    from .generator.build import KINDS as GENERATOR_KINDS  # torch and the networks: only when a config is checked
    from .generator.losses import LOSSES
    from .generator.network import INDEX_ENCODINGS

    for name in ("ngf", "epochs", "batch_size", "sample_every", "checkpoint_every", "log_every"):
        _positive_int(getattr(g, name), f"generator.{name}")
    _check(g.n_blocks, "generator.n_blocks", int, f"an integer in 0..{LIMITS['generator.n_blocks']}",
           lambda v: 0 <= v <= LIMITS["generator.n_blocks"])
    for name, what in (("min_steps", "a number of steps"), ("holdout_clips", "a number of clips")):
        _check(getattr(g, name), f"generator.{name}", int, f"{what} in 0..{LIMITS[f'generator.{name}']}",
               lambda v, name=name: 0 <= v <= LIMITS[f"generator.{name}"])
    check_learning_rate(g.lr, "generator.lr")
    _choice(g.loss, "generator.loss", LOSSES)
    _choice(g.index_encoding, "generator.index_encoding", INDEX_ENCODINGS)
    _choice(g.kind, "generator.kind", GENERATOR_KINDS)
    _fraction(g.flow_residual, "generator.flow_residual")
    _fraction(g.distinct_share, "generator.distinct_share")
    if g.perceptual_layers is not None and not (isinstance(g.perceptual_layers, tuple) and g.perceptual_layers
                                                and all(isinstance(v, str) for v in g.perceptual_layers)):
        raise ConfigError("generator.perceptual_layers", f"expected layer names, got {g.perceptual_layers!r}")
    if g.perceptual_weights is not None and not (isinstance(g.perceptual_weights, tuple) and all(
            _is_number(v) and v >= 0 for v in g.perceptual_weights)):
        raise ConfigError("generator.perceptual_weights", f"expected finite weights ≥ 0, got {g.perceptual_weights!r}")
    if not (_is_number(g.decay_fraction) and 0 <= g.decay_fraction <= 1):
        raise ConfigError("generator.decay_fraction", "expected 0..1 (the share of the steps whose learning rate "
                                                      f"falls), got {g.decay_fraction!r}")
    _fraction(g.beta1, "generator.beta1")
    _fraction(g.beta2, "generator.beta2")
    if not (_is_number(g.pixel_weight) and math.isfinite(g.pixel_weight) and g.pixel_weight >= 0):
        raise ConfigError("generator.pixel_weight", f"expected a finite weight ≥ 0, got {g.pixel_weight!r}")


def _check_analysis(a: AnalysisConfig, num_frames: int) -> None:
    if not a.ks:
        raise ConfigError("analysis.ks", "expected numbers of kept frames like 1, 2, 4, 8, got none")
    for k in a.ks:
        if not (_is_int(k) and 1 <= k <= num_frames):
            raise ConfigError("analysis.ks", f"k must be an integer in 1..{num_frames}, got {k!r}")
    for name in ("candidates", "replicate_candidates"):
        value = getattr(a, name)
        if not (value == "all" or (_is_int(value) and value >= 1)):
            raise ConfigError(f"analysis.{name}", f"expected a positive number of subsets or 'all', got {value!r}")
    for name in ("batch_size", "bootstrap", "shard_size", "probe_draws"):
        _positive_int(getattr(a, name), f"analysis.{name}")
    _choice(a.target, "analysis.target", TARGET_CHOICES)
    if not (isinstance(a.probes, tuple) and all(isinstance(v, str) for v in a.probes)):
        raise ConfigError("analysis.probes", f"expected probe names, got {a.probes!r}")
    check_probes(a.probes)
    if not (_is_number(a.class_floor) and 0 <= a.class_floor <= 1):
        raise ConfigError("analysis.class_floor", f"expected a share of clips in [0, 1], got {a.class_floor!r}")


# What a user or a file may ask for at most (besides `check_memory`): beyond these a run cannot fit a machine or
# would never end, so it is refused before any work starts (10²⁰ bootstrap resamples; 10⁶ clips per video).
LIMITS = {
    "data.num_frames": MAX_FRAMES, "data.frame_stride": 1024, "data.crop_size": MAX_SIDE, "data.clips_per_video": 1000,
    "data.train_per_class": 1_000_000, "data.test_per_class": 1_000_000, "data.split": 1000, "model.fc_dim": 1 << 16,
    "train.epochs": 100_000, "train.batch_size": 1 << 16, "train.lr_step_epochs": 100_000, "train.log_every": 10**9,
    "generator.ngf": 1024, "generator.n_blocks": 256, "generator.epochs": 100_000, "generator.batch_size": 1 << 16,
    "generator.sample_every": 10**9, "generator.checkpoint_every": 10**9, "generator.log_every": 10**9,
    "generator.min_steps": 10**9, "generator.holdout_clips": 1_000_000, "train.min_steps": 10**9,
    "analysis.batch_size": 1 << 16, "analysis.bootstrap": 100_000,
    "analysis.shard_size": 1 << 20, "analysis.probe_draws": 1000,
}
TARGETS = ("label", "prediction")  # what an analysis scores against: the labels, or the full-clip prediction
TARGET_CHOICES = ("auto", *TARGETS, "both")  # auto: the labels where the dataset has them
DEVICES = ("cpu", "cuda")  # a device is one of these, cuda optionally with its index (cuda:1)
MAX_SEED = 2**32 - 1  # numpy's generators take 32-bit seeds
MAX_WIDTH = 64.0  # channels × 64 of C3D's: 32768 in conv5, beyond any GPU's memory
MAX_POOL = 1 << 20  # candidate subsets a clip: C(16, 8) = 12870; 'all' of 32 frames at k = 16 would be 6·10⁸


def check_device(device: Any, path: str = "device") -> None:
    """`cpu`, `cuda` or `cuda:N`; CUDA only where a device (that one) is present."""
    kind, _, index = device.partition(":") if isinstance(device, str) else (device, "", "")
    _choice(kind, path, DEVICES)
    if kind == "cpu" and index:
        raise ConfigError(path, f"expected cpu, cuda or cuda:N, got {device!r}")
    if kind == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(path, "no CUDA device is available here; use cpu")
        if index and not (index.isdecimal() and int(index) < torch.cuda.device_count()):
            raise ConfigError(path, f"expected cuda or cuda:0..{torch.cuda.device_count() - 1} (the devices here), "
                                    f"got {device!r}")


def check_pool_sizes(cfg: Config) -> None:
    """A pool of every subset ('all') must stay enumerable, and a drawn pool's size is bounded alike."""
    for name in ("candidates", "replicate_candidates"):
        value = getattr(cfg.analysis, name)
        if value != "all" and value > MAX_POOL:
            raise ConfigError(f"analysis.{name}", f"expected at most {MAX_POOL} subsets, got {_shown(value)}")
        for k in cfg.analysis.ks if value == "all" else ():
            if math.comb(cfg.data.num_frames, k) > MAX_POOL:
                raise ConfigError(f"analysis.{name}", f"all C({cfg.data.num_frames}, {k}) = "
                                                      f"{math.comb(cfg.data.num_frames, k):.2e} subsets of k = {k} are "
                                                      f"too many (at most {MAX_POOL}); give a number")


def check_memory(cfg: Config) -> None:
    """Refuse clips whose batches cannot be held in this machine's memory, before anything is built or read: one
    batch of input clips as float32 (what every stage holds at least) must fit."""
    d = cfg.data
    clip = 3 * d.num_frames * d.crop_size * d.crop_size * 4
    available = physical_memory()
    if clip > available:
        raise ConfigError("data.num_frames", f"one clip of {d.num_frames} frames of {d.crop_size}×{d.crop_size} needs "
                                             f"{clip / 1e9:.1f} GB as float32, more than this machine's "
                                             f"{available / 1e9:.1f} GB of memory; ask for fewer frames or a smaller crop")
    for path in ("train.batch_size", "generator.batch_size", "analysis.batch_size"):
        section, name = path.split(".")
        batch = getattr(getattr(cfg, section), name)
        if batch * clip > available:
            raise ConfigError(path, f"a batch of {batch} clips of {d.num_frames}×{d.crop_size}×{d.crop_size} needs "
                                    f"{batch * clip / 1e9:.1f} GB as float32, more than this machine's "
                                    f"{available / 1e9:.1f} GB of memory")


def physical_memory() -> int:
    """Bytes of memory this machine has (a large default where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


def check_clip_fits_architecture(cfg: Config) -> None:
    """Refuse clips too small for the registered architecture before anything is built or written (the smallest
    clip is on the architecture's record: models/spec.py `MinClip`).

    >>> check_clip_fits_architecture(preset("paper").evolve(data={"num_frames": 8}))
    Traceback (most recent call last):
    ...
    motionprobe.errors.ConfigError: data.num_frames: C3D pools time 4 times and needs clips of at least 16 frames, got 8
    """
    m, d = cfg.model, cfg.data
    if m.model_factory or m.hf_model:
        return
    from .models import architecture, architectures  # torch and the networks: only when a config is checked

    if m.arch not in architectures():  # an unknown name is refused when the model is built
        return
    floor = architecture(m.arch).min_clip
    if floor is None or (m.global_pool and floor.global_pool_lifts):
        return
    if _is_int(d.num_frames) and d.num_frames < floor.frames:
        raise ConfigError("data.num_frames", f"{floor.time_pooling} and needs clips of at least {floor.frames} "
                                             f"frames, got {d.num_frames}")
    if _is_int(d.crop_size) and d.crop_size < floor.crop:
        raise ConfigError("data.crop_size", f"{floor.space_pooling} and needs a crop of at least {floor.crop} "
                                            f"pixels, got {d.crop_size}")


def check_generator_size(cfg: Config) -> None:
    """The generator works on frames whose sides are multiples of 4 (two stride-2 levels), at least 8."""
    size = cfg.data.crop_size
    if size % 4 or size < 8:
        raise ConfigError("data.crop_size", f"the temporal generator needs a crop side that is a multiple of 4 and "
                                            f"at least 8, got {size}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check(value: Any, path: str, kind: type, expected: str, ok: Any = None) -> None:
    if not ((_is_int(value) if kind is int else isinstance(value, kind)) and (ok is None or ok(value))):
        raise ConfigError(path, f"expected {expected}, got {_shown(value)}")


def _positive_int(value: Any, path: str) -> None:
    _check(value, path, int, "a positive integer", lambda v: v >= 1)
    if value > LIMITS.get(path, 10**9):
        raise ConfigError(path, f"expected at most {LIMITS.get(path, 10**9)}, got {_shown(value)}")


def _shown(value: Any) -> str:
    """A value as a message shows it: an integer of many digits by its length (its digits can fill a screen)."""
    if _is_int(value) and abs(value) >= 10**18:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _fraction(value: Any, path: str) -> None:
    if not (_is_number(value) and 0 <= value < 1):
        raise ConfigError(path, f"expected a number in [0, 1), got {value!r}")


def _choice(value: Any, path: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(path, f"expected one of {', '.join(choices)}, got {value!r}")


def check_learning_rate(lr: float, path: str) -> None:
    """A learning rate must be a positive finite number (torch raises a bare ValueError otherwise)."""
    if not (_is_number(lr) and lr > 0):
        raise ConfigError(path, f"expected a positive learning rate, got {lr}")
