"""The top classes of whole videos: N clips spread over each video, their class probabilities averaged.

A clip is `num_frames` consecutive frames (the model's own count by default); N clips start evenly from the
first frame to the last possible start (one clip: the centered one), as evaluation does (data/sampling.py).
Frames are decoded by data/video.py and resized while converting, so that the short side becomes the model's
resize side, then center-cropped to the model's crop (data/transforms.py, resize_mode "short_side"): DeepMind's
Kinetics protocol for I3D (short side 256, crop 224), torchvision's for the video ResNets (128, crop 112).
The probabilities are the softmax of each clip's logits, averaged over the clips.

Worked example: a 20-frame video that brightens (frame t is grey level 12·t) and a model of 8-frame clips that
calls a clip `bright` when its mean is above one half. Three clips start at frames 0, 6 and 12 (the last
possible start, 20 − 8); only the last is bright, so `bright` gets a third of the probability:

    >>> import tempfile, numpy as np, torch
    >>> from pathlib import Path
    >>> from motionprobe.data.export import encode_avi
    >>> from motionprobe.models import wrap
    >>> video = Path(tempfile.mkdtemp()) / "brightening.avi"
    >>> _ = video.write_bytes(encode_avi(np.stack([np.full((24, 32, 3), 12 * t, np.uint8) for t in range(20)])))
    >>> head = torch.nn.Linear(3, 2)
    >>> with torch.no_grad():
    ...     _ = head.weight.copy_(torch.tensor([[-100.0] * 3, [100.0] * 3])), head.bias.zero_()
    >>> net = torch.nn.Sequential(torch.nn.AdaptiveAvgPool3d(1), torch.nn.Flatten(), head)
    >>> model = wrap(net, normalize=([0.5] * 3, [1.0] * 3), input_size=(16, 16), num_frames=8)
    >>> prediction = predict_video(model, video, ["dark", "bright"], clips=3)
    >>> prediction.starts, [(c.name, round(c.probability, 2)) for c in prediction.top]
    ([0, 6, 12], [('dark', 0.67), ('bright', 0.33)])

With published weights: `load_classifier(arch="i3d", weights=path)` (docs/models.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from .config import preset
from .data.sampling import MAX_FRAMES, ClipSampling, distinct_clips, eval_clip_indices
from .data.transforms import ClipTransform
from .data.video import VideoFile
from .errors import ConfigError, UserError
from .models import VideoModel, build_model
from .weights.load import load_pretrained
from .weights.registry import kinetics400_classes

KINETICS400_CLASSES = 400


@dataclass(frozen=True)
class ClassScore:
    index: int
    name: str
    probability: float


@dataclass(frozen=True)
class VideoPrediction:
    """One video's top classes, from `clips` clips of `num_frames` frames starting at `starts`."""

    video: str
    clips: int
    num_frames: int
    starts: list[int]
    top: list[ClassScore]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Classifier:
    """A model in eval mode with the names of its classes, in the order of its logits."""

    model: VideoModel
    classes: list[str]
    source: str


def load_classifier(*, model_dir: str | Path | None = None, arch: str | None = None,
                    weights: str | Path | None = None, device: str = "cpu") -> Classifier:
    """A trained motionprobe model folder (its classes come along), or `arch` with a weights file of Kinetics-400
    classes (DeepMind's I3D checkpoint, a torchvision video ResNet, …), named with the Kinetics-400 labels."""
    if model_dir is not None:
        from .folders import ModelFolder

        model, meta = ModelFolder(model_dir).load(device)
        return Classifier(model, list(meta["classes"]), str(model_dir))
    if arch is None or weights is None:
        raise ConfigError("model", "give a model folder, or an architecture and a weights file")
    cfg = preset("paper").evolve(model={"arch": arch})
    model = build_model(cfg.model, cfg.data, KINETICS400_CLASSES)
    report = load_pretrained(model, weights, arch, KINETICS400_CLASSES)
    if report.head_replaced:
        raise UserError(f"{weights}: its classifier has {report.file_classes} classes, not Kinetics-400's "
                        f"{KINETICS400_CLASSES}; to name other classes, use a model folder")
    return Classifier(model.to(device).eval(), kinetics400_classes(), str(weights))


def clip_transform(model: VideoModel) -> ClipTransform:
    """Short side to the model's resize side (its crop when it has none), then its center crop."""
    p = model.preprocessing
    crop = max(p.crop or model.spec.input_size)
    short = max(p.resize[0] if p.resize else crop, crop)
    return ClipTransform(resize=(short, short), crop=crop, resize_mode="short_side")


MAX_CLIPS = 1000  # clips per video: more than any video of hours holds apart, and each costs a forward pass


def check_prediction(model: VideoModel, clips: int, top: int, num_frames: int | None, check_model: bool = True) -> None:
    """Refuse, before any video is read, what `predict_video` cannot mean: no clip, no class, a clip length the
    model cannot take (the tiny C3D pools time: 1 frame leaves it nothing) or the machine cannot hold."""
    if not (isinstance(clips, int) and 1 <= clips <= MAX_CLIPS):
        raise ConfigError("clips", f"expected a number of clips per video in 1..{MAX_CLIPS}, got {clips}")
    if not (isinstance(top, int) and top >= 1):
        raise ConfigError("top", f"expected at least 1 class, got {top}")
    if num_frames is not None and not (isinstance(num_frames, int) and 1 <= num_frames <= MAX_FRAMES):
        raise ConfigError("clip_frames", f"expected a number of frames per clip in 1..{MAX_FRAMES}, got {num_frames}")
    if num_frames is not None and check_model:
        _check_model_takes(model, num_frames)


def _check_model_takes(model: VideoModel, num_frames: int) -> None:
    side = max(clip_transform(model).crop, 1)
    try:
        with torch.inference_mode():
            model(torch.zeros(1, 3, num_frames, side, side, device=next(model.parameters()).device))
    except (RuntimeError, ValueError, UserError) as e:
        raise ConfigError("clip_frames", f"the model cannot take clips of {num_frames} frames (it was made for "
                                         f"{model.spec.num_frames}): {str(e).splitlines()[0][:120]}") from None


def predict_video(model: VideoModel, path: str | Path, classes: Sequence[str], clips: int = 1, top: int = 5,
                  num_frames: int | None = None) -> VideoPrediction:
    """The `top` classes of the video at `path`; raises data.video.VideoError when it cannot be read.

    A video shorter than `clips` distinct clips gives the clips it has (a 3-frame video one)."""
    check_prediction(model, clips, top, num_frames, check_model=False)
    sampling = ClipSampling(num_frames=num_frames or model.spec.num_frames, clips_per_video=clips)
    transform = clip_transform(model)
    device = next(model.parameters()).device
    total = torch.zeros(len(classes), dtype=torch.float64)
    with VideoFile(path) as video:
        size = transform.target_size(*video.size)
        sampling = replace(sampling, clips_per_video=min(clips, distinct_clips(video.num_frames, sampling.span)))
        indices = eval_clip_indices(video.num_frames, sampling)
        for frames in indices:
            clip = transform.finish(torch.from_numpy(video.read(frames, size)))  # uint8 (3, T, crop, crop)
            with torch.inference_mode():
                logits = model(clip.unsqueeze(0).to(device).float().div_(255))
            if logits.shape[-1] != len(classes):
                raise UserError(f"the model has {logits.shape[-1]} classes but {len(classes)} class names were given")
            total += logits[0].softmax(-1).double().cpu()
    probabilities = total / len(indices)
    best = probabilities.argsort(descending=True)[:top].tolist()
    return VideoPrediction(video=str(path), clips=len(indices), num_frames=sampling.num_frames,
                           starts=[frames[0] for frames in indices],
                           top=[ClassScore(i, classes[i], float(probabilities[i])) for i in best])
