"""`analyze`: the whole analysis from Python — engine, selectors, statistics, output files.

Worked example with a known answer: a "model" that calls a clip `moving` when its frames differ, two still
and two moving clips, and replication as the k = 1 generator. On all 16 frames every clip is right; one
frame replicated 16 times is still, so the moving clips are lost: half the accuracy needs motion.

>>> import tempfile, torch
>>> from motionprobe.config import AnalysisConfig
>>> from motionprobe.generator import Replicate
>>> class Clips(list):
...     classes = ["still", "moving"]
>>> still, moving = torch.rand(3, 1, 8, 8).expand(3, 16, 8, 8), torch.rand(3, 16, 8, 8)
>>> clips = Clips({"id": f"clip{i}", "label": int(c is moving), "clip": c}
...               for i, c in enumerate([still, moving, still, moving]))
>>> def motion_detector(x):                       # (B, 3, T, H, W) in [0, 1] → logits (still, moving)
...     motion = (x[:, :, 1:] - x[:, :, :-1]).abs().mean((1, 2, 3, 4))
...     return torch.stack([0.1 - motion, motion - 0.1], 1)
>>> results = analyze(motion_detector, clips, tempfile.mkdtemp(), AnalysisConfig(ks=(1,), bootstrap=100),
...                   generators={1: Replicate(1)}, progress=False)
>>> acc = results.accuracy
>>> acc.original.value, acc.at("uniform", 1).value, acc.at("full", 1).value
(1.0, 0.5, 0.5)
>>> results.motion_bound["1"].value     # original − full
0.5
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import distributed
from ..config import TARGET_CHOICES, AnalysisConfig, default_ks
from ..errors import ConfigError, UserError
from ..io import atomic_write_json, code_version, json_text, read_json
from ..probes import PROBE, check_probes, variants
from ..selection import candidates as candidate_pool
from .card import make_card
from .engine import Generator, Model, Plan, fingerprint_object, open_table, run_engine
from .outcomes import collect_outcomes
from .perclip import PerClip
from .results import write_per_class_csv, write_per_clip_csv, write_results
from .results_type import SCHEMA, Results
from .stats import CI_LEVEL
from .summary import summarize
from .table import TABLE_DIR, read_past_end, write_csv_gz
from .temporal import temporal_blocks

FILES = {"per_class": "per_class.csv", "per_clip": "per_clip.csv", "table": TABLE_DIR,
         "candidates_csv": "candidates.csv.gz", "config": "config.json"}


def dataset_identity(dataset: Any) -> dict[str, Any]:
    """What identifies the clips analysed: their ids (hashed), count and the dataset's metadata."""
    ids = list(getattr(dataset, "ids", []))
    metadata = getattr(dataset, "metadata", {}) or {}
    return {"name": metadata.get("dataset"), "split": metadata.get("split"), "num_items": len(dataset),
            "ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest(),
            "metadata_sha256": hashlib.sha256(json.dumps(metadata, sort_keys=True, default=str).encode()).hexdigest()}


# Data settings that cannot change a number of the analysis: where the files live (a moved dataset is the same
# data; its clip ids are compared), a frame cache (used only for entries decoded with this resize, else the video is
# decoded), and the training split's own settings (an analysis reads the test split alone).
NOT_IN_THE_CLIPS = ("root", "cache", "annotations", "hflip", "train_per_class")


def clip_settings(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """The data settings that make the analysed clips what they are (frames, stride, crop, resize, short-video
    policy, clips per video, split, ...): a resumed analysis must have the same, or its shards would mix clips of
    two settings."""
    if config is None:
        return None
    return {name: value for name, value in config["data"].items() if name not in NOT_IN_THE_CLIPS}


def _model_identity(model: Model) -> str:
    ident = fingerprint_object(model)
    prep = getattr(model, "preprocessing", None)
    if prep is not None and hasattr(prep, "to_dict"):  # normalization changes outputs as much as weights do
        ident += ":" + hashlib.sha256(json.dumps(prep.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
    return ident


def analyze(model: Model, dataset: Any, out: str | Path, settings: AnalysisConfig | None = None, *,
            generators: dict[int, Generator] | None = None, pixel_generators: dict[int, Generator] | None = None,
            seed: int = 0, device: str | torch.device = "cpu", num_frames: int | None = None,
            classes: Sequence[str] | None = None, level: float = CI_LEVEL, resume: bool = False,
            config: dict[str, Any] | None = None, provenance: dict[str, Any] | None = None, write_csv: bool = True,
            progress: bool = True) -> Results:
    """Run the analysis into `out` and return results.json's content (a `Results`).

    `model` maps (B, 3, T, H, W) clips in [0, 1] to logits; `generators`/`pixel_generators` map k to a
    callable (frames (B, 3, k, H, W), indices (B, k)) → (B, 3, T, H, W). k's without a generator get the
    replicated-frame methods only. `settings` is the config's analysis section (default: its defaults, with
    the k's of the clip length): the k's, the pools' sizes (`candidates` is the generated pool's, seeded, or
    "all"; `replicate_candidates` the replicated pool's: a replicated candidate costs a model forward but no
    generator), the temporal probes (motionprobe/probes.py), the bootstrap, the target ("label", "prediction":
    agreement with the model's prediction on the original clip, no label needed; "both"; "auto": labels where
    the dataset has them) and the class floor. `classes` default to the dataset's (to the model's for an
    unlabelled dataset, given here). `config` is the resolved config as a dict, recorded in results.json and
    config.json; its data section enters the fingerprint a resumed analysis is compared by.
    """
    started = _now()
    out = Path(out)
    world = distributed.init(device)  # a no-op unless launched by torchrun; pins this rank's GPU first
    generators, pixel_generators = dict(generators or {}), dict(pixel_generators or {})
    if num_frames is None:
        num_frames = getattr(getattr(model, "spec", None), "num_frames", 16)
    settings = settings or AnalysisConfig()
    settings = replace(settings, ks=tuple(sorted(set(int(k) for k in settings.ks or default_ks(num_frames)))),
                       probes=check_probes(tuple(settings.probes)))
    for net in [model, *generators.values(), *pixel_generators.values()]:
        if isinstance(net, nn.Module):
            net.to(device)
    plan = plan_analysis(model, dataset, generators, pixel_generators, settings, seed, num_frames, config, device)
    labelled = bool(list(getattr(dataset, "classes", []))) and (getattr(dataset, "metadata", {}) or {}).get("labelled", True)
    targets = resolve_targets(settings.target, labelled)
    classes = list(classes if classes is not None else dataset.classes)
    if not classes:
        raise ConfigError("classes", "an unlabelled dataset needs the model's class names to report by class")

    # Under torchrun rank r evaluates shards r, r + N, ... and rank 0 alone writes the shared files: the
    # table is the same whoever computed each shard, so results.json is the single-process one.
    distributed.run_on_main(lambda: _prepare(out, plan, resume, config))
    table_dir = run_engine(model, dataset, out, plan, generators, pixel_generators, batch_size=settings.batch_size,
                           device=device, resume=True, shards=distributed.owned_shards(plan.num_shards, world),
                           progress=progress and world.is_main, seed=seed)
    distributed.barrier()  # every shard is on disk before rank 0 reads the table
    record = _Record(config, provenance, seed, level, write_csv, started)
    results = distributed.run_on_main(lambda: _summarize(out, table_dir, plan, dataset, classes, targets, settings,
                                                         num_frames, record))
    return results if world.is_main else Results.from_json(read_json(out / "results.json"))


def plan_analysis(model: Model, dataset: Any, generators: dict[int, Generator],
                  pixel_generators: dict[int, Generator], settings: AnalysisConfig, seed: int, num_frames: int,
                  config: dict[str, Any] | None, device: str | torch.device) -> Plan:
    """The engine's plan: the candidate pools, the probes, the shards, and the identity a resume is compared by."""
    identity = {"model": _model_identity(model),
                "generators": {str(k): fingerprint_object(g) for k, g in sorted(generators.items())},
                "pixel_generators": {str(k): fingerprint_object(g) for k, g in sorted(pixel_generators.items())},
                "dataset": dataset_identity(dataset), "seed": seed, "candidates": str(settings.candidates),
                "replicate_candidates": str(settings.replicate_candidates), "data": clip_settings(config),
                "precision": "bfloat16" if torch.device(device).type == "cuda" else "float32"}
    if any(PROBE[name].read > 1 for name in settings.probes):  # reads at other strides depend on the video's sampling
        identity["video_reads"] = read_identity(dataset)
    ks = list(settings.ks)
    return Plan.build(num_frames=num_frames, ks=ks,
                      pools={k: candidate_pool(k, settings.candidates, num_frames, seed) for k in ks},
                      replicate_pools={k: candidate_pool(k, settings.replicate_candidates, num_frames, seed) for k in ks},
                      generator_ks=sorted(generators), pixel_ks=sorted(pixel_generators), num_clips=len(dataset),
                      shard_size=settings.shard_size,
                      probes=[(name, variants(name, settings.probe_draws)) for name in settings.probes],
                      identity=identity)


def _prepare(out: Path, plan: Plan, resume: bool, config: dict[str, Any] | None) -> None:
    open_table(out, plan, resume)  # refuses a folder holding another analysis before anything is written
    if config is not None:
        atomic_write_json(out / FILES["config"], config)


@dataclass(frozen=True)
class _Record:
    """What results.json records beside the statistics."""

    config: dict[str, Any] | None
    provenance: dict[str, Any] | None
    seed: int
    level: float
    write_csv: bool
    started: str


def _summarize(out: Path, table_dir: Path, plan: Plan, dataset: Any, classes: list[str], targets: tuple[str, ...],
               settings: AnalysisConfig, num_frames: int, record: _Record) -> Results:
    """Read the table, summarise it against each target, and write results.json and the CSVs."""
    kinds = (getattr(dataset, "metadata", {}) or {}).get("kinds")
    seed, level, bootstrap = record.seed, record.level, settings.bootstrap
    summaries = {}
    past_end = read_past_end(table_dir, plan.num_shards)
    for name in targets:
        outcomes = collect_outcomes(table_dir, plan, seed, target=name)
        refuse_no_clips(outcomes, out)
        summaries[name] = summarize(outcomes, classes, plan, kinds=kinds, n_boot=bootstrap, seed=seed, level=level,
                                    target=name, class_floor=settings.class_floor)
        summaries[name].update(temporal_blocks(outcomes, classes, kinds, summaries[name], plan.probe_names,
                                               past_end, bootstrap, seed, level))
        if name == targets[0]:
            primary = outcomes
    outcomes = primary
    results: dict[str, Any] = {"schema": SCHEMA, "classes": classes}
    results.update(summaries[targets[0]])
    if len(targets) > 1:
        results["agreement"] = summaries[targets[1]]
    results["skipped"] = {"count": len(outcomes.skipped),
                          "items": [{"id": i, "reason": r} for i, r in outcomes.skipped]}
    files = dict(FILES)
    if not record.write_csv:
        files.pop("candidates_csv")
    if record.config is None:
        files.pop("config")
    results["files"] = files
    results["config"] = record.config
    results["provenance"] = {**(record.provenance or {}), "identity": plan.identity, "seed": seed,
                             "code_version": code_version(), "torch": torch.__version__, "numpy": np.__version__,
                             "python": platform.python_version(), "fingerprint": plan.fingerprint()}
    results["card"] = make_card(results, PerClip.from_outcomes(outcomes), bootstrap, level)
    typed = Results.from_json(json.loads(json_text(results)))  # as the file will hold it: lists, not tuples

    write_per_class_csv(out / FILES["per_class"], typed)
    write_per_clip_csv(out / FILES["per_clip"], outcomes, classes, num_frames)
    if record.write_csv:
        write_csv_gz(table_dir, plan.num_shards, out / FILES["candidates_csv"], num_frames, plan.probe_names)
    typed = replace(typed, timestamps={"started": record.started, "finished": _now()})
    write_results(out / "results.json", typed)
    return typed


def refuse_no_clips(outcomes: Any, out: Path) -> None:
    """An analysis of no readable clip has nothing to report (every accuracy would be 0 of 0)."""
    if len(outcomes.ids) == 0:
        first = f"; the first: {outcomes.skipped[0][0]}: {outcomes.skipped[0][1]}" if outcomes.skipped else ""
        raise UserError(f"{out}: none of the {len(outcomes.skipped)} test clip(s) could be read, so there is nothing "
                        f"to analyse{first}")


def read_identity(dataset: Any) -> dict[str, Any]:
    """What a read of the video at a multiple of the clip's stride depends on beyond the clips: the sampling
    (stride, short-video policy) of a video dataset, or the class that draws the reads."""
    sampling = getattr(dataset, "sampling", None)
    if sampling is not None:
        return {"stride": getattr(sampling, "stride", None), "policy": getattr(sampling, "policy", None)}
    return {"reader": f"{type(dataset).__module__}.{type(dataset).__qualname__}"}


def resolve_targets(target: str, labelled: bool) -> tuple[str, ...]:
    """The targets an analysis scores against, the first one headlining results.json.

    >>> resolve_targets("auto", True), resolve_targets("auto", False), resolve_targets("both", True)
    (('label',), ('prediction',), ('label', 'prediction'))
    """
    if target not in TARGET_CHOICES:
        raise ConfigError("analysis.target", f"expected auto, label, prediction or both, got {target!r}")
    if target in ("label", "both") and not labelled:
        raise ConfigError("analysis.target", "this dataset has no labels; score against the model's prediction")
    if target == "auto":
        return ("label",) if labelled else ("prediction",)
    return ("label", "prediction") if target == "both" else (target,)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
