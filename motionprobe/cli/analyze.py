"""`motionprobe analyze`: how much of the model's accuracy needs motion (the paper's Figure 3 numbers)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import config as config_mod
from .. import distributed
from ..errors import UserError
from ..selection import check_k
from .common import add_common, model_config, out_dir, resolve_config

# Verb options → AnalysisConfig fields (kept here: they mean nothing to the other verbs).
ANALYSIS_OPTIONS = {"frames": "analysis.ks", "candidates": "analysis.candidates", "bootstrap": "analysis.bootstrap",
                    "analysis_batch_size": "analysis.batch_size", "shard_size": "analysis.shard_size"}


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze", help="measure the model's accuracy without motion: uniform, generator, full analysis, oracle",
        description="For each K, keep K of the 16 frames, regenerate the clip with the temporal generator and "
                    "classify it; choose among candidate subsets by the model's max response (the full "
                    "analysis) or by an oracle. Reports clip accuracies with bootstrap intervals, the motion "
                    "upper bound (original − full), per-class and per-kind tables. K's without a generator "
                    "run the original and the replicated-frame baseline only. Writes results.json, "
                    "per_class.csv, per_clip.csv, candidates.csv.gz and the candidate table into --out; "
                    "--resume continues an interrupted run exactly.")
    p.add_argument("--model", required=True, metavar="DIR", help="trained video model folder (from train-model)")
    p.add_argument("--generator", action="extend", nargs="+", default=[], metavar="K=DIR",
                   help="perceptual generator folder for K kept frames (repeatable: --generator 1=g1 4=g4)")
    p.add_argument("--pixel-generator", action="extend", nargs="+", default=[], metavar="K=DIR",
                   help="pixel-loss generator folder for K kept frames (the Figure 7 comparison)")
    p.add_argument("--frames", "-k", nargs="+", metavar="K", type=_ks,
                   help="numbers of kept frames, e.g. '1,2,4,8' or '1 2 4 8' (default 1 2 4 8)")
    p.add_argument("--candidates", type=_candidates, metavar="N|all",
                   help="selector pool per K: N seeded random subsets (default 48, as the paper) or 'all' C(16, K)")
    p.add_argument("--bootstrap", type=int, metavar="B", help="bootstrap resamples for the intervals (tiny 500, paper 1000)")
    p.add_argument("--batch-size", dest="analysis_batch_size", type=int, metavar="B",
                   help="(clip, candidate) inputs per forward pass")
    p.add_argument("--shard-size", type=int, metavar="N", help="clips per resumable shard of the candidate table")
    p.add_argument("--no-csv", action="store_true", help="do not write candidates.csv.gz (the .npz table is kept)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--resume", action="store_true", help="continue the analysis in --out, skipping finished shards")
    add_common(p)
    p.set_defaults(run=run)


def _ks(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers of frames like 1,2,4,8, got {text!r}") from None


def _candidates(text: str) -> int:
    if text.strip().lower() == "all":
        return 0
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'all', got {text!r}")
    return int(text)


def parse_assignments(items: list[str], option: str) -> dict[int, Path]:
    """["1=runs/g1", "4=runs/g4"] → {1: Path("runs/g1"), 4: Path("runs/g4")}."""
    out: dict[int, Path] = {}
    for item in items:
        k, sep, folder = item.partition("=")
        if not sep or not k.strip().isdigit() or not folder:
            raise UserError(f"{option}: expected K=DIR (e.g. 1=runs/generator_k1), got {item!r}")
        if int(k) in out:
            raise UserError(f"{option}: k={int(k)} given twice")
        out[int(k)] = Path(folder)
    return out


def run(args: argparse.Namespace) -> int:
    from ..analysis.results import format_table
    from ..analysis.run import analyze, file_sha256
    from ..data import build_dataset
    from ..models.checkpoint import load_model

    model_dir = Path(args.model)
    cfg = resolve_config(args, base=model_config(model_dir))
    overrides = {path: getattr(args, dest) for dest, path in ANALYSIS_OPTIONS.items()
                 if getattr(args, dest, None) is not None}
    if "analysis.ks" in overrides:  # "--frames 1,2 4" → [[1, 2], [4]]; a config file may give [1, 2, 4]
        overrides["analysis.ks"] = [k for group in overrides["analysis.ks"]
                                    for k in (group if isinstance(group, list) else [group])]
    config_mod.apply_overrides(cfg, overrides)
    ks = sorted(set(cfg.analysis.ks))

    distributed.init(cfg.device)  # under torchrun: join the group and pin this rank's GPU before loading onto it
    model, model_meta = load_model(model_dir, cfg.device)
    num_frames = model.spec.num_frames
    for k in ks:
        check_k(k, num_frames)
    generators, gen_prov = _load_generators(parse_assignments(args.generator, "--generator"), "--generator", ks,
                                            num_frames, cfg.device, pixel=False)
    pixel, pixel_prov = _load_generators(parse_assignments(args.pixel_generator, "--pixel-generator"),
                                         "--pixel-generator", ks, num_frames, cfg.device, pixel=True)
    missing = [k for k in ks if k not in generators]
    if missing:
        print(f"motionprobe analyze: no --generator for k={','.join(map(str, missing))}: "
              "running original and uniform (replicated frames) only there", file=sys.stderr)

    dataset = build_dataset(cfg, "test", training=False)
    if list(dataset.classes) != list(model_meta["classes"]):
        raise UserError(f"--dataset: its {len(dataset.classes)} classes differ from the model's "
                        f"{len(model_meta['classes'])} (in {model_dir / 'meta.json'}); analyse the dataset the "
                        "model was trained on")
    out = out_dir(args, "runs/analysis")
    provenance = {
        "model": {"path": str(model_dir.resolve()), "sha256": file_sha256(model_dir / "model.safetensors")},
        "generators": gen_prov, "pixel_generators": pixel_prov,
        "dataset": {"name": cfg.data.dataset, "root": cfg.data.root, "split": "test", "official_split": cfg.data.split,
                    "clips_per_video": cfg.data.clips_per_video, "num_items": len(dataset),
                    # videos the annotations list but the disk lacks: left out of num_items, so say which
                    "missing": list(dataset.metadata.get("missing", []))},
    }
    results = analyze(model, dataset, out, generators=generators, pixel_generators=pixel, ks=ks,
                      candidates=cfg.analysis.candidates, seed=cfg.seed, num_frames=num_frames,
                      batch_size=cfg.analysis.batch_size, shard_size=cfg.analysis.shard_size,
                      bootstrap=cfg.analysis.bootstrap, device=cfg.device, resume=args.resume, config=cfg,
                      provenance=provenance, write_csv=not args.no_csv, progress=not args.no_progress)
    print(format_table(results))
    if results["skipped"]["count"]:
        print(f"skipped {results['skipped']['count']} clip(s) that failed to load (listed in results.json)")
    print(f"results: {out / 'results.json'}")
    return 0


def _load_generators(folders: dict[int, Path], option: str, ks: list[int], num_frames: int, device: str,
                     pixel: bool) -> tuple[dict, dict]:
    from ..analysis.run import file_sha256
    from ..generator import load_generator

    generators, provenance = {}, {}
    for k, folder in sorted(folders.items()):
        if k not in ks:
            raise UserError(f"{option} {k}={folder}: k={k} is not among --frames {','.join(map(str, ks))}")
        generator, meta = load_generator(folder, device)
        loss = meta.get("loss", "perceptual")
        if int(meta["k"]) != k:
            raise UserError(f"{option} {k}={folder}: this generator was trained for k={meta['k']}, not k={k}")
        if (loss == "pixel") != pixel:
            expected = "pixel" if pixel else "perceptual"
            raise UserError(f"{option} {k}={folder}: this generator was trained with the {loss} loss; {option} "
                            f"expects a {expected}-loss generator")
        if int(meta.get("num_frames", num_frames)) != num_frames:
            raise UserError(f"{option} {k}={folder}: generates {meta['num_frames']}-frame clips; "
                            f"the model takes {num_frames}")
        generators[k] = generator
        provenance[str(k)] = {"path": str(folder.resolve()), "sha256": file_sha256(folder / "generator.safetensors"),
                              "loss": loss}
    return generators, provenance
