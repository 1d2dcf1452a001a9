"""The whole method as plain Python calls: each takes a Config and folders, the CLI is a thin layer over them.

    from motionprobe import workflows
    from motionprobe.config import resolve

    cfg = resolve("tiny")                                   # the embedded benchmark, CPU-sized
    run = workflows.pipeline(cfg, "runs/demo")              # model, generators, analysis, report
    print(run.results.motion_bound["1"])

or stage by stage: `train_model(cfg, "runs/model")`, `train_generator("runs/model", 1, "runs/gen_k1")`,
`analyze("runs/model", "runs/analysis", generators={1: "runs/gen_k1"})`, `report("runs/analysis",
model_dir="runs/model")`. Where `cfg` is omitted, a stage uses the config its model folder was trained with.
Every stage validates its config first, so a refused option leaves nothing behind; every stage writes
atomically and can be resumed.

A stage that reads a model folder takes its clips from it: the frames, crop and resize the model was trained
with win over `cfg`'s (a tiny model analysed with the paper preset still sees 32×32 clips), with a note. A
model folder never imports code: a `model.model_factory` its config names is built only with
`trust_model_code=True` (docs/troubleshooting.md, "Security").
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import distributed
from .config import LIMITS, Config, check_generator_size, checked, from_dict, rechecked
from .errors import ConfigError, UserError
from .folders import AnalysisFolder, GeneratorFolder, ModelFolder, new_run, prepare, refuse_other_kind
from .io import json_text, make_folder, read_json
from .weights.check import check_weights_file

if TYPE_CHECKING:
    from .analysis.results_type import Results

PathLike = str | Path
Log = Callable[[str], None]


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# The data settings that make a clip what the model was trained on: its length, its crop, the resize before it.
CLIP_FIELDS = ("num_frames", "crop_size", "resize", "resize_mode")


def _config(cfg: Config | None, model_dir: PathLike | None, log: Log = _stderr) -> Config:
    """`cfg`, or the config the model folder was trained with; with the model's clips; checked (once)."""
    if model_dir is None:
        if cfg is None:
            raise ConfigError("model", "a stage without a model folder needs a config")
        return checked(cfg)
    trained = ModelFolder(model_dir).config()
    fitted = fit_clips_to_model(cfg if cfg is not None else trained, trained, model_dir, log)
    # How the model was made, not what `cfg` asks of a model: a stage records the settings it ran with.
    fitted = fitted.evolve(model=trained.model, train=trained.train)
    return rechecked(cfg, fitted) if cfg is not None else checked(fitted)


def fit_clips_to_model(cfg: Config, trained: Config, model_dir: PathLike, log: Log = _stderr) -> Config:
    """`cfg` with the clips of the model trained with `trained` (frames, crop, resize); one note if that changed it.

    >>> from motionprobe.config import preset
    >>> cfg = fit_clips_to_model(preset("paper"), preset("tiny"), "m", log=print)
    clips as the model in m was trained: 16 frames, crop 32, resize 32×32 (the config asked for crop 112, resize 128×171)
    >>> cfg.data.crop_size
    32
    """
    asked = {name: getattr(cfg.data, name) for name in CLIP_FIELDS}
    fitted = cfg.evolve(data={name: getattr(trained.data, name) for name in CLIP_FIELDS})
    changed = [name for name in CLIP_FIELDS if _same(asked[name]) != _same(getattr(fitted.data, name))]
    if changed:
        d = fitted.data
        log(f"clips as the model in {model_dir} was trained: {d.num_frames} frames, crop {d.crop_size}, resize "
            f"{_size(d.resize)} (the config asked for {', '.join(_describe(name, asked[name]) for name in changed)})")
    return fitted


def _same(value: object) -> str:
    return json_text(value) if not isinstance(value, float) or math.isfinite(value) else repr(value)


def _size(value: object) -> str:
    return "×".join(map(str, value)) if isinstance(value, (tuple, list)) else repr(value)


def _describe(name: str, value: object) -> str:
    words = {"num_frames": "frames", "crop_size": "crop", "resize": "resize", "resize_mode": "resize mode"}[name]
    return f"{words} {_size(value) if name == 'resize' else value}" if name != "num_frames" else f"{value} frames"


def _load_model(model_dir: PathLike, cfg: Config, trust_model_code: bool) -> tuple[ModelFolder, Any]:
    folder = ModelFolder(model_dir)
    model, _ = folder.load(cfg.device, trust_model_code=trust_model_code)
    return folder, model


def check_finite_logits(model: Any, dataset: Any, folder: ModelFolder, device: str) -> None:
    """Refuse a model whose logits on the first readable test clip are not finite: the argmax of NaN is class 0,
    so such a model would still score a plausible-looking accuracy (8.3% on 12 classes)."""
    import torch

    from .data import is_skipped, to_float

    for index in range(min(len(dataset), 8)):  # the first readable clip (unreadable ones are skipped later)
        item = dataset[index]
        if is_skipped(item):
            continue
        with torch.no_grad():
            logits = model(to_float(item["clip"]).unsqueeze(0).to(device))
        if not bool(torch.isfinite(logits).all()):
            raise UserError(f"{folder.weights}: the model's outputs on test clip {item['id']} are not finite "
                            "(NaN or infinity); retrain the model or take an earlier checkpoint")
        return


# What a resumed run may change: how long it runs, where its data lives, what computes it. Any other setting
# would continue one run with the settings of another (a seed of 7 on a run begun with 0).
RESUMABLE_CHANGES = ("preset", "device", "train.epochs", "train.min_steps", "generator.epochs", "generator.min_steps",
                     "data.root", "data.cache", "data.annotations", "data.truth")


def check_resume(out: PathLike, cfg: Config, sections: tuple[str, ...], left_to_run: tuple[str, ...] = ()) -> None:
    """Refuse to resume the run in `out` with other settings (in `sections`) than its config.json records.

    `left_to_run` are settings the run's own checkpoint checks, with a message of its own."""
    differs = differing_setting(Path(out), cfg, sections, left_to_run)
    if differs is not None:
        key, saved, value = differs
        raise ConfigError("resume", f"{out} holds a run with other settings (started with {key}={saved!r}, "
                                    f"not {value!r}); resume it with the settings it was started with, or "
                                    "choose another folder")


def differing_setting(folder: Path, cfg: Config, sections: tuple[str, ...],
                      ignored: tuple[str, ...] = ()) -> tuple[str, object, object] | None:
    """The first setting of `sections` (config paths such as `train.lr`) whose value in `folder`'s config.json
    differs from `cfg`'s, as (path, recorded, now); None when they agree or nothing is recorded yet. What a run may
    change (`RESUMABLE_CHANGES`) and `ignored` are not compared."""
    path = folder / "config.json"
    if not path.is_file():
        return None
    recorded = read_json(path)
    if not isinstance(recorded, dict):
        raise UserError(f"{path}: expected a JSON object of config sections, got {type(recorded).__name__}")
    saved, now = _flat(recorded), _flat(json.loads(json_text(cfg.to_dict())))
    for key, value in now.items():
        if key.split(".")[0] not in sections or key in RESUMABLE_CHANGES or key in ignored:
            continue
        if key in saved and saved[key] != value:
            return key, saved[key], value
    return None


def _flat(tree: object, prefix: str = "") -> dict[str, object]:
    if not isinstance(tree, dict):
        return {prefix[:-1]: tree} if prefix else {}
    out: dict[str, object] = {}
    for key, value in tree.items():
        out.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


def train_model(cfg: Config, out: PathLike, *, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train (or fine-tune, with `cfg.model.weights`) the video model into the model folder `out`; its metrics."""
    from .training.model import train_model as train

    checked(cfg)
    check_weights_file(cfg.model.weights)
    if resume:
        check_resume(out, cfg, ("seed", "data", "model", "train"))
    with new_run(out, "model") as folder:
        return train(cfg, folder, resume=resume, progress=progress)


def evaluate(model_dir: PathLike, cfg: Config | None = None, out: PathLike | None = None, *,
             batch_size: int | None = None, trust_model_code: bool = False, progress: bool = True) -> Any:
    """Clip accuracy, per class and confusion matrix of a model on the test split (default: its own dataset).

    Writes eval.json, per_class.csv, confusion.csv and config.json into `out` (default MODEL/eval)."""
    from .data import build_dataset
    from .evaluation import evaluate as run_evaluation
    from .evaluation import write_evaluation

    if batch_size is not None and not (isinstance(batch_size, int) and batch_size >= 1):
        raise ConfigError("batch_size", f"expected a positive integer, got {batch_size!r}")
    if batch_size is not None and batch_size > LIMITS["train.batch_size"]:
        raise ConfigError("batch_size", f"expected at most {LIMITS['train.batch_size']}, got {batch_size}")
    cfg = _config(cfg, model_dir)
    folder, model = _load_model(model_dir, cfg, trust_model_code)
    dataset = build_dataset(cfg.data, "test", training=False, seed=cfg.seed)
    folder.check_classes(dataset.classes)
    check_finite_logits(model, dataset, folder, cfg.device)
    with new_run(out if out is not None else folder.path / "eval", "evaluation") as out:
        ev = run_evaluation(model, dataset, batch_size=batch_size or cfg.train.batch_size, device=cfg.device,
                            progress=progress)
        write_evaluation(out, ev, model=str(model_dir), dataset=cfg.data.dataset, split="test")
        cfg.save(out / "config.json")
    return ev


def train_generator(model_dir: PathLike | None, k: int, out: PathLike, cfg: Config | None = None, *,
                    loss: str | None = None, resume: bool = False, trust_model_code: bool = False,
                    progress: bool = True) -> dict[str, Any]:
    """Train the temporal generator for k given frames against the model's features (or pixels), no labels.

    A perceptual generator records the sha256 of the model's weights in its meta.json: `analyze` refuses it
    for another model, and resuming it against another model is refused too."""
    from .training.generator import train_generator as train

    if model_dir is None and cfg is None:
        raise ConfigError("model", "a pixel-loss generator without a model folder needs a config")
    cfg = _config(cfg, model_dir)
    check_generator_size(cfg)
    loss = loss or cfg.generator.loss
    if resume:  # k, the loss and the model: the checkpoint itself says which (training/generator.py)
        check_resume(out, cfg, ("seed", "data", "generator"), left_to_run=("generator.loss",))
    with new_run(out, "generator") as folder:
        return train(cfg, model_dir, k, folder, loss=loss, resume=resume, trust_model_code=trust_model_code,
                     progress=progress)


def load_generators(folders: Mapping[int, PathLike], ks: list[int], num_frames: int, loss: str,
                    device: str, model: ModelFolder | None = None) -> tuple[dict[int, Any], dict[str, dict]]:
    """The generator of each k (checked for k, loss and clip length, and a perceptual one for being trained
    against `model`'s weights) and their provenance for results.json."""
    generators, provenance = {}, {}
    model_sha256 = model.sha256() if model is not None and loss == "perceptual" and folders else None
    for k, path in sorted(folders.items()):
        if k not in ks:
            raise ConfigError("analysis.ks", f"a generator is given for k={k}, which is not among the k's analysed "
                                             f"({','.join(map(str, ks))})")
        folder = GeneratorFolder(path, argument="generator" if loss == "perceptual" else "pixel_generator")
        generators[k], meta = folder.load_for(k, loss, num_frames, device, model_sha256=model_sha256)
        # The settings it was trained with: an analysis records its generators', not its own config's wishes.
        provenance[str(k)] = {**folder.provenance(), "loss": loss, "generator": asdict(folder.config().generator),
                              **({"replicates": True} if meta.get("replicates") is True else {})}
    return generators, provenance


def trained_generator_settings(cfg: Config, provenance: dict[str, dict]) -> Config:
    """`cfg` with the generator settings its perceptual generators were trained with, when they all agree (each
    generator's own are in the provenance whatever they are): what results.json records."""
    made_with = {json_text({**p["generator"], "loss": "perceptual"}) for p in provenance.values()}
    if len(made_with) != 1:
        return cfg
    return cfg.evolve(generator=from_dict({**cfg.to_dict(), "generator": json.loads(made_with.pop())}).generator)


def analyze(model_dir: PathLike, out: PathLike, cfg: Config | None = None, *,
            generators: Mapping[int, PathLike] | None = None, pixel_generators: Mapping[int, PathLike] | None = None,
            resume: bool = False, write_csv: bool = True, trust_model_code: bool = False, progress: bool = True,
            log: Log = _stderr) -> Results:
    """How much of the model's accuracy needs motion: every method per k of `cfg.analysis.ks`, into `out`.

    `generators` / `pixel_generators` map k to a generator folder; k's without one get the original and
    the replicated frames only. Returns results.json's content (a `Results`)."""
    from .analysis.run import analyze as run_analysis
    from .data import build_dataset
    from .selection import check_k

    cfg = _config(cfg, model_dir, log)
    ks = sorted(set(cfg.analysis.ks))
    distributed.init(cfg.device)  # under torchrun: join the group and pin this rank's GPU before loading onto it
    model_folder, model = _load_model(model_dir, cfg, trust_model_code)
    num_frames = model.spec.num_frames
    for k in ks:
        check_k(k, num_frames)
    gens, gen_prov = load_generators(generators or {}, ks, num_frames, "perceptual", cfg.device, model_folder)
    pixel, pixel_prov = load_generators(pixel_generators or {}, ks, num_frames, "pixel", cfg.device)
    recorded = trained_generator_settings(cfg, gen_prov)
    missing = [k for k in ks if k not in gens]
    if missing:
        log(f"analyze: no generator for k={','.join(map(str, missing))}: running the original and the uniform "
            "(replicated frames) baseline only there")
    dataset = build_dataset(cfg.data, "test", training=False, seed=cfg.seed)
    if dataset.classes:  # an unlabelled dataset is reported by the model's classes
        model_folder.check_classes(dataset.classes)
    check_finite_logits(model, dataset, model_folder, cfg.device)
    provenance = {
        "model": model_folder.provenance(), "generators": gen_prov, "pixel_generators": pixel_prov,
        "dataset": {"name": cfg.data.dataset, "root": cfg.data.root, "split": "test", "official_split": cfg.data.split,
                    "clips_per_video": cfg.data.clips_per_video, "num_items": len(dataset),
                    # videos the annotations list but the disk lacks: left out of num_items, so say which
                    "missing": list(dataset.metadata.get("missing", []))},
    }
    with new_run(out, "analysis") as folder:
        return run_analysis(model, dataset, folder, cfg.analysis, generators=gens, pixel_generators=pixel,
                            seed=cfg.seed, device=cfg.device, num_frames=num_frames,
                            classes=dataset.classes or model_folder.classes(), resume=resume,
                            config=recorded.to_dict(), provenance=provenance, write_csv=write_csv, progress=progress)


def report(analysis_dir: PathLike, *, model_dir: PathLike | None = None,
           generators: Mapping[int, PathLike] | None = None, cfg: Config | None = None, out: PathLike | None = None,
           device: str = "cpu", verbose: bool = False) -> Path:
    """Figures, pictures (with `model_dir`) and report.html for an analysis folder; returns the page's path.

    The pictures' clips come from `cfg`'s test split, by default the configuration the analysis ran with;
    `generators` defaults to the generator folders recorded in results.json."""
    from .data import build_dataset
    from .report.build import write_report

    results = AnalysisFolder(analysis_dir).results()
    # Refuse an unwritable place, or another run's folder, before drawing anything.
    if out is None or Path(out).resolve() == Path(analysis_dir).resolve():
        make_folder(analysis_dir)
    else:
        prepare(out, "report")
    dataset = None
    if model_dir is not None and cfg is not None:
        cfg = checked(cfg)
        dataset = build_dataset(cfg.data, "test", training=False, seed=cfg.seed)
    elif model_dir is not None and not results.config:
        raise UserError(f"{analysis_dir}/results.json records no configuration; give the dataset's config")
    return write_report(analysis_dir, model_dir=model_dir, generator_dirs=generators, dataset=dataset, out_dir=out,
                        device=device, verbose=verbose)


def invert(model_dir: PathLike, out: PathLike, *, layer: str, clip: int = 0, settings: Any = None,
           cfg: Config | None = None, trust_model_code: bool = False, progress: bool = True) -> tuple[Any, Any]:
    """Feature inversion of test clip `clip` at `layer` into `out`; returns (inversion, files)."""
    from .data import build_dataset, is_skipped
    from .report.inversion import InversionSettings, check_layer, invert_features, write_inversion

    cfg = _config(cfg, model_dir)
    settings = settings or InversionSettings(seed=cfg.seed)
    check_inversion(settings)
    if not (isinstance(clip, int) and not isinstance(clip, bool)):
        raise ConfigError("clip", f"expected the index of a test clip, got {clip!r}")
    _, model = _load_model(model_dir, cfg, trust_model_code)
    check_layer(model, layer)
    dataset = build_dataset(cfg.data, "test", training=False, seed=cfg.seed)
    if not 0 <= clip < len(dataset):
        raise ConfigError("clip", f"{clip} is outside the test split's clips 0..{len(dataset) - 1}")
    item = dataset[clip]
    if is_skipped(item):
        raise ConfigError("clip", f"clip {clip} ({item['id']}) cannot be loaded: {item.get('skipped')}")
    info = {"model": str(Path(model_dir).resolve()), "clip": clip, "clip_id": str(item["id"]),
            "class": dataset.classes[int(item["label"])], "steps": settings.steps, "lr": settings.lr,
            "init": settings.init, "tv_space": settings.tv_space, "tv_time": settings.tv_time, "seed": settings.seed}
    with new_run(out, "inversion") as folder:
        inversion = invert_features(model, item["clip"], layer, settings, progress=progress)
        return inversion, write_inversion(inversion, folder, info)


def check_inversion(settings: Any) -> None:
    """Refuse inversion settings the optimiser cannot mean (torch raises a bare ValueError on a NaN rate)."""
    if not (isinstance(settings.steps, int) and not isinstance(settings.steps, bool) and settings.steps >= 1):
        raise ConfigError("settings.steps", f"expected a positive number of steps, got {settings.steps!r}")
    if settings.steps > MAX_INVERSION_STEPS:
        raise ConfigError("settings.steps", f"expected at most {MAX_INVERSION_STEPS} steps, got {settings.steps}")
    if not (_finite(settings.lr) and settings.lr > 0):
        raise ConfigError("settings.lr", f"expected a positive learning rate, got {settings.lr!r}")
    for name in ("tv_space", "tv_time"):
        if not (_finite(getattr(settings, name)) and getattr(settings, name) >= 0):
            raise ConfigError(f"settings.{name}", f"expected a finite weight ≥ 0, got {getattr(settings, name)!r}")


MAX_INVERSION_STEPS = 1_000_000  # a few hours of a large model's backward passes


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# -- the whole method ----------------------------------------------------------------------------

@dataclass
class PipelineRun:
    """What `pipeline` made: the folders, results.json's content, the report and each stage's seconds."""

    model: Path
    generators: dict[int, Path]
    pixel_generators: dict[int, Path]
    analysis: Path
    report: Path
    results: Results
    timings: dict[str, float] = field(default_factory=dict)


def smoke(cfg: Config) -> Config:
    """A seconds-long run of the same stages: one epoch each, few clips, few bootstrap resamples."""
    return cfg.evolve(train={"epochs": 1, "min_steps": 0}, generator={"epochs": 1, "min_steps": 0},
                      data={"train_per_class": 6, "test_per_class": 2}, analysis={"bootstrap": 100})


# The settings each stage of a pipeline is made with (config sections), compared with a rerun's before any stage
# runs; `RESUMABLE_CHANGES` aside (how long a stage trains, where the data lives, the device). A generator's loss is
# its folder's name. An analysis' summary-only settings (the bootstrap, the target, the class floor) and its batch
# size are not compared: the table is reused and the summary computed anew with them, so what it records is true.
MODEL_STAGE = ("seed", "data", "model", "train")
GENERATOR_STAGE = ("seed", "data", "generator")
ANALYSIS_STAGE = ("seed", "data", "analysis")
SUMMARY_ONLY = ("generator.loss", "analysis.bootstrap", "analysis.target", "analysis.class_floor", "analysis.batch_size")


@dataclass
class Stage:
    """One stage folder of a pipeline: what it holds, how to compare it, and whether this run will (re)train it."""

    folder: Path
    what: str  # "model", "generator", "analysis"
    sections: tuple[str, ...]
    runs: bool  # this run trains or resumes it (a finished stage asked for the same length is reused)


def pipeline_stages(cfg: Config, out: Path, ks: list[int], model_dir: PathLike | None) -> tuple[list[Stage], Path]:
    """The stages of `pipeline` in order (the model's only when it trains one), and the model folder."""
    stages = []
    model = Path(model_dir) if model_dir is not None else out / "model"
    if model_dir is None:
        folder = ModelFolder(model)
        saved = folder.config().train if folder.is_complete() else None
        if saved is not None and (saved.epochs > cfg.train.epochs or saved.min_steps > cfg.train.min_steps):
            raise ConfigError("train.epochs", f"{model} holds a model trained for {saved.epochs} epochs (at least "
                                              f"{saved.min_steps} steps), not {cfg.train.epochs} (at least "
                                              f"{cfg.train.min_steps}); ask for at least as many or write into another "
                                              "folder")
        same_length = saved is not None and (saved.epochs, saved.min_steps) == (cfg.train.epochs, cfg.train.min_steps)
        stages.append(Stage(model, "model", MODEL_STAGE, not same_length))
    for k, loss in [(k, "perceptual") for k in ks] + ([(1, "pixel")] if 1 in ks else []):
        folder = out / f"generator_k{k}_{loss}"
        stages.append(Stage(folder, "generator", GENERATOR_STAGE, not GeneratorFolder(folder).finished_for(cfg.generator)))
    stages.append(Stage(out / "analysis", "analysis", ANALYSIS_STAGE, True))
    return stages, model


def check_stages(stages: list[Stage], cfg: Config, model: Path) -> None:
    """Refuse a rerun that would reuse or continue a stage made with other settings than `cfg`'s (naming the first
    that differs), a generator trained against another model, or a stage made from one that this run trains further
    (a model asked for more epochs under finished generators): all before any stage runs or anything is written."""
    training = None  # the first earlier stage this run trains: what is made from it is stale
    model_sha256: list[str] = []  # hashed once, when a finished generator is to be checked against it
    for stage in stages:
        differs = differing_setting(stage.folder, cfg, stage.sections, SUMMARY_ONLY)
        if differs is not None:
            key, saved, now = differs
            raise ConfigError("out", f"{stage.folder} holds a {stage.what} made with {key}={saved!r}, not {now!r}; rerun "
                                     "with the settings it was made with, or write into another folder")
        made = (stage.folder / "config.json").is_file()
        if made and training is not None and stage.what != "model":
            raise ConfigError("out", f"{stage.folder} was made from the {training.what} in {training.folder}, which this "
                                     f"run would train further; remove {stage.folder} to make it anew, or write into "
                                     "another folder")
        if stage.what == "generator" and not stage.runs and training is None:
            _check_bound_to(GeneratorFolder(stage.folder, argument="out"), model, model_sha256)
        if stage.runs and stage.what != "analysis" and training is None and (stage.what == "model" or made):
            training = stage


def _check_bound_to(generator: GeneratorFolder, model: Path, model_sha256: list[str]) -> None:
    trained_against = generator.meta().get("model_sha256")
    if not (trained_against and ModelFolder(model).is_complete()):
        return
    if not model_sha256:
        model_sha256.append(ModelFolder(model).sha256())
    if trained_against != model_sha256[0]:
        raise ConfigError("out", f"{generator.path} holds a generator trained against another model than {model} "
                                 f"(weights sha256 {trained_against[:12]}…); remove it to train it anew, or write into "
                                 "another folder")


def pipeline(cfg: Config, out: PathLike, *, model_dir: PathLike | None = None, trust_model_code: bool = False,
             log: Log = _stderr, progress: bool = True) -> PipelineRun:
    """The whole method: the video model (or `model_dir`), a perceptual generator per k of `cfg.analysis.ks`
    and a pixel one for k = 1, the analysis and the report, into `out`. Rerunning skips finished stages
    and resumes an interrupted one; `out/pipeline_config.json` records the config every stage used.

    Before any stage runs, every stage folder already there is compared with `cfg` (`check_stages`): a stage is
    reused only when all its settings match, and a refused rerun writes nothing, `pipeline_config.json` included.
    With `model_dir`, the clips are the model's (`fit_clips_to_model`), so the generators fit it too."""
    cfg = _config(cfg, model_dir, log)
    check_generator_size(cfg)
    out = Path(out)
    ks = sorted(set(cfg.analysis.ks))
    refuse_other_kind(out, "pipeline")
    stages, model = pipeline_stages(cfg, out, ks, model_dir)
    check_stages(stages, cfg, model)
    prepare(out, "pipeline")
    cfg.save(out / "pipeline_config.json")
    timings: dict[str, float] = {}

    t0 = _stage(log, "1/4 video model")
    if model_dir is not None:
        log(f"   using {model}")
    else:
        if not stages[0].runs:
            log(f"   {model} is complete; skipped")
        else:
            train_model(cfg, model, resume=(model / "train_state.safetensors").is_file(), progress=progress)
        # The factory this run was asked to build is trusted in the folder it built, not another one found there.
        factory = cfg.model.model_factory
        trust_model_code = trust_model_code or bool(factory and ModelFolder(model).config().model.model_factory == factory)
    _warn_if_weak(model, cfg.analysis.class_floor, log)
    timings["model"] = time.perf_counter() - t0

    generators: dict[int, Path] = {}
    pixel: dict[int, Path] = {}
    t0 = _stage(log, f"2/4 temporal generators for k = {', '.join(map(str, ks))} (no labels)")
    for k, loss in [(k, "perceptual") for k in ks] + ([(1, "pixel")] if 1 in ks else []):
        folder = out / f"generator_k{k}_{loss}"
        (generators if loss == "perceptual" else pixel)[k] = folder
        if GeneratorFolder(folder).finished_for(cfg.generator):
            log(f"   {folder} is complete; skipped")
            continue
        trained = train_generator(model, k, folder, cfg, loss=loss, resume=(folder / "train_state.safetensors").is_file(),
                                  trust_model_code=trust_model_code, progress=progress)
        if trained.get("replicates"):
            test = trained["holdout"]["test"]
            log(f"   k={k}: the generator did not beat replication on its held-out clips ({test['wins']} clips won, "
                f"{test['losses']} lost; p = {test['p']:.3g} over {test['states']} states); the analysis replicates "
                f"the frames at k={k}")
    timings["generators"] = time.perf_counter() - t0

    analysis = out / "analysis"
    t0 = _stage(log, "3/4 analysis: how much of the accuracy needs motion?")
    results = analyze(model, analysis, cfg, generators=generators, pixel_generators=pixel,
                      resume=AnalysisFolder(analysis).has_table(), trust_model_code=trust_model_code,
                      progress=progress, log=log)
    timings["analysis"] = time.perf_counter() - t0

    t0 = _stage(log, "4/4 report")
    page = report(analysis, model_dir=model, generators=generators, device=cfg.device, verbose=True)
    timings["report"] = time.perf_counter() - t0
    log("\n" + "  ".join(f"{name} {sec:.0f}s" for name, sec in timings.items()))
    return PipelineRun(model, generators, pixel, analysis, page, results, timings)


def _warn_if_weak(model_dir: Path, floor: float, log: Log) -> None:
    """One line before hours of generator training when the model's test accuracy says it knows little."""
    metrics = (ModelFolder(model_dir).meta().get("metrics") or {}) if (Path(model_dir) / "meta.json").is_file() else {}
    accuracy = metrics.get("test_acc")
    if accuracy is not None and accuracy < floor:
        log(f"   warning: the model gets only {100 * accuracy:.1f}% of its test clips right (below the "
            f"{100 * floor:.0f}% floor): its motion bound will not describe a model that knows the classes")


def _stage(log: Log, title: str) -> float:
    log(f"\n== {title}")
    return time.perf_counter()
