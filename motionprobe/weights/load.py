"""Import pretrained weights into a model built by the registry (`model.weights`: a file or a model folder).

Two kinds of file, told apart by their form:

- a motionprobe model folder, or a `.safetensors` file (with `meta.json` beside it when it came from a
  folder): our own checkpoints; the preprocessing saved with them comes along;
- any other file is one of the published weight formats of the model's architecture (its `Architecture`
  record's `weights`, models/spec.py), the first whose `accepts` takes the file: e.g. c3d's Sports-1M
  `c3d.pickle`, a torchvision `r3d_18` state dict, DeepMind's I3D Flax pickle. The format's reader
  (weights/formats/) builds tensors only (PyTorch pickles are read with `torch.load(..., weights_only=True)`,
  which refuses a file that asks for anything else), and the model is given the preprocessing that belongs to those weights.
  A model no architecture record built (a model factory's, `motionprobe.wrap`'s) reads a PyTorch state
  dict by its own key names and keeps its preprocessing; its head is its last nn.Linear.

Common wrappings are undone: a checkpoint dict holding `state_dict` / `model_state_dict` / `model`, and a
prefix shared by every key (`module.` from DataParallel, `net.` from a saved VideoModel, `model.`).
When the file's classifier has another class count than the dataset (487 Sports-1M classes vs 101 for
UCF101), the head is left as the registry built it, freshly initialised, for fine-tuning; the returned
record says so. Any other difference in keys or shapes is an error that names the keys: `load_state_strict`,
through which the run folders' own checkpoints are loaded too.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import ConfigError, UserError
from ..io import load_tensors, read_json
from ..models.registry import architecture
from ..models.spec import Architecture
from ..models.wrapper import Preprocessing, VideoModel
from .check import check_weights_path
from .formats.pytorch import read_torch_weights

log = logging.getLogger(__name__)


@dataclass
class WeightsReport:
    """What `apply_pretrained` loaded; also kept in `model.spec.extra["weights"]` (and so in meta.json)."""

    source: str
    format: str  # "c3d-sports1m", "torchvision", "i3d-flax", "motionprobe", "state-dict"
    tensors_loaded: int
    head: str | None
    file_classes: int | None
    num_classes: int
    head_replaced: bool

    def line(self) -> str:
        text = f"weights: loaded {self.tensors_loaded} tensors from {self.source} ({self.format})"
        if self.head_replaced:
            text += (f"; classifier {self.head} re-initialised for {self.num_classes} classes "
                     f"(the file's has {self.file_classes})")
        return text


def apply_pretrained(model: VideoModel, path: str | Path | None, arch: str, num_classes: int) -> VideoModel:
    """Load `path` into `model` (built by the registry for `arch` and `num_classes`) and give it the
    preprocessing that belongs to those weights. Returns the same model; `path=None` changes nothing."""
    if path is None:
        return model
    report = load_pretrained(model, path, arch, num_classes)
    model.spec.extra["weights"] = asdict(report)
    log.info(report.line())
    return model


def load_pretrained(model: VideoModel, path: str | Path, arch: str, num_classes: int) -> WeightsReport:
    """Load `path` into `model`, whose head the registry built for `num_classes`; `arch` is the configured
    architecture, whose weight formats apply when the model's network was built from it."""
    path = Path(path)
    check_weights_path(path)
    spec = _architecture_of(model, arch)
    preprocessing: Preprocessing | None = None
    hint = ""
    if path.is_dir() or path.suffix == ".safetensors":
        state, preprocessing, source = _read_motionprobe(path, spec)
        fmt = "motionprobe"
    else:
        weight_format = spec.weight_format(path) if spec is not None else None
        if weight_format is None:
            state, fmt = read_torch_weights(path), "state-dict"
        else:
            state, fmt = weight_format.read(path), weight_format.name
            preprocessing, hint = weight_format.preprocessing, weight_format.hint
        source = path

    own = model.net.state_dict()
    state = strip_shared_prefix(state, set(own))
    state = _fill_batchnorm_counters(state, own)
    head = spec.head if spec is not None else _last_linear(model.net)
    file_classes = _classes_of(state, head)
    head_replaced = file_classes is not None and file_classes != num_classes
    if head_replaced:  # fine-tuning: keep the head the registry just built for num_classes
        state = {k: v for k, v in state.items() if not k.startswith(f"{head}.")}
        state.update({k: v for k, v in own.items() if k.startswith(f"{head}.")})
    try:
        load_state_strict(model.net, state, str(source))
    except UserError as e:
        raise ConfigError("model.weights", f"{e}{'; ' + hint if hint else ''}") from None

    if preprocessing is not None:
        model.set_preprocessing(preprocessing)
        if preprocessing.crop is not None:
            model.spec.input_size = tuple(preprocessing.crop)
    loaded = len(state) - (sum(k.startswith(f"{head}.") for k in state) if head_replaced else 0)
    return WeightsReport(source=str(source), format=fmt, tensors_loaded=loaded, head=head,
                         file_classes=file_classes, num_classes=num_classes, head_replaced=head_replaced)


def load_state_strict(net: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load a state dict, naming every missing, unexpected or mis-shaped key on failure.

    >>> net = torch.nn.Linear(2, 3)
    >>> load_state_strict(net, {"weight": torch.zeros(3, 2)}, "w.safetensors")
    Traceback (most recent call last):
    ...
    motionprobe.errors.UserError: w.safetensors: weights do not fit the model: missing bias
    """
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f"{k} {tuple(state[k].shape)} != {tuple(own[k].shape)}" for k in own
              if k in state and state[k].shape != own[k].shape]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing[:8])}{' …' if len(missing) > 8 else ''}")
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected[:8])}{' …' if len(unexpected) > 8 else ''}")
    if shapes:
        problems.append(f"shape mismatch {'; '.join(shapes[:8])}")
    if problems:
        raise UserError(f"{source}: weights do not fit the model: {'; '.join(problems)}")
    net.load_state_dict(state, strict=True)


def strip_shared_prefix(state: dict[str, torch.Tensor], expected: set[str]) -> dict[str, torch.Tensor]:
    """Drop a leading name shared by every key while no key matches the model.

    >>> sorted(strip_shared_prefix({"module.net.fc.weight": 0, "module.net.fc.bias": 0}, {"fc.weight", "fc.bias"}))
    ['fc.bias', 'fc.weight']
    """
    while state and not (set(state) & expected):
        heads = {k.split(".", 1)[0] for k in state}
        if len(heads) != 1 or not all("." in k for k in state):
            break
        state = {k.split(".", 1)[1]: v for k, v in state.items()}
    return state


def _fill_batchnorm_counters(state: dict[str, torch.Tensor], own: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Files saved before BatchNorm counted its updates lack `num_batches_tracked`; it does not change
    the outputs, so take the model's own."""
    missing = {k: own[k] for k in own if k.endswith(".num_batches_tracked") and k not in state}
    return {**state, **missing} if missing else state


def _architecture_of(model: VideoModel, arch: str) -> Architecture | None:
    """The record of `arch` when the model's network was built from it; None for any other network (a model
    factory's runs under the configured arch, which then says nothing about it)."""
    return architecture(arch) if model.spec.architecture == arch else None


def _last_linear(net: nn.Module) -> str | None:
    linears = [name for name, m in net.named_modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


def _classes_of(state: dict[str, torch.Tensor], head: str | None) -> int | None:
    weight = state.get(f"{head}.weight") if head else None
    return int(weight.shape[0]) if weight is not None and weight.dim() in (2, 5) else None


def _read_motionprobe(path: Path, spec: Architecture | None) -> tuple[dict, Preprocessing | None, Path]:
    """Weights of a model folder (or of one .safetensors file) and the preprocessing saved with them.

    A `model.safetensors` inside a model folder counts as the folder; another .safetensors file is
    weights only, and the model keeps its preprocessing. A folder of another registered architecture than
    the model's is refused by name.
    """
    folder = path if path.is_dir() else path.parent
    weights = folder / "model.safetensors" if path.is_dir() else path
    if path.is_dir() and not weights.is_file():
        raise ConfigError("model.weights", f"{path} is a folder without model.safetensors (expected a motionprobe "
                                           "model folder)")
    state = load_tensors(weights)
    if weights.name != "model.safetensors" or not (folder / "meta.json").is_file():
        return state, None, weights
    meta = read_json(folder / "meta.json")
    saved = _saved_architecture(folder, meta)
    if spec is not None and saved is not None and saved != spec.name:
        raise ConfigError("model.weights", f"{folder} holds a {saved!r} model, but the architecture is {spec.name!r}")
    return state, Preprocessing.from_dict(meta["preprocessing"]) if "preprocessing" in meta else None, weights


def _saved_architecture(folder: Path, meta: dict) -> str | None:
    """The registered architecture a model folder holds: its spec's record, or (folders saved before the record)
    the config's arch, unless the config names a factory or Hugging Face model."""
    spec = meta.get("spec") or {}
    if "architecture" in spec:
        return spec["architecture"]
    model = (read_json(folder / "config.json") if (folder / "config.json").is_file() else {}).get("model", {})
    return None if model.get("model_factory") or model.get("hf_model") else model.get("arch")
