"""Does the temporal generator give a video model back what a few frames lack? (synthetic benchmark, `tiny`)

Trains (or reuses) the tiny C3D, then, for each k, generators — perceptual, pixel, and the ablations —
and measures the model's test clip accuracy on the uniform k kept frames (k=1: the middle frame, 8;
k=4: frames 2, 6, 10, 14):

    original      the real 16-frame clip
    replicate     each slot repeats the nearest kept frame (k=1: the paper's one-frame baseline)
    <generator>   the kept frames and their indices through the generator

overall and per planted kind (appearance / motion / keyframe), with each generator's training time,
and for every generator a paired sign test on the same clips against replication and, for the
perceptual variants, against the pixel generator trained with the same seed. `--seeds 0,1,2` trains
each variant once per seed (a single training can land a few points either way: measure the spread).

    python -m benchmarks.generator_quality --threads 1           # everything, into runs/bench/generator_quality
    python -m benchmarks.generator_quality --model runs/model    # reuse a trained model folder
    python -m benchmarks.generator_quality --frames 1 --variants perceptual,pixel --seeds 0,1,2

Finished model and generator folders in --out are reused, interrupted ones resumed: rerunning is cheap,
and separate invocations with different --variants/--frames can train in parallel into one --out.
Writes results.json and results.md into --out and prints the table.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motionprobe.config import Config, preset
from motionprobe.data import ClipDataset, build_dataset, to_float
from motionprobe.evaluation import Evaluation
from motionprobe.folders import GeneratorFolder, ModelFolder
from motionprobe.generator import replicate_nearest, take_frames, training_subsets
from motionprobe.io import atomic_write_json, atomic_write_text, read_json
from motionprobe.selection import uniform_subset
from motionprobe.training.generator import train_generator
from motionprobe.training.state import has_train_state


@dataclass(frozen=True)
class Variant:
    name: str
    loss: str
    use_indices: bool = True
    residual: bool = True
    copy_given: bool = True
    index_encoding: str = "slots"
    layers: tuple[str, ...] | None = None  # perceptual layers; None: the model's default
    pixel_weight: float = 0.0  # perceptual + this × pixel
    kind: str = "pixels"  # the generator paints pixels, or ("flow") only moves the given ones
    flow_residual: float = 0.1  # kind flow: the bound of its residual

    def config(self, base: Config) -> Config:
        return base.evolve(generator={
            "use_indices": self.use_indices, "residual": self.residual, "copy_given": self.copy_given,
            "index_encoding": self.index_encoding, "kind": self.kind, "flow_residual": self.flow_residual,
            "pixel_weight": self.pixel_weight, **({"perceptual_layers": self.layers} if self.layers else {})})


VARIANTS = {v.name: v for v in [
    Variant("perceptual", "perceptual"),
    Variant("pixel", "pixel"),
    Variant("perceptual_no_indices", "perceptual", use_indices=False),
    Variant("perceptual_no_residual", "perceptual", residual=False),
    Variant("perceptual_no_copy", "perceptual", copy_given=False),
    Variant("perceptual_stacked", "perceptual", index_encoding="stacked"),
    Variant("perceptual_no_indices_deep", "perceptual", use_indices=False,
            layers=("relu2", "relu3b", "relu4b", "relu5b")),
    Variant("perceptual_no_indices_shallow", "perceptual", use_indices=False, layers=("relu1", "relu2", "relu3b")),
    *(Variant(f"perceptual_no_indices_pixel{w}", "perceptual", use_indices=False, pixel_weight=w) for w in (10, 30, 100)),
    Variant("flow", "perceptual", kind="flow"),
    Variant("flow_no_indices", "perceptual", use_indices=False, kind="flow"),
    Variant("flow_pixel", "pixel", kind="flow"),
    # + pool5: the global-pool C3D's "what" features (the maximum over time and space fc6 reads)
    Variant("flow_pool5", "perceptual", kind="flow", layers=("relu1", "relu2", "relu3b", "pool5")),
    Variant("perceptual_pool5", "perceptual", layers=("relu1", "relu2", "relu3b", "pool5")),
    Variant("perceptual_no_indices_pool5", "perceptual", use_indices=False, layers=("relu1", "relu2", "relu3b", "pool5")),
    Variant("flow_no_indices_pool5", "perceptual", use_indices=False, kind="flow",
            layers=("relu1", "relu2", "relu3b", "pool5")),
    *(Variant(f"flow_pool5_r{r}", "perceptual", kind="flow", layers=("relu1", "relu2", "relu3b", "pool5"),
              flow_residual=r / 100) for r in (0, 3)),
    *(Variant(f"flow_no_indices_pool5_r{r}", "perceptual", use_indices=False, kind="flow",
              layers=("relu1", "relu2", "relu3b", "pool5"), flow_residual=r / 100) for r in (0, 3)),
]}
DEFAULT_VARIANTS = ("flow_no_indices_pool5_r3", "perceptual_no_indices_pool5", "pixel")  # the tiny preset's first


class InMemory(ClipDataset):
    """A dataset's clips decoded once and held as uint8 (600 tiny clips ≈ 30 MB)."""

    def __init__(self, dataset: ClipDataset):
        self.classes, self.labels, self.ids = list(dataset.classes), list(dataset.labels), list(dataset.ids)
        self.metadata = dict(dataset.metadata)
        self.clips = [dataset.load(i) for i in range(len(dataset))]

    def load(self, index: int) -> torch.Tensor:
        return self.clips[index]


def trained_model(cfg: Config, folder: Path) -> Path:
    from motionprobe.training.model import train_model

    meta = folder / "meta.json"
    if meta.is_file() and read_json(meta).get("epochs_done") == cfg.train.epochs:
        return folder
    start = time.perf_counter()
    train_model(cfg, folder, resume=has_train_state(folder))
    print(f"model trained in {time.perf_counter() - start:.0f} s", flush=True)
    return folder


def trained_generator(cfg: Config, model: Path, k: int, variant: Variant, folder: Path, data: ClipDataset) -> Path:
    wanted = variant.config(cfg)
    if (folder / "config.json").is_file():
        saved = read_json(folder / "config.json")["generator"]
        differs = sorted(key for key, value in wanted.to_dict()["generator"].items()
                         if key not in ("epochs", "loss")
                         and saved.get(key) != (list(value) if isinstance(value, tuple) else value))
        if differs:
            raise SystemExit(f"{folder} holds a generator trained with other settings ({', '.join(differs)}); "
                             "move it away or choose another --out")
    if GeneratorFolder(folder).finished_for(wanted.generator):
        return folder  # finished earlier
    train_generator(wanted, model, k, folder, loss=variant.loss, resume=has_train_state(folder), dataset=data)
    return folder


SUBSETS = ("uniform", "random")


@torch.inference_mode()
def accuracies(model, generators: dict[tuple[int, str], torch.nn.Module], test: ClipDataset, num_frames: int = 16,
               batch_size: int = 50, seed: int = 0) -> dict[str, dict]:
    """Clip accuracy per condition (overall and per kind) and, against replicate, a paired sign test.

    Conditions: the original clip, then for every k and each way of keeping k frames — the uniform
    subset, and one random subset per clip (seeded; what the analysis' candidates look like) — the
    replicate baseline and each generator on the same kept frames.
    """
    ks = sorted({k for k, _ in generators})
    n = len(test.classes)
    confusion: dict[str, torch.Tensor] = {}
    correct: dict[str, list[torch.Tensor]] = {}
    rng = np.random.default_rng([seed, 7])
    for start in range(0, len(test), batch_size):
        ids = range(start, min(len(test), start + batch_size))
        clips = to_float(torch.stack([test.load(i) for i in ids]))
        labels = torch.tensor([test.labels[i] for i in ids])
        inputs = {"original": clips}
        for k in ks:
            for subset in SUBSETS:
                if subset == "uniform":
                    indices = torch.tensor(uniform_subset(k, num_frames)).view(1, k).expand(len(ids), k)
                else:
                    indices = training_subsets(k, len(ids), rng, num_frames)
                frames = take_frames(clips, indices)
                inputs[f"k={k} {subset} replicate"] = replicate_nearest(frames, indices, num_frames)
                inputs.update({f"k={k} {subset} {name}": g(frames, indices)
                               for (kk, name), g in generators.items() if kk == k})
        for name, clip in inputs.items():
            pred = model(clip).argmax(1)
            confusion.setdefault(name, torch.zeros(n, n, dtype=torch.long))
            confusion[name].index_put_((labels, pred), torch.ones_like(pred), accumulate=True)
            correct.setdefault(name, []).append(pred == labels)
    kinds = dict(test.metadata.get("kinds", {}))
    right = {name: torch.cat(v) for name, v in correct.items()}
    result = {}
    for name, c in confusion.items():
        ev = Evaluation(list(test.classes), c.tolist(), kinds)
        result[name] = {"overall": ev.accuracy, **ev.per_kind()}
        if not name.endswith(" replicate") and name != "original":
            k, subset, label = name.split(" ", 2)
            result[name]["vs_replicate"] = sign_test(right[name], right[f"{k} {subset} replicate"])
            pixel = f"{k} {subset} {pixel_twin(label)}"
            if pixel != name and pixel in right:
                result[name]["vs_pixel"] = sign_test(right[name], right[pixel])
    return result


def generator_label(variant: str, seed: int) -> str:
    """How a (variant, seed) generator is named in the results: seed 0 keeps the bare variant name."""
    return variant if seed == 0 else f"{variant} s{seed}"


def pixel_twin(label: str) -> str:
    """The pixel generator trained with the same seed as the generator `label`."""
    return generator_label("pixel", int(label.rsplit(" s", 1)[1]) if " s" in label else 0)


def sign_test(a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    """Paired comparison of two per-clip correctness vectors: clips only `a` gets right, only `b` gets
    right, and the exact two-sided sign-test p-value (McNemar's exact test).

    >>> sign_test(torch.tensor([True, True, True, False]), torch.tensor([False, False, False, False]))
    {'only_this': 3, 'only_other': 0, 'p': 0.25}
    """
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    m, low = only_a + only_b, min(only_a, only_b)
    p = min(1.0, 2 * sum(math.comb(m, i) for i in range(low + 1)) / 2**m) if m else 1.0
    return {"only_this": only_a, "only_other": only_b, "p": p}


@torch.inference_mode()
def k1_motion_ceiling(model, test: ClipDataset, num_frames: int = 16, speed: int = 2) -> dict[str, dict]:
    """What any k=1 generator could reach on the motion classes, whose direction one frame cannot show.

    From the middle frame of each motion-kind test clip, hand-made clips: the whole frame translated
    by `speed` px per frame (wrapping, like the benchmark's torus) in one fixed direction ("commit
    right"), and the average of the four directions ("mean of 4" — what a squared-error loss prefers
    when the direction is unknown). For each: the model's accuracy on those clips, and the
    perceptual and pixel losses against the real clips (lower is what training seeks).
    """
    from motionprobe.generator import PerceptualLoss, PixelLoss

    kinds = test.metadata.get("kinds", {})
    ids = [i for i in range(len(test)) if kinds.get(test.classes[test.labels[i]]) == "motion"]
    if not ids:
        return {}
    clips = to_float(torch.stack([test.load(i) for i in ids]))
    labels = torch.tensor([test.labels[i] for i in ids])
    middle = clips[:, :, num_frames // 2]

    def translated(dx: int, dy: int) -> torch.Tensor:
        return torch.stack([torch.roll(middle, (dy * speed * (t - num_frames // 2), dx * speed * (t - num_frames // 2)),
                                       dims=(2, 3)) for t in range(num_frames)], 2)

    directions = [(1, 0), (-1, 0), (0, -1), (0, 1)]
    conditions = {"replicate": middle.unsqueeze(2).expand(-1, -1, num_frames, -1, -1), "commit right": translated(1, 0),
                  "mean of 4": sum(translated(*d) for d in directions) / 4}
    perceptual, pixel = PerceptualLoss(model), PixelLoss()
    return {name: {"motion_accuracy": (model(x).argmax(1) == labels).float().mean().item(),
                   "perceptual_loss": perceptual(x, clips).item(), "pixel_loss": pixel(x, clips).item()}
            for name, x in conditions.items()}


def table(results: dict[str, dict], times: dict[str, float], n_clips: int, kind_counts: dict[str, int]) -> str:
    kinds = list(kind_counts)
    head = ("| condition | overall | " + " | ".join(f"{k} ({kind_counts.get(k, 0)})" for k in kinds)
            + " | vs replicate: only this / only replicate, p | vs pixel: only this / only pixel, p | train s |")
    lines = [head, "|" + "---|" * (len(kinds) + 5)]
    for name, acc in results.items():
        cells = [f"{acc['overall']:.3f}"] + [f"{acc.get(k, float('nan')):.3f}" for k in kinds]
        for other in ("vs_replicate", "vs_pixel"):
            vs = acc.get(other)
            cells.append(f"{vs['only_this']} / {vs['only_other']}, p={vs['p']:.2g}" if vs else "")
        variant = name.split(" ", 2)[-1] if name != "original" else ""
        k = name.split(" ", 1)[0]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {times.get(f'{k} {variant}', '')} |")
    se = 0.5 / n_clips ** 0.5
    return "\n".join(lines) + (f"\n\n{n_clips} test clips (standard error of an overall accuracy ≤ {se:.3f}); top-1 "
                               "clip accuracy of the tiny C3D; 'uniform': the evenly spaced k frames (k=1: frame 8), "
                               "'random': one random k-subset per clip, the same for every condition.\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.generator_quality", description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/bench/generator_quality", help="working folder (reused on reruns)")
    p.add_argument("--model", help="trained model folder (default: train the tiny C3D into OUT/model)")
    p.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                   help=f"comma-separated, from: {', '.join(VARIANTS)}")
    p.add_argument("--frames", default="1,4", help="comma-separated k values (default 1,4)")
    p.add_argument("--epochs", type=int, help="generator epochs (default: the tiny preset's)")
    p.add_argument("--decay-fraction", type=float,
                   help="share of the generator's steps with a falling learning rate (default: the preset's, 0.5)")
    p.add_argument("--seeds", default="0", help="comma-separated training seeds, one generator per variant and seed "
                                                "(default 0; seed s > 0 trains into OUT/k<K>_<variant>_s<s>)")
    p.add_argument("--test-per-class", type=int, default=100,
                   help="test clips per class for the accuracies (default 100; the model's own test split is 20)")
    p.add_argument("--train-per-class", type=int,
                   help="the generators' training clips per class (default: the tiny preset's, the model's own)")
    p.add_argument("--threads", type=int, help="torch threads (on a shared machine 1 is often faster than all cores)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    cfg = preset("tiny")
    if args.epochs:
        cfg = cfg.evolve(generator={"epochs": args.epochs})
    if args.decay_fraction is not None:
        cfg = cfg.evolve(generator={"decay_fraction": args.decay_fraction})
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        p.error(f"--variants: unknown {', '.join(sorted(unknown))}; expected some of {', '.join(VARIANTS)}")
    variants = [VARIANTS[name] for name in args.variants.split(",")]
    ks = [int(k) for k in args.frames.split(",")]
    try:
        seeds = [int(seed) for seed in args.seeds.split(",")]
    except ValueError:
        p.error(f"--seeds: expected comma-separated integers, got {args.seeds!r}")

    model_dir = Path(args.model) if args.model else trained_model(cfg, out / "model")
    if args.train_per_class:
        # After the model: only the generators see more clips.
        cfg = cfg.evolve(data={"train_per_class": args.train_per_class})
    train = InMemory(build_dataset(cfg.data, "train", training=True, seed=cfg.seed))
    # The model's test split is a prefix: more clips, tighter figures.
    test_cfg = cfg.evolve(data={"test_per_class": args.test_per_class})
    test = InMemory(build_dataset(test_cfg.data, "test", seed=test_cfg.seed))
    model = ModelFolder(model_dir).load()[0]
    generators, times = {}, {}
    for k in ks:
        for seed in seeds:
            seeded = cfg.evolve(seed=seed)
            for v in variants:
                label = generator_label(v.name, seed)
                folder = out / f"k{k}_{v.name}" if seed == 0 else out / f"k{k}_{v.name}_s{seed}"
                folder = trained_generator(seeded, model_dir, k, v, folder, train)
                generators[k, label], meta = GeneratorFolder(folder).load()
                times[f"k={k} {label}"] = meta["metrics"]["train_seconds"]
    results = accuracies(model, generators, test, cfg.data.num_frames, seed=cfg.seed)
    kinds = test.metadata.get("kinds", {})
    # In the order the dataset declares its kinds (the synthetic benchmark's: appearance, motion, keyframe, implied).
    kind_counts = {k: sum(kinds.get(test.classes[label]) == k for label in test.labels)
                   for k in dict.fromkeys(kinds.values())}
    text = table(results, times, len(test), kind_counts)
    ceiling = k1_motion_ceiling(model, test, cfg.data.num_frames) if 1 in ks else {}
    if ceiling:
        text += ("\nk=1 ceiling on the motion classes (hand-made clips from the middle frame):\n\n"
                 "| clip | motion accuracy | perceptual loss | pixel loss |\n|---|---|---|---|\n")
        text += "".join(f"| {name} | {c['motion_accuracy']:.3f} | {c['perceptual_loss']:.3f} | {c['pixel_loss']:.4f} |\n"
                        for name, c in ceiling.items())
    print(text)
    atomic_write_json(out / "results.json", {"model": str(model_dir),
                                             "kept_frames": {k: list(uniform_subset(k)) for k in ks},
                                             "generator_epochs": cfg.generator.epochs, "seeds": seeds, "accuracy": results,
                                             "train_seconds": times, "test_clips": len(test),
                                             "k1_motion_ceiling": ceiling})
    atomic_write_text(out / "results.md", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
