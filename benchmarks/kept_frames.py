"""What k kept frames give back, per planted kind: the candidate subsets of each test clip, replicated and
through a generator for k, scored three label-free ways (the uniform subset, max response, mean
response) and by the oracle. The analysis' rows for one k in minutes, for comparing generators on any
dataset with a planted-truth file (the embedded benchmark's classes are known without one):

    python -m benchmarks.kept_frames --model M --generators G1,G2 [--config FILE] [--threads 1]

k is the generator's. The candidates are the analysis' pool for it: every single frame at k = 1, and
`analysis.candidates` subsets drawn with the run's seed otherwise (the same 48 at k = 4). The model
folder's config gives the dataset and the pool (or --config's); prints one table per generator.
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
from motionprobe.selection import candidates, uniform_subset

KINDS = ("appearance", "motion", "keyframe", "implied")


def scores(probs: torch.Tensor, label: int) -> dict[str, bool]:
    """Right or not, per way of choosing, from the class probabilities (n + 1, classes) of a clip's n
    candidates followed by its uniform subset (scored alone; the other ways see the candidates only)."""
    pool, uniform = probs[:-1], probs[-1]
    most_confident = int(pool.max(1).values.argmax())
    return {"uniform": int(uniform.argmax()) == label, "max": int(pool[most_confident].argmax()) == label,
            "mean": int(pool.mean(0).argmax()) == label, "oracle": bool((pool.argmax(1) == label).any())}


def subsets(k: int, size: int | str, num_frames: int, seed: int) -> torch.Tensor:
    """The analysis' candidates for k, then the uniform subset: (n + 1, k).

    >>> subsets(1, 48, 16, 0)[[0, 15, 16]].tolist()  # every frame at k = 1, then the middle one
    [[0], [15], [8]]
    """
    pool = candidates(k, size if k > 1 else "all", num_frames, seed)
    return torch.tensor([*map(list, pool), list(uniform_subset(k, num_frames))], dtype=torch.long)


@torch.inference_mode()
def measure(model, generator, test, k: int = 1, size: int | str = 48,
            seed: int = 0) -> dict[tuple[str, str], dict[str, float]]:
    """(source, way) → accuracy (%) per kind and over all clips, for k kept frames."""
    right: dict[tuple[str, str], dict[str, list[bool]]] = {}
    kinds = (getattr(test, "metadata", {}) or {}).get("kinds") or KIND  # a truth file's kinds, else the benchmark's
    for i in range(len(test)):
        clip = to_float(test.load(i))[None]
        indices = subsets(k, size, clip.shape[2], seed)
        frames = take_frames(clip.expand(len(indices), *clip.shape[1:]), indices)
        label = test.labels[i]
        kind = kinds.get(test.classes[label], "other")
        for source, made in (("replicated", replicate_nearest(frames, indices, clip.shape[2])),
                             ("generated", generator(frames, indices))):
            for way, ok in scores(model(made).softmax(1), label).items():
                for group in ("all", kind):
                    right.setdefault((source, way), {}).setdefault(group, []).append(ok)
    return {key: {group: 100 * float(np.mean(v)) for group, v in groups.items()} for key, groups in right.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="trained model folder")
    p.add_argument("--generators", required=True, help="comma-separated generator folders (any k)")
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
    test = build_dataset(cfg.data, "test", seed=cfg.seed)
    for path in args.generators.split(","):
        generator, meta = GeneratorFolder(path).load()
        k = int(meta["k"])
        table = measure(model, generator, test, k, cfg.analysis.candidates, cfg.seed)
        groups = ["all", *[kind for kind in KINDS if kind in next(iter(table.values()))]]
        print(f"\n{Path(path).name} ({meta['metrics']['steps']} steps), {len(test)} test clips, k = {k}, accuracy %")
        print(f"{'':18}" + "".join(f"{g:>11}" for g in groups))
        for (source, way), acc in table.items():
            print(f"{source + ' ' + way:18}" + "".join(f"{acc[g]:11.1f}" for g in groups))


if __name__ == "__main__":
    main()
