"""Hugging Face `transformers` video classifiers (VideoMAE, TimeSformer, any `AutoModelForVideoClassification`)
as motionprobe `VideoModel`s. Needs the optional dependency: `pip install 'motionprobe[hf]'`.

What travels from the Hugging Face folder (what `save_pretrained` writes) into the wrapper:

    config.json                       num_frames (or frames_per_clip) → spec.num_frames, checked on every clip
                                      image_size (or crop_size)       → spec.input_size, the center crop
                                      id2label                        → class names ("class_i" where missing)
    video_preprocessor_config.json    image_mean, image_std           → Preprocessing.mean / std
      or preprocessor_config.json     size, crop_size                 → Preprocessing.resize / crop
                                      do_rescale, rescale_factor      → Preprocessing.value_scale

Layouts differ: motionprobe clips are (B, 3, T, H, W), Hugging Face video models take (B, T, C, H, W);
`HFVideoClassifier` permutes after normalization. Worked example of the value range: transformers' processors
take 0–255 pixels, multiply by `rescale_factor` (1/255) and subtract the mean; motionprobe clips are already
pixels/255, so `value_scale` = 255 · rescale_factor = 1.0, and a processor with `do_rescale: false` (a model
trained on 0–255 values) gets `value_scale` = 255.

The size rule is the one `Preprocessing` knows: a fixed resize, then a center crop. `size: {"shortest_edge": 224}`
becomes resize (224, 224), which is exactly transformers' shortest-edge resize on the square clips motionprobe's
datasets produce; a non-square clip is squeezed to the square instead of keeping its aspect ratio.

`model, classes = load_hf_model(folder_or_hub_id)` returns the wrapped model and its class names; an example
with a saved VideoMAE is in docs/models.md (it needs transformers and a model folder, so it is not a doctest).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from torch import nn

from ..data.sampling import MAX_FRAMES
from ..data.transforms import MAX_SIDE
from ..errors import ConfigError, UserError
from ..io import read_json
from .wrapper import ModelSpec, Preprocessing, VideoModel

if TYPE_CHECKING:
    from ..config import DataConfig

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'motionprobe[hf]'"
# transformers 5 writes video processors to video_preprocessor_config.json and image processors (what hub
# VideoMAE/TimeSformer checkpoints carry) to preprocessor_config.json; it reads them in this order too.
PROCESSOR_FILES = ("video_preprocessor_config.json", "preprocessor_config.json")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
# Errors transformers raises for a folder or hub id it cannot load: missing or unreadable files (OSError),
# an unknown or unsuitable model type (ValueError, KeyError), weights that do not fit (RuntimeError).
LOAD_ERRORS = (OSError, ValueError, KeyError, RuntimeError, TypeError, SafetensorError)


class HFVideoClassifier(nn.Module):
    """A Hugging Face video classifier on motionprobe's normalized (B, 3, T, H, W) input, returning logits.

    `blocks.0` … `blocks.{N-1}` are identity modules that receive encoder block i's output hidden states
    (B, tokens, hidden) on every forward, so `VideoModel.features(clip, ["blocks.3"])` taps block 3. They exist
    because the blocks themselves return a tensor (VideoMAE) or a tuple (TimeSformer) depending on the model and
    the transformers version. The relay hooks live only for the duration of a forward, so copies of this module
    (deepcopy, EMA) never relay into the original's taps.
    """

    def __init__(self, hf_model: nn.Module):
        super().__init__()
        self.hf = hf_model
        config = hf_model.config
        self.model_type = str(config.model_type)
        self.num_frames = frames_of(config)
        self.input_size = size_of(config)
        self.input_name = getattr(hf_model, "main_input_name", "pixel_values")  # V-JEPA 2: pixel_values_videos
        self.layers_path = encoder_layers_path(hf_model)
        self.blocks = nn.ModuleList(nn.Identity() for _ in self.hf.get_submodule(self.layers_path))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t, size = x.shape[2], tuple(x.shape[-2:])
        if t != self.num_frames:  # VideoMAE fails deep inside; TimeSformer would silently mix frames into space
            raise ConfigError("data.num_frames", f"this model ({self.model_type}) takes exactly {self.num_frames} "
                                                 f"frames per clip (its position embedding and token layout are built for "
                                                 f"num_frames), got {t}")
        if size != self.input_size:  # the VideoModel's preprocessing crops to input_size; this is a direct call
            raise ValueError(f"this model ({self.model_type}) takes {self.input_size[0]}×{self.input_size[1]} "
                             f"frames, got {size[0]}×{size[1]}")
        layers = self.hf.get_submodule(self.layers_path)
        handles = [layer.register_forward_hook(partial(_relay, tap)) for layer, tap in zip(layers, self.blocks, strict=True)]
        try:
            out = self.hf(**{self.input_name: x.permute(0, 2, 1, 3, 4)}, return_dict=True)  # → (B, T, C, H, W)
        finally:
            for handle in handles:
                handle.remove()
        return out.logits


def _relay(tap: nn.Module, _module: nn.Module, _args: Any, output: Any) -> None:
    tap(output[0] if isinstance(output, tuple) else output)


def default_perceptual_blocks(num_blocks: int) -> tuple[str, ...]:
    """Four blocks spread evenly over the depth, ending at the last.

    Every block of a ViT has the same token grid, so, unlike C3D's five resolutions, depth alone tells what a
    layer encodes: early blocks keep local appearance, late ones the class evidence. A perceptual loss wants
    both, as Johnson et al. took relu1_2 … relu4_3 of VGG. 12 blocks (ViT-B) → blocks 2, 5, 8, 11.

    >>> default_perceptual_blocks(12), default_perceptual_blocks(2)
    (('blocks.2', 'blocks.5', 'blocks.8', 'blocks.11'), ('blocks.0', 'blocks.1'))
    """
    picks = sorted({max(0, round((j + 1) * num_blocks / 4) - 1) for j in range(4)})
    return tuple(f"blocks.{i}" for i in picks)


# -- what the Hugging Face config says ---------------------------------------------------------------------

def frames_of(config: Any) -> int:
    """Frames per clip: `num_frames` (VideoMAE, TimeSformer, ViViT) or `frames_per_clip` (V-JEPA 2)."""
    for key in ("num_frames", "frames_per_clip"):
        if isinstance(getattr(config, key, None), int):
            return int(getattr(config, key))
    raise UserError(f"{config.model_type}: its config names no frame count (num_frames)")


def size_of(config: Any) -> tuple[int, int]:
    """Input (H, W): `image_size` (an int or [H, W]) or `crop_size` (V-JEPA 2)."""
    for key in ("image_size", "crop_size"):
        value = getattr(config, key, None)
        if value is not None:
            return _pair(value)
    raise UserError(f"{config.model_type}: its config names no input size (image_size)")


def _pair(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int | float) else (int(value[0]), int(value[1]))


def encoder_layers_path(hf_model: nn.Module) -> str:
    """The module path of the encoder's blocks: `videomae.encoder.layer`, `timesformer.encoder.layer`, … or,
    for another layout, the first ModuleList as long as `num_hidden_layers`."""
    prefix = getattr(hf_model, "base_model_prefix", "")
    modules = dict(hf_model.named_modules())
    conventional = f"{prefix}.encoder.layer" if prefix else "encoder.layer"
    if isinstance(modules.get(conventional), nn.ModuleList):
        return conventional
    depth = getattr(hf_model.config, "num_hidden_layers", None)
    for name, module in modules.items():
        if isinstance(module, nn.ModuleList) and len(module) == depth:
            return name
    raise UserError(f"{hf_model.config.model_type}: cannot find its encoder blocks (no {conventional})")


def class_names(config: Any) -> list[str]:
    """id2label in index order; "class_i" for an index it does not name."""
    id2label = {int(k): str(v) for k, v in (getattr(config, "id2label", None) or {}).items()}
    return [id2label.get(i, f"class_{i}") for i in range(int(config.num_labels))]


def head_prefix(hf_model: nn.Module) -> str:
    """The classifier head's parameter prefix: `classifier.` in every transformers video classifier."""
    if isinstance(getattr(hf_model, "classifier", None), nn.Linear):
        return "classifier."
    linears = [name for name, m in hf_model.named_modules() if isinstance(m, nn.Linear)]
    return f"{linears[-1]}." if linears else "classifier."


# -- preprocessing ----------------------------------------------------------------------------------------

def preprocessing_from_processor(processor: dict, input_size: tuple[int, int]) -> Preprocessing:
    """A transformers image/video processor config (as saved) → the wrapper's `Preprocessing`.

    >>> p = preprocessing_from_processor({"image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
    ...                                   "size": {"shortest_edge": 256}, "crop_size": {"height": 224, "width": 224},
    ...                                   "do_center_crop": True, "rescale_factor": 1 / 255}, (224, 224))
    >>> p.mean, p.resize, p.crop, p.value_scale
    ((0.485, 0.456, 0.406), (256, 256), (224, 224), 1.0)
    """
    if processor.get("do_normalize", True):
        mean, std = _three(processor.get("image_mean", 0.0)), _three(processor.get("image_std", 1.0))
        if not all(math.isfinite(v) for v in mean + std) or 0.0 in std:  # a std of 0 divides every pixel by 0
            raise UserError(f"image_mean, image_std: expected finite numbers and a non-zero std, got {list(mean)}, "
                            f"{list(std)}")
    else:
        mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    scale = round(255.0 * float(processor.get("rescale_factor", 1 / 255)), 12) if processor.get("do_rescale", True) \
        else 255.0
    resize = _size_of_resize(processor.get("size")) if processor.get("do_resize", True) else None
    crop = _crop_size(processor.get("crop_size")) if processor.get("do_center_crop", False) else None
    if crop is not None and crop != input_size:
        raise UserError(f"the preprocessor crops to {crop[0]}×{crop[1]} but the model takes {input_size[0]}×{input_size[1]}")
    return Preprocessing(mean=mean, std=std, value_scale=scale, crop=input_size, resize=resize)


def _three(value: Any) -> tuple[float, float, float]:
    values = [float(value)] * 3 if isinstance(value, int | float) else [float(v) for v in value]
    if len(values) != 3:
        raise UserError(f"expected 3 channel values in the preprocessor config, got {values}")
    return values[0], values[1], values[2]


def _size_of_resize(size: Any) -> tuple[int, int] | None:
    """`size` in its spellings: an int or {"shortest_edge": s} (legacy VideoMAE, and the hub checkpoints),
    {"height", "width"}, {"longest_edge": l}. A square target, except for an explicit height and width."""
    if size is None:
        return None
    if isinstance(size, int | float):
        return _pair(size)
    if "height" in size and "width" in size:
        return int(size["height"]), int(size["width"])
    for key in ("shortest_edge", "longest_edge"):
        if key in size:
            return _pair(size[key])
    return None


def _crop_size(crop: Any) -> tuple[int, int] | None:
    if crop is None:
        return None
    if isinstance(crop, int | float):
        return _pair(crop)
    return int(crop["height"]), int(crop["width"])


def read_processor_config(where: str, local: bool) -> tuple[dict | None, str | None]:
    """The first processor config in `PROCESSOR_FILES` that `where` (a folder or hub id) holds, and its name."""
    from transformers.utils import cached_file

    for name in PROCESSOR_FILES:
        if local:
            path = Path(where) / name
            if path.is_file():
                return read_json(path), name
            continue
        try:
            path = cached_file(where, name, _raise_exceptions_for_missing_entries=False)
        except OSError:
            path = None
        if path is not None:
            return read_json(path), name
    return None, None


def default_preprocessing(input_size: tuple[int, int]) -> Preprocessing:
    """For a model saved without a processor config: ImageNet's mean/std (what hub VideoMAE checkpoints
    carry in theirs) and a center crop to the model's size."""
    from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

    return Preprocessing(mean=tuple(IMAGENET_DEFAULT_MEAN), std=tuple(IMAGENET_DEFAULT_STD), crop=input_size)


# -- loading and rebuilding -------------------------------------------------------------------------------

def _transformers() -> Any:
    try:
        import transformers
    except ImportError:
        raise UserError(f"Hugging Face models need the optional dependency transformers: {INSTALL_HINT}") from None
    return transformers


@contextmanager
def _quiet() -> Iterator[None]:
    """No progress bars or load report from transformers; motionprobe logs its own line and checks the keys."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def wrap_hf(hf_model: nn.Module, preprocessing: Preprocessing, **extra: Any) -> VideoModel:
    """A loaded transformers video classifier as a VideoModel (spec from its config, `extra` kept under "hf")."""
    net = HFVideoClassifier(hf_model)
    spec = ModelSpec(num_frames=net.num_frames, input_size=net.input_size,
                     perceptual_layers=default_perceptual_blocks(len(net.blocks)),
                     extra={"hf": {"model_type": net.model_type, **extra}})
    return VideoModel(net, preprocessing, spec)


def _video_classifier_config(source: str | Path) -> tuple[str, bool, Any]:
    """(where transformers reads it, whether that is a local folder, its config), refused with one line unless
    it is a transformers video classifier. Code a folder or hub repo ships (`auto_map`) is never run."""
    transformers = _transformers()
    folder = Path(source).expanduser()
    local = folder.is_dir()
    if not local and (folder.exists() or not HUB_ID.match(str(source))):
        raise UserError(f"{source}: not a Hugging Face model folder (config.json and weights) nor a hub model id")
    if local and not (folder / "config.json").is_file():
        raise UserError(f"{source}: not a Hugging Face model folder (no config.json)")
    where = str(folder) if local else str(source)
    what = "" if local else "no such folder, and as a hub model id: "
    with _quiet():
        try:
            config = transformers.AutoConfig.from_pretrained(where, local_files_only=local, trust_remote_code=False)
        except LOAD_ERRORS as e:
            raise UserError(f"{source}: {what}cannot load a Hugging Face config: {_first_line(e)}") from None
    video_classifiers = transformers.MODEL_FOR_VIDEO_CLASSIFICATION_MAPPING
    if type(config) not in video_classifiers:
        known = ", ".join(sorted(c.model_type for c in video_classifiers.keys()))
        raise UserError(f"{source}: a {config.model_type} model is not a transformers video classifier "
                        f"(those are {known})")
    _check_sizes(source, config)
    return where, local, config


def _check_sizes(source: str | Path, config: Any) -> None:
    """Refuse a config whose clips no machine holds before the model is built: its position embeddings are sized
    by them (num_frames: 100000 would build for minutes, then not fit)."""
    try:
        frames, size = frames_of(config), size_of(config)
    except (TypeError, ValueError, IndexError):
        raise UserError(f"{source}: its config's num_frames or image_size is not a number") from None
    if not 1 <= frames <= MAX_FRAMES:
        raise UserError(f"{source}: its config asks for {frames} frames per clip; expected 1..{MAX_FRAMES}")
    if not all(1 <= side <= MAX_SIDE for side in size):
        raise UserError(f"{source}: its config asks for {size[0]}×{size[1]} frames; expected sides of 1..{MAX_SIDE}")


def fit_data_to_model(data: DataConfig, source: str) -> DataConfig:
    """The data section with the clip length and crop of the Hugging Face model `source` (a folder or hub id),
    logging a one-line note when that changes them. Only the model's config is read.

    The model wins because it cannot take anything else: its position embeddings are built for `num_frames`
    frames of `image_size` pixels. Clips of the data's crop would only be resized to that inside the wrapper,
    and the generator would learn frames at a size the model never sees. A resize smaller than the new crop
    is scaled up, aspect kept, so the crop fits: VideoMAE at 224 turns resize (128, 171) into (224, 299).
    """
    _, _, config = _video_classifier_config(source)
    frames, (height, width) = frames_of(config), size_of(config)
    if height != width:
        raise ConfigError("model.hf_model", f"{source} takes {height}×{width} frames; motionprobe's "
                                            "clips are square (data.crop_size)")
    d = data
    before = (d.num_frames, d.crop_size, tuple(d.resize))
    resize = tuple(d.resize)
    if min(resize) < height:
        scale = height / min(resize)
        resize = (round(resize[0] * scale), round(resize[1] * scale))
    fitted = replace(data, num_frames=frames, crop_size=height, resize=resize)
    changes = [f"{name} {old} → {new}" for name, old, new in zip(("data.num_frames", "data.crop_size", "data.resize"),
                                                                   before, (frames, height, resize), strict=True)
               if old != new]
    if changes:
        log.warning(f"{', '.join(changes)}: the Hugging Face model {source} ({config.model_type}) takes "
                    f"{frames} frames of {height}×{width}")
    return fitted


def load_hf_model(source: str | Path, num_classes: int | None = None) -> tuple[VideoModel, list[str]]:
    """A transformers video classifier from a local folder (what `save_pretrained` writes) or a hub id.

    Returns the model in eval mode and its class names. With `num_classes` other than the checkpoint's, the
    classifier head is re-initialised for that many classes (transformers' `ignore_mismatched_sizes`, which
    inits it the way the model's own `_init_weights` does, for any architecture; every other tensor must load
    as saved, or this is an error naming the keys) and the names are "class_i": the dataset's names apply.
    `model.spec.extra["hf"]` records the source, the processor file used and whether the head was replaced.
    """
    transformers = _transformers()
    where, local, config = _video_classifier_config(source)
    what = "" if local else "no such folder, and as a hub model id: "
    with _quiet():
        file_classes = int(config.num_labels)
        replace = num_classes is not None and num_classes != file_classes
        if replace:
            config.id2label = {i: f"class_{i}" for i in range(num_classes)}
            config.label2id = {name: i for i, name in config.id2label.items()}
        try:
            hf_model, info = transformers.AutoModelForVideoClassification.from_pretrained(
                where, config=config, local_files_only=local, ignore_mismatched_sizes=replace, dtype=torch.float32,
                weights_only=True, trust_remote_code=False, output_loading_info=True)
        except LOAD_ERRORS as e:
            raise UserError(f"{source}: {what}cannot load it as a transformers video classifier: "
                            f"{_first_line(e)}") from None
    head = head_prefix(hf_model)
    missing = {k for k in info["missing_keys"] if not k.startswith(head)}
    mismatched = {k[0] for k in info["mismatched_keys"] if not k[0].startswith(head)}
    if missing or mismatched:
        names = sorted(missing | mismatched)
        raise UserError(f"{source}: weights do not fit the {config.model_type} config: {', '.join(names[:8])}"
                        f"{' …' if len(names) > 8 else ''}")
    head_initialised = replace or any(k.startswith(head) for k in info["missing_keys"])
    processor, processor_file = read_processor_config(where, local)
    input_size = size_of(config)
    if processor is None:
        preprocessing = default_preprocessing(input_size)
        log.warning("%s: no %s; using ImageNet's mean/std %s / %s", source, " or ".join(PROCESSOR_FILES),
                    preprocessing.mean, preprocessing.std)
    else:
        try:
            preprocessing = preprocessing_from_processor(processor, input_size)
        except (UserError, KeyError, TypeError, ValueError) as e:
            raise UserError(f"{source}/{processor_file}: {_first_line(e)}") from None
    model = wrap_hf(hf_model, preprocessing, source=str(source), processor=processor_file,
                    head_replaced=head_initialised, file_classes=file_classes)
    if head_initialised:
        log.info("%s: classifier re-initialised for %d classes (the checkpoint's has %d)", source,
                 int(hf_model.config.num_labels), file_classes)
    return model.eval(), class_names(hf_model.config)


def hf_architecture_config(model: VideoModel) -> dict:
    """The Hugging Face config of a wrapped model as a JSON-able dict (for meta.json): with
    `build_hf_from_config` it rebuilds the architecture without the original folder."""
    if not isinstance(model.net, HFVideoClassifier):
        raise TypeError(f"expected a VideoModel around a Hugging Face classifier, got {type(model.net).__name__}")
    return model.net.hf.config.to_dict()


def build_hf_from_config(config_dict: dict, num_classes: int) -> VideoModel:
    """The architecture `config_dict` describes, with random weights and `num_classes` outputs; load a saved
    `net` state dict into it. The preprocessing is the default one: a model folder's meta.json restores its own.
    """
    transformers = _transformers()
    model_type = config_dict.get("model_type")
    if model_type not in transformers.CONFIG_MAPPING:
        raise UserError(f"unknown Hugging Face model type {model_type!r} in the saved architecture")
    with _quiet():
        try:
            config = transformers.CONFIG_MAPPING[model_type].from_dict(dict(config_dict))
            if int(config.num_labels) != num_classes:
                config.id2label = {i: f"class_{i}" for i in range(num_classes)}
                config.label2id = {name: i for i, name in config.id2label.items()}
            hf_model = transformers.AutoModelForVideoClassification.from_config(config, dtype=torch.float32,
                                                                                trust_remote_code=False)
        except LOAD_ERRORS as e:
            raise UserError(f"cannot build the saved {model_type} architecture: {_first_line(e)}") from None
    return wrap_hf(hf_model, default_preprocessing(size_of(config)), source="architecture config")
