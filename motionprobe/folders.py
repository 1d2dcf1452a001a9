"""Run folders: the one place that knows what a model, generator or analysis folder holds.

Every run writes a self-describing folder, each file atomically, the marker of completion last:

    model       model.safetensors, config.json (the resolved Config), meta.json (classes, preprocessing,
                spec, metrics; written last), train_state.* while training, log.csv, eval.json, ...
    generator   generator.safetensors, config.json, meta.json (k, loss, the model it was trained on, ...)
    analysis    table/ (shards of the candidate table), results.json (written last), CSVs, report.html

A folder is complete when its meta.json (or results.json) exists. Writing one kind of run into a folder
that holds another kind is refused, so a mistyped output folder cannot overwrite a model.

>>> ModelFolder("runs/model").weights.name
'model.safetensors'
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from . import config as config_mod
from .errors import ConfigError, UserError
from .io import code_version, load_tensors, read_json, write_checkpoint

KINDS = ("model", "generator", "analysis")


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file, read in blocks (weights can be hundreds of MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def kind_of(path: str | Path) -> str | None:
    """Which kind of run a folder holds ("model", "generator", "analysis"), or None (empty, absent, other)."""
    path = Path(path)
    if (path / GeneratorFolder.WEIGHTS).is_file():
        return "generator"
    if (path / ModelFolder.WEIGHTS).is_file():
        return "model"
    if (path / AnalysisFolder.RESULTS).is_file() or (path / AnalysisFolder.TABLE / "plan.json").is_file():
        return "analysis"
    return None


def prepare(path: str | Path, kind: str, argument: str = "out") -> Path:
    """Create `path` for a run of `kind`; refuse a file, or a folder that holds another kind of run.

    `argument` is the workflow argument the path came from (the CLI names its flag in the message).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(argument, f"{path} exists and is not a folder")
    found = kind_of(path)
    if found not in (None, kind):
        raise ConfigError(argument, f"{path} holds a {found} run; write the {kind} into another folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


class _RunFolder:
    """What model and generator folders share: config.json + meta.json beside a safetensors file."""

    WEIGHTS = ""
    KIND = ""

    def __init__(self, path: str | Path, argument: str | None = None):
        self.path = Path(path)
        self.argument = argument or self.KIND  # the workflow argument the folder came from, named in errors

    def _error(self, message: str) -> ConfigError:
        return ConfigError(self.argument, f"{self.path} {message}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    @property
    def weights(self) -> Path:
        return self.path / self.WEIGHTS

    def is_complete(self) -> bool:
        return (self.path / "meta.json").is_file() and self.weights.is_file()

    def require(self) -> None:
        if not self.is_complete():
            raise self._error(f"is not a trained {self.KIND} folder (no meta.json or {self.WEIGHTS})")

    def config(self) -> config_mod.Config:
        """The resolved config the run was made with."""
        if not (self.path / "config.json").is_file():
            raise self._error(f"is not a trained {self.KIND} folder (no config.json)")
        return config_mod.from_dict(read_json(self.path / "config.json"))

    def meta(self) -> dict[str, Any]:
        self.require()
        meta = read_json(self.path / "meta.json")
        if not isinstance(meta, dict):
            raise UserError(f"{self.path / 'meta.json'}: expected a JSON object")
        return meta

    def epochs_done(self) -> int | None:
        """Epochs a finished run was trained for (None while it is not complete)."""
        if not (self.path / "meta.json").is_file():
            return None
        info = read_json(self.path / "meta.json")
        return info.get("epochs_done", (info.get("metrics") or {}).get("epochs"))

    def sha256(self) -> str:
        return file_sha256(self.weights)

    def provenance(self) -> dict[str, str]:
        return {"path": str(self.path.resolve()), "sha256": self.sha256()}


class ModelFolder(_RunFolder):
    """A trained video model: `load()` rebuilds it from the registry, its weights and its preprocessing."""

    WEIGHTS = "model.safetensors"
    KIND = "model"

    def classes(self) -> list[str]:
        return list(self.meta()["classes"])

    def save(self, model: Any, cfg: config_mod.Config, classes: Sequence[str], **meta: Any) -> None:
        """Write the folder, meta.json last; a Hugging Face model's architecture config goes into meta.json."""
        from .models.registry import network_record

        info = {"classes": list(classes), "preprocessing": model.preprocessing.to_dict(),
                "spec": asdict(model.spec), "code_version": code_version(), **network_record(model), **meta}
        write_checkpoint(self.path, model.net.state_dict(), cfg.to_dict(), info)

    def load(self, device: str | torch.device = "cpu", *, trust_model_code: bool = False) -> tuple[Any, dict[str, Any]]:
        """The model in eval mode on `device`, and its meta.json. A model factory named by the saved config is
        imported only with `trust_model_code`."""
        from .models import ModelSpec, Preprocessing
        from .models.registry import rebuild_model
        from .models.state_dict import load_state_strict

        meta = self.meta()
        model = rebuild_model(self.config(), len(meta["classes"]), meta, trust_model_code=trust_model_code)
        load_state_strict(model.net, load_tensors(self.weights), str(self.weights))
        model.set_preprocessing(Preprocessing.from_dict(meta["preprocessing"]))
        spec = dict(meta.get("spec", {}))
        for key in ("input_size", "perceptual_layers"):
            if key in spec:
                spec[key] = tuple(spec[key])
        model.spec = ModelSpec(**spec)
        return model.to(device).eval(), meta

    def check_classes(self, classes: Sequence[str], argument: str = "data.dataset") -> None:
        """Refuse a dataset (or analysis) whose classes are not the model's, in the same order."""
        own = self.classes()
        if list(classes) != own:
            raise ConfigError(argument, f"its {len(classes)} classes differ from the {len(own)} the model in "
                                        f"{self.path} was trained on; use the dataset the model was trained on")


class GeneratorFolder(_RunFolder):
    """A trained temporal generator for one k: `load()` rebuilds it from its config and weights."""

    WEIGHTS = "generator.safetensors"
    KIND = "generator"

    def load(self, device: str | torch.device = "cpu") -> tuple[Any, dict[str, Any]]:
        """The generator in eval mode on `device`, and its meta.json."""
        from .generator import build_generator
        from .models.state_dict import load_state_strict

        meta = self.meta()
        if "k" not in meta:
            raise self._error("has a meta.json that does not say which k the generator takes")
        generator = build_generator(int(meta["k"]), self.config())
        load_state_strict(generator, load_tensors(self.weights), str(self.weights))
        return generator.to(device).eval(), meta

    def load_for(self, k: int, loss: str, num_frames: int, device: str | torch.device = "cpu") -> tuple[Any, dict]:
        """Load, refusing a generator made for another k, loss or clip length than asked for."""
        generator, meta = self.load(device)
        trained_loss = meta.get("loss", "perceptual")
        if int(meta["k"]) != k:
            raise self._error(f"holds a generator trained for k={meta['k']}, not k={k}")
        if trained_loss != loss:
            raise self._error(f"holds a generator trained with the {trained_loss} loss, not the {loss} loss")
        if int(meta.get("num_frames", num_frames)) != num_frames:
            raise self._error(f"holds a generator of {meta['num_frames']}-frame clips; the model takes {num_frames}")
        return generator, meta

    def save(self, generator: Any, cfg: config_mod.Config, **meta: Any) -> None:
        """Write the folder atomically, file by file, meta.json last. `meta` adds e.g. loss, model, metrics."""
        info = {"k": generator.k, "num_frames": generator.num_frames, "use_indices": generator.use_indices,
                "code_version": code_version(), **meta}
        write_checkpoint(self.path, generator.state_dict(), cfg.to_dict(), info, weights_name=self.WEIGHTS)


class AnalysisFolder:
    """An analysis: the candidate table, results.json and the files derived from it."""

    RESULTS = "results.json"
    TABLE = "table"

    def __init__(self, path: str | Path, argument: str = "analysis"):
        self.path, self.argument = Path(path), argument

    def __repr__(self) -> str:
        return f"AnalysisFolder({str(self.path)!r})"

    def has_table(self) -> bool:
        return (self.path / self.TABLE).is_dir()

    def is_complete(self) -> bool:
        return (self.path / self.RESULTS).is_file()

    def results(self) -> dict[str, Any]:
        """results.json, checked to be a motionprobe results file."""
        from .analysis.results import SCHEMA

        path = self.path / self.RESULTS
        if not path.is_file():
            raise ConfigError(self.argument, f"{self.path} holds no results.json; run the analysis into it first")
        results = read_json(path)
        if not isinstance(results, dict) or results.get("schema") != SCHEMA:
            raise ConfigError(self.argument, f"{path} is not a motionprobe results file (expected schema {SCHEMA!r})")
        return results
