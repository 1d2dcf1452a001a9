"""What one kept frame gives back, per planted kind: every single frame of each test clip, replicated and
through a k = 1 generator, scored three label-free ways (the middle frame, max response, mean response)
and by the oracle. The analysis' k = 1 rows in two minutes, for comparing generators on any dataset
layout whose classes the embedded benchmark planted (e.g. one exported with `data export-synthetic`):

    python -m benchmarks.single_frame --model M --generators G1,G2 [--config FILE] [--threads 1]

The model folder's config gives the dataset (or --config's); prints one table per generator.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from motionprobe.config import apply_overrides, load_file
from motionprobe.data import build_dataset, to_float
from motionprobe.data.synthetic import KIND
from motionprobe.folders import GeneratorFolder, ModelFolder
from motionprobe.generator import replicate_nearest, take_frames
from motionprobe.selection import uniform_subset

KINDS = ("appearance", "motion", "keyframe", "implied")


def scores(probs: torch.Tensor, label: int) -> dict[str, bool]:
    """Right or not, per way of choosing among the class probabilities of a clip's single frames (T, classes)."""
    most_confident = int(probs.max(1).values.argmax())
    middle = uniform_subset(1, len(probs))[0]  # the analysis' uniform frame, at any clip length
    return {"middle": int(probs[middle].argmax()) == label, "max": int(probs[most_confident].argmax()) == label,
            "mean": int(probs.mean(0).argmax()) == label, "oracle": bool((probs.argmax(1) == label).any())}


@torch.inference_mode()
def measure(model, generator, test) -> dict[tuple[str, str], dict[str, float]]:
    """(source, way) → accuracy (%) per kind and over all clips."""
    right: dict[tuple[str, str], dict[str, list[bool]]] = {}
    for i in range(len(test)):
        clip = to_float(test.load(i))[None]
        indices = torch.arange(clip.shape[2]).view(-1, 1)
        frames = take_frames(clip.expand(len(indices), *clip.shape[1:]), indices)
        label = test.labels[i]
        kind = KIND.get(test.classes[label], "other")
        for source, made in (("replicated", replicate_nearest(frames, indices, clip.shape[2])),
                             ("generated", generator(frames, indices))):
            for way, ok in scores(model(made).softmax(1), label).items():
                for group in ("all", kind):
                    right.setdefault((source, way), {}).setdefault(group, []).append(ok)
    return {key: {group: 100 * float(np.mean(v)) for group, v in groups.items()} for key, groups in right.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="trained model folder")
    p.add_argument("--generators", required=True, help="comma-separated k = 1 generator folders")
    p.add_argument("--config", help="YAML/TOML overrides of the model's config (e.g. another dataset root)")
    p.add_argument("--threads", type=int, help="torch threads")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    folder = ModelFolder(args.model)
    model = folder.load()[0].eval()
    cfg = folder.config()
    if args.config:
        cfg = apply_overrides(cfg, load_file(args.config))
    test = build_dataset(cfg, "test")
    for path in args.generators.split(","):
        generator, meta = GeneratorFolder(path).load()
        if int(meta["k"]) != 1:
            raise SystemExit(f"{path}: a generator for k = {meta['k']}; this benchmark takes k = 1")
        table = measure(model, generator, test)
        groups = ["all", *[k for k in KINDS if k in next(iter(table.values()))]]
        print(f"\n{Path(path).name} ({meta['metrics']['steps']} steps), {len(test)} test clips, k = 1, accuracy %")
        print(f"{'':18}" + "".join(f"{g:>11}" for g in groups))
        for (source, way), acc in table.items():
            print(f"{source + ' ' + way:18}" + "".join(f"{acc[g]:11.1f}" for g in groups))


if __name__ == "__main__":
    main()
