"""`motionprobe predict`: the top classes of video files, from a model folder or pretrained weights."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import DEVICES
from ..errors import UserError
from ..models import architectures


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict", help="top classes of video files (e.g. DeepMind's Kinetics-400 I3D)",
        description="Classify whole videos: --clips clips spread over each video (one: the centered clip), "
                    "frames resized by the short side and center-cropped as the model's preprocessing says, class "
                    "probabilities averaged over the clips. An unreadable video is reported and the others are "
                    "still predicted (exit status 2 if any failed).")
    src = p.add_argument_group("model (one of)")
    src.add_argument("--model", metavar="DIR", help="trained motionprobe model folder")
    src.add_argument("--weights", metavar="FILE", help="weights file with Kinetics-400 classes (or a name from "
                     "'motionprobe weights list', once fetched with 'motionprobe weights get')")
    src.add_argument("--arch", choices=architectures(), help="architecture of --weights (default: the named "
                                                            "weights' own)")
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video files")
    p.add_argument("--clips", type=int, default=1, help="clips per video (default 1)")
    p.add_argument("--frames", dest="clip_frames", type=int, help="frames per clip (default: the model's, 16)")
    p.add_argument("--top", type=int, default=5, help="classes shown per video (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.add_argument("--device", choices=DEVICES, default="cpu", help="where to compute (default cpu)")
    p.set_defaults(run=run, parser=p)


def _weights_and_arch(args: argparse.Namespace) -> tuple[Path, str]:
    from ..weights.cache import cached_weights, weights_path
    from ..weights.registry import WEIGHTS

    if args.weights in WEIGHTS and not Path(args.weights).exists():
        path = cached_weights(args.weights)
        if path is None:
            state = "is corrupted (its sha256 is not the published one)" if weights_path(args.weights).exists() \
                else "is not downloaded yet"
            raise UserError(f"--weights {args.weights}: {weights_path(args.weights)} {state}; run 'motionprobe weights "
                            f"get {args.weights}' to fetch it")
        return path, args.arch or WEIGHTS[args.weights].arch
    if args.arch is None:
        raise UserError("--arch: needed with --weights FILE (e.g. --arch i3d)")
    return Path(args.weights), args.arch


def run(args: argparse.Namespace) -> int:
    from ..config import check_device
    from ..data.video import VideoError
    from ..predict import check_prediction, load_classifier, predict_video

    if (args.model is None) == (args.weights is None):
        raise UserError("give --model DIR or --weights FILE (with --arch)")
    check_device(args.device, "device")
    if args.model is not None:
        classifier = load_classifier(model_dir=args.model, device=args.device)
    else:
        weights, arch = _weights_and_arch(args)
        classifier = load_classifier(arch=arch, weights=weights, device=args.device)
    check_prediction(classifier.model, args.clips, args.top, args.clip_frames)
    predictions, errors = [], []
    for video in args.videos:
        try:
            pred = predict_video(classifier.model, video, classifier.classes, clips=args.clips, top=args.top,
                                 num_frames=args.clip_frames)
        except VideoError as e:
            errors.append({"video": video, "error": e.reason})
            print(f"motionprobe: error: {video}: {e.reason}", file=sys.stderr)
            continue
        predictions.append(pred)
        if not args.json:
            print(f"{video}  ({pred.clips} clip{'s' if pred.clips > 1 else ''} of {pred.num_frames} frames)")
            for score in pred.top:
                print(f"  {score.probability:6.3f}  {score.name}")
    if args.json:
        print(json.dumps({"model": classifier.source, "videos": [p.to_dict() for p in predictions],
                          "errors": errors}, indent=2))
    return 2 if errors else 0
