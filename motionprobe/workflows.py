"""The whole method as plain Python calls: each takes a Config and folders, the CLI is a thin layer over them.

    from motionprobe import workflows
    from motionprobe.config import resolve

    cfg = resolve("tiny")                                   # the embedded benchmark, CPU-sized
    run = workflows.pipeline(cfg, "runs/demo")              # model, generators, analysis, report
    print(run.results["motion_bound"]["1"])

or stage by stage: `train_model(cfg, "runs/model")`, `train_generator("runs/model", 1, "runs/gen_k1")`,
`analyze("runs/model", "runs/analysis", generators={1: "runs/gen_k1"})`, `report("runs/analysis",
model_dir="runs/model")`. Where `cfg` is omitted, a stage uses the config its model folder was trained with.
Every stage validates its config first, so a refused option leaves nothing behind; every stage writes
atomically and can be resumed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import distributed
from .config import Config, check_generator_size, from_dict, validate
from .errors import ConfigError, UserError
from .folders import AnalysisFolder, GeneratorFolder, ModelFolder, prepare

PathLike = str | Path
Log = Callable[[str], None]


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _config(cfg: Config | None, model_dir: PathLike) -> Config:
    """`cfg`, or the config the model folder was trained with; validated either way."""
    cfg = from_dict(cfg.to_dict()) if cfg is not None else ModelFolder(model_dir).config()
    validate(cfg)
    return cfg


def train_model(cfg: Config, out: PathLike, *, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train (or fine-tune, with `cfg.model.weights`) the video model into the model folder `out`; its metrics."""
    from .training.model import train_model as train

    validate(cfg)
    return train(cfg, prepare(out, "model"), resume=resume, progress=progress)


def evaluate(model_dir: PathLike, cfg: Config | None = None, out: PathLike | None = None, *,
             batch_size: int | None = None, progress: bool = True) -> Any:
    """Clip accuracy, per class and confusion matrix of a model on the test split (default: its own dataset).

    Writes eval.json, per_class.csv, confusion.csv and config.json into `out` (default MODEL/eval)."""
    from .data import build_dataset
    from .evaluation import evaluate as run_evaluation
    from .evaluation import write_evaluation

    folder = ModelFolder(model_dir)
    cfg = _config(cfg, model_dir)
    if batch_size is not None and batch_size < 1:
        raise ConfigError("batch_size", f"expected a positive integer, got {batch_size}")
    model, _ = folder.load(cfg.device)
    dataset = build_dataset(cfg, "test", training=False)
    folder.check_classes(dataset.classes)
    ev = run_evaluation(model, dataset, batch_size=batch_size or cfg.train.batch_size, device=cfg.device,
                        progress=progress)
    out = prepare(out if out is not None else folder.path / "eval", "evaluation")
    write_evaluation(out, ev, model=str(model_dir), dataset=cfg.data.dataset, split="test")
    cfg.save(out / "config.json")
    return ev


def train_generator(model_dir: PathLike | None, k: int, out: PathLike, cfg: Config | None = None, *,
                    loss: str | None = None, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train the temporal generator for k given frames against the model's features (or pixels), no labels."""
    from .training.generator import train_generator as train

    if model_dir is None and cfg is None:
        raise ConfigError("model", "a pixel-loss generator without a model folder needs a config")
    cfg = _config(cfg, model_dir)
    check_generator_size(cfg)
    return train(cfg, model_dir, k, prepare(out, "generator"), loss=loss or cfg.generator.loss, resume=resume,
                 progress=progress)


def load_generators(folders: Mapping[int, PathLike], ks: list[int], num_frames: int, loss: str,
                    device: str) -> tuple[dict[int, Any], dict[str, dict]]:
    """The generator of each k (checked for k, loss and clip length) and their provenance for results.json."""
    generators, provenance = {}, {}
    for k, path in sorted(folders.items()):
        if k not in ks:
            raise ConfigError("analysis.ks", f"a generator is given for k={k}, which is not among the k's analysed "
                                             f"({','.join(map(str, ks))})")
        folder = GeneratorFolder(path, argument="generator" if loss == "perceptual" else "pixel_generator")
        generators[k], _ = folder.load_for(k, loss, num_frames, device)
        provenance[str(k)] = {**folder.provenance(), "loss": loss}
    return generators, provenance


def analyze(model_dir: PathLike, out: PathLike, cfg: Config | None = None, *,
            generators: Mapping[int, PathLike] | None = None, pixel_generators: Mapping[int, PathLike] | None = None,
            resume: bool = False, write_csv: bool = True, progress: bool = True, log: Log = _stderr) -> dict[str, Any]:
    """How much of the model's accuracy needs motion: every method per k of `cfg.analysis.ks`, into `out`.

    `generators` / `pixel_generators` map k to a generator folder; k's without one get the original and
    the replicated frames only. Returns results.json's content."""
    from .analysis.run import analyze as run_analysis
    from .data import build_dataset
    from .selection import check_k

    model_folder = ModelFolder(model_dir)
    cfg = _config(cfg, model_dir)
    ks = sorted(set(cfg.analysis.ks))
    distributed.init(cfg.device)  # under torchrun: join the group and pin this rank's GPU before loading onto it
    model, _ = model_folder.load(cfg.device)
    num_frames = model.spec.num_frames
    for k in ks:
        check_k(k, num_frames)
    gens, gen_prov = load_generators(generators or {}, ks, num_frames, "perceptual", cfg.device)
    pixel, pixel_prov = load_generators(pixel_generators or {}, ks, num_frames, "pixel", cfg.device)
    missing = [k for k in ks if k not in gens]
    if missing:
        log(f"analyze: no generator for k={','.join(map(str, missing))}: running the original and the uniform "
            "(replicated frames) baseline only there")
    dataset = build_dataset(cfg, "test", training=False)
    model_folder.check_classes(dataset.classes)
    provenance = {
        "model": model_folder.provenance(), "generators": gen_prov, "pixel_generators": pixel_prov,
        "dataset": {"name": cfg.data.dataset, "root": cfg.data.root, "split": "test", "official_split": cfg.data.split,
                    "clips_per_video": cfg.data.clips_per_video, "num_items": len(dataset),
                    # videos the annotations list but the disk lacks: left out of num_items, so say which
                    "missing": list(dataset.metadata.get("missing", []))},
    }
    return run_analysis(model, dataset, prepare(out, "analysis"), generators=gens, pixel_generators=pixel, ks=ks,
                        candidates=cfg.analysis.candidates, seed=cfg.seed, num_frames=num_frames,
                        batch_size=cfg.analysis.batch_size, shard_size=cfg.analysis.shard_size,
                        bootstrap=cfg.analysis.bootstrap, device=cfg.device, resume=resume, config=cfg,
                        provenance=provenance, write_csv=write_csv, progress=progress)


def report(analysis_dir: PathLike, *, model_dir: PathLike | None = None,
           generators: Mapping[int, PathLike] | None = None, cfg: Config | None = None, out: PathLike | None = None,
           device: str = "cpu", verbose: bool = False) -> Path:
    """Figures, pictures (with `model_dir`) and report.html for an analysis folder; returns the page's path.

    The pictures' clips come from `cfg`'s test split, by default the configuration the analysis ran with;
    `generators` defaults to the generator folders recorded in results.json."""
    from .data import build_dataset
    from .report.build import write_report

    results = AnalysisFolder(analysis_dir).results()
    dataset = None
    if model_dir is not None and cfg is not None:
        validate(cfg)
        dataset = build_dataset(cfg, "test", training=False)
    elif model_dir is not None and not results.get("config"):
        raise UserError(f"{analysis_dir}/results.json records no configuration; give the dataset's config")
    return write_report(analysis_dir, model_dir=model_dir, generator_dirs=generators, dataset=dataset, out_dir=out,
                        device=device, verbose=verbose)


def invert(model_dir: PathLike, out: PathLike, *, layer: str, clip: int = 0, settings: Any = None,
           cfg: Config | None = None, progress: bool = True) -> tuple[Any, Any]:
    """Feature inversion of test clip `clip` at `layer` into `out`; returns (inversion, files)."""
    from .data import build_dataset, is_skipped
    from .report.inversion import InversionSettings, check_layer, invert_features, write_inversion

    cfg = _config(cfg, model_dir)
    settings = settings or InversionSettings(seed=cfg.seed)
    model, _ = ModelFolder(model_dir).load(cfg.device)
    check_layer(model, layer)
    dataset = build_dataset(cfg, "test", training=False)
    if not 0 <= clip < len(dataset):
        raise ConfigError("clip", f"{clip} is outside the test split's clips 0..{len(dataset) - 1}")
    item = dataset[clip]
    if is_skipped(item):
        raise ConfigError("clip", f"clip {clip} ({item['id']}) cannot be loaded: {item.get('skipped')}")
    inversion = invert_features(model, item["clip"], layer, settings, progress=progress)
    info = {"model": str(Path(model_dir).resolve()), "clip": clip, "clip_id": str(item["id"]),
            "class": dataset.classes[int(item["label"])], "steps": settings.steps, "lr": settings.lr,
            "init": settings.init, "tv_space": settings.tv_space, "tv_time": settings.tv_time, "seed": settings.seed}
    return inversion, write_inversion(inversion, prepare(out, "inversion"), info)


# -- the whole method ----------------------------------------------------------------------------

@dataclass
class PipelineRun:
    """What `pipeline` made: the folders, results.json's content, the report and each stage's seconds."""

    model: Path
    generators: dict[int, Path]
    pixel_generators: dict[int, Path]
    analysis: Path
    report: Path
    results: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


def smoke(cfg: Config) -> Config:
    """A seconds-long run of the same stages: one epoch each, few clips, few bootstrap resamples."""
    cfg.train.epochs = cfg.generator.epochs = 1
    cfg.data.train_per_class, cfg.data.test_per_class = 6, 2
    cfg.analysis.bootstrap = 100
    return cfg


def pipeline(cfg: Config, out: PathLike, *, model_dir: PathLike | None = None, log: Log = _stderr,
             progress: bool = True) -> PipelineRun:
    """The whole method: the video model (or `model_dir`), a perceptual generator per k of `cfg.analysis.ks`
    and a pixel one for k = 1, the analysis and the report, into `out`. Rerunning skips finished stages
    and resumes an interrupted one; `out/pipeline_config.json` records the config every stage used."""
    validate(cfg)
    check_generator_size(cfg)
    out = Path(out)
    ks = sorted(set(cfg.analysis.ks))
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / "pipeline_config.json")
    timings: dict[str, float] = {}

    t0 = _stage(log, "1/4 video model")
    if model_dir is not None:
        model = Path(model_dir)
        log(f"   using {model}")
    else:
        model = out / "model"
        if ModelFolder(model).epochs_done() == cfg.train.epochs:
            log(f"   {model} is complete; skipped")
        else:
            train_model(cfg, model, resume=(model / "train_state.safetensors").is_file(), progress=progress)
    timings["model"] = time.perf_counter() - t0

    generators: dict[int, Path] = {}
    pixel: dict[int, Path] = {}
    t0 = _stage(log, f"2/4 temporal generators for k = {', '.join(map(str, ks))} (no labels)")
    for k, loss in [(k, "perceptual") for k in ks] + ([(1, "pixel")] if 1 in ks else []):
        folder = out / f"generator_k{k}_{loss}"
        (generators if loss == "perceptual" else pixel)[k] = folder
        if GeneratorFolder(folder).epochs_done() == cfg.generator.epochs:
            log(f"   {folder} is complete; skipped")
            continue
        train_generator(model, k, folder, cfg, loss=loss, resume=(folder / "train_state.safetensors").is_file(),
                        progress=progress)
    timings["generators"] = time.perf_counter() - t0

    analysis = out / "analysis"
    t0 = _stage(log, "3/4 analysis: how much of the accuracy needs motion?")
    results = analyze(model, analysis, cfg, generators=generators, pixel_generators=pixel,
                      resume=AnalysisFolder(analysis).has_table(), progress=progress, log=log)
    timings["analysis"] = time.perf_counter() - t0

    t0 = _stage(log, "4/4 report")
    page = report(analysis, model_dir=model, generators=generators, device=cfg.device, verbose=True)
    timings["report"] = time.perf_counter() - t0
    log("\n" + "  ".join(f"{name} {sec:.0f}s" for name, sec in timings.items()))
    return PipelineRun(model, generators, pixel, analysis, page, results, timings)


def _stage(log: Log, title: str) -> float:
    log(f"\n== {title}")
    return time.perf_counter()
