"""Run folders: the one place that knows what a model, generator or analysis folder holds.

Every run writes a self-describing folder, each file atomically, the marker of completion last:

    model       model.safetensors, config.json (the resolved Config), meta.json (classes, preprocessing,
                spec, metrics; written last), train_state.* while training, log.csv, eval.json, ...
    generator   generator.safetensors, config.json, meta.json (k, loss, the model it was trained on, ...)
    analysis    table/ (shards of the candidate table), results.json (written last), CSVs, report.html

A model or generator folder is complete when its meta.json says so (`complete`: training reached the epochs
it planned; meta.json is rewritten after every epoch, so its presence alone says only that one epoch ended);
an analysis when its results.json exists. Every verb that writes a folder says which kind it writes, and a
folder that holds another kind (`kind_of`: a model, generator, analysis, pipeline, evaluation, inversion,
benchmark export, frame cache, dataset summary or report) is refused, so a mistyped output folder cannot
overwrite a model's config.json or a dataset's lists.

>>> ModelFolder("runs/model").weights.name
'model.safetensors'
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from . import config as config_mod
from .errors import ConfigError, UserError
from .io import code_version, load_tensors, make_folder, read_json, write_checkpoint

if TYPE_CHECKING:
    from .analysis.results_type import Results

# Each kind of folder a verb writes and the file that marks it (the first match wins: a model folder holds an
# eval.json too).
MARKERS = (("generator", "generator.safetensors"), ("model", "model.safetensors"), ("analysis", "results.json"),
           ("analysis", "table/plan.json"), ("pipeline", "pipeline_config.json"), ("evaluation", "eval.json"),
           ("inversion", "inversion.json"), ("export", "truth.json"), ("cache", "index.json"),
           ("info", "info.json"), ("report", "report.html"))
# How a refusal names a folder of each kind, and what a verb writing one is called where the kind's name won't do.
HELD = {"model": "a model run", "generator": "a generator run", "analysis": "an analysis run",
        "pipeline": "a pipeline run", "evaluation": "an evaluation", "inversion": "a feature inversion",
        "export": "an export of the benchmark", "cache": "a frame cache", "info": "a dataset summary",
        "report": "a report"}
WRITTEN = {"export": "export", "cache": "frame cache", "info": "dataset summary"}
KINDS = tuple(HELD)


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file, read in blocks (weights can be hundreds of MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def kind_of(path: str | Path) -> str | None:
    """Which kind of run a folder holds (one of `KINDS`), or None (empty, absent, or nothing motionprobe writes).

    >>> kind_of("no/such/folder") is None
    True
    """
    path = Path(path)
    return next((kind for kind, marker in MARKERS if (path / marker).is_file()), None)


def refuse_other_kind(path: str | Path, kind: str, argument: str = "out") -> None:
    """Refuse a file at `path`, or a folder that holds another kind of run than `kind` (nothing is written)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(argument, f"{path} exists and is not a folder")
    found = kind_of(path)
    if found not in (None, kind):
        raise ConfigError(argument, f"{path} holds {HELD[found]}; write the {WRITTEN.get(kind, kind)} into another "
                                    "folder")


def prepare(path: str | Path, kind: str, argument: str = "out") -> Path:
    """Create `path` for a run of `kind`; refuse a file, or a folder that holds another kind of run.

    `argument` is the workflow argument the path came from (the CLI names its flag in the message).
    """
    refuse_other_kind(path, kind, argument)
    return make_folder(path)


@contextmanager
def new_run(path: str | Path, kind: str, argument: str = "out") -> Iterator[Path]:
    """`prepare(path, kind)` for the length of a run: a run that stops before writing anything (a refused
    option, a bad weights file, Ctrl-C) leaves no empty folder behind. Only folders this call created and
    that are still empty are removed, so nothing written is ever lost."""
    path = Path(path)
    top = path  # the outermost folder that does not exist yet: everything below it is this run's
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    created = not top.exists()
    folder = prepare(path, kind, argument)
    try:
        yield folder
    except BaseException:
        if created:
            _remove_empty_folders(top)
        raise


def _remove_empty_folders(top: Path) -> None:
    for folder, _, _ in os.walk(top, topdown=False):
        try:
            os.rmdir(folder)  # refuses a folder that holds anything
        except OSError:
            pass


def holds_resumable_run(path: str | Path) -> bool:
    """Whether `path`, or a stage folder directly inside it (a pipeline's), holds work a rerun continues from:
    a training checkpoint or an analysis table's plan."""
    from .training.state import STATE_TENSORS

    path = Path(path)
    try:
        folders = [path, *(p for p in path.iterdir() if p.is_dir())] if path.is_dir() else []
    except OSError:  # unreadable: nothing a rerun could continue from either
        return False
    return any((f / STATE_TENSORS).is_file() or (f / AnalysisFolder.TABLE / "plan.json").is_file() for f in folders)


class _RunFolder:
    """What model and generator folders share: config.json + meta.json beside a safetensors file."""

    WEIGHTS = ""
    KIND = ""

    def __init__(self, path: str | Path, argument: str | None = None):
        self.path = Path(path)
        self.argument = argument or self.KIND  # the workflow argument the folder came from, named in errors

    def _error(self, message: str, *mentions: str) -> ConfigError:
        return ConfigError(self.argument, f"{self.path} {message}", *mentions)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    @property
    def weights(self) -> Path:
        return self.path / self.WEIGHTS

    VERB = ""  # the verb that trains this kind of folder, named in how to finish one

    def is_complete(self) -> bool:
        """Whether the folder holds a finished run: its weights, and a meta.json that does not say training stopped
        early (meta.json is rewritten after every epoch, so its presence alone is not enough)."""
        return (self.path / "meta.json").is_file() and self.weights.is_file() and self.stopped_early() is None

    def stopped_early(self) -> tuple[int | None, int | None] | None:
        """(epochs done, epochs planned) when the folder's training stopped before the end it planned (a Ctrl-C, a
        kill); None when it finished, or when the folder was made without training (published weights).

        meta.json says `complete`, and the epochs done and planned."""
        info = self._raw_meta()
        if info is None or info.get("complete") is True:
            return None
        done, planned = self._epochs(info)
        if info.get("complete") is False or (done is not None and planned is not None and done < planned):
            return done, planned
        return None

    def _raw_meta(self) -> dict[str, Any] | None:
        path = self.path / "meta.json"
        if not path.is_file():
            return None
        info = read_json(path)
        return info if isinstance(info, dict) else None  # not a run of ours: loading it names the file

    def _epochs(self, info: dict[str, Any]) -> tuple[int | None, int | None]:
        """(epochs done, epochs planned) as a meta.json of this kind records them."""
        return None, None

    def require(self, allow_incomplete: bool = False) -> None:
        """Refuse a folder without weights and meta.json, or (unless `allow_incomplete`: to look at a checkpoint)
        one whose training stopped before its end."""
        if not ((self.path / "meta.json").is_file() and self.weights.is_file()):
            raise self._error(f"is not a trained {self.KIND} folder (no meta.json or {self.WEIGHTS})")
        stopped = None if allow_incomplete else self.stopped_early()
        if stopped is not None:
            done, planned = (v if v is not None else "?" for v in stopped)
            raise self._error(f"holds a {self.KIND} whose training stopped after epoch {done} of {planned}; finish it "
                              f"first: rerun {self.VERB} into it with {{resume}} and the settings it was started with",
                              "resume")

    def config(self) -> config_mod.Config:
        """The resolved config the run was made with."""
        path = self.path / "config.json"
        if not path.is_file():
            raise self._error(f"is not a trained {self.KIND} folder (no config.json)")
        saved = read_json(path)
        if not isinstance(saved, dict):
            raise UserError(f"{path}: expected a JSON object of config sections, got {type(saved).__name__}")
        try:
            return config_mod.from_dict(saved)
        except ConfigError as e:  # a hand-edited or foreign file: name it, not only the config path inside it
            raise UserError(f"{path}: {e}") from None

    def meta(self, allow_incomplete: bool = False) -> dict[str, Any]:
        """meta.json, checked to hold what loading the folder reads from it."""
        self.require(allow_incomplete)
        path = self.path / "meta.json"
        meta = read_json(path)
        if not isinstance(meta, dict):
            raise UserError(f"{path}: expected a JSON object, got {type(meta).__name__}")
        problem = self._meta_problem(meta)
        if problem:
            raise UserError(f"{path}: {problem}")
        return meta

    def _meta_problem(self, meta: dict[str, Any]) -> str | None:

        """What is wrong with a meta.json of this kind of folder (None: nothing)."""
        return None

    def epochs_done(self) -> int | None:
        """Epochs the run has trained (None before its first epoch ended)."""
        info = self._raw_meta()
        done = self._epochs(info)[0] if info is not None else None
        return done if isinstance(done, int) else None

    def sha256(self) -> str:
        return file_sha256(self.weights)

    def provenance(self) -> dict[str, str]:
        return {"path": str(self.path.resolve()), "sha256": self.sha256()}


class ModelFolder(_RunFolder):
    """A trained video model: `load()` rebuilds it from the registry, its weights and its preprocessing."""

    WEIGHTS = "model.safetensors"
    KIND = "model"
    VERB = "train-model"

    def _epochs(self, info: dict[str, Any]) -> tuple[int | None, int | None]:
        done = info.get("epochs_done", (info.get("metrics") or {}).get("epochs"))
        planned = info.get("planned_epochs")
        return (done if _is_count(done) else None), (planned if _is_count(planned) else None)

    def classes(self) -> list[str]:
        return list(self.meta()["classes"])

    def save(self, model: Any, cfg: config_mod.Config, classes: Sequence[str], **meta: Any) -> None:
        """Write the folder, meta.json last; a Hugging Face model's architecture config goes into meta.json."""
        from .models.registry import network_record

        info = {"classes": list(classes), "preprocessing": model.preprocessing.to_dict(),
                "spec": asdict(model.spec), "code_version": code_version(), **network_record(model), **meta}
        write_checkpoint(self.path, model.net.state_dict(), cfg.to_dict(), info)

    def load(self, device: str | torch.device = "cpu", *, trust_model_code: bool = False,
             allow_incomplete: bool = False) -> tuple[Any, dict[str, Any]]:
        """The model in eval mode on `device`, and its meta.json. A model factory named by the saved config is
        imported only with `trust_model_code`; a model whose training stopped midway is loaded only with
        `allow_incomplete` (to look at that checkpoint: no verb takes one)."""
        from .models import ModelSpec, Preprocessing
        from .models.registry import rebuild_model
        from .weights.load import load_state_strict

        meta = self.meta(allow_incomplete)
        cfg = self.config()
        model = rebuild_model(cfg.model, cfg.data, len(meta["classes"]), meta, trust_model_code=trust_model_code)
        state = load_tensors(self.weights)
        refuse_non_finite(state, self.weights)
        load_state_strict(model.net, state, str(self.weights))
        model.set_preprocessing(Preprocessing.from_dict(meta["preprocessing"]))
        spec = dict(meta.get("spec", {}))
        for key in ("input_size", "perceptual_layers"):
            if key in spec:
                spec[key] = tuple(spec[key])
        model.spec = ModelSpec(**spec)
        return model.to(device).eval(), meta

    def _meta_problem(self, meta: dict[str, Any]) -> str | None:

        from .models import ModelSpec, Preprocessing

        classes = meta.get("classes")
        if not (isinstance(classes, list) and classes and all(isinstance(c, str) for c in classes)):
            return f"classes: expected a non-empty list of class names, got {_shown(classes)}"
        return (_record_problem(meta.get("preprocessing"), "preprocessing", Preprocessing, _PREPROCESSING_CHECKS)
                or _record_problem(meta.get("spec", {}), "spec", ModelSpec, _SPEC_CHECKS))

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
    VERB = "train-generator"

    def _epochs(self, info: dict[str, Any]) -> tuple[int | None, int | None]:
        metrics = info.get("metrics") if isinstance(info.get("metrics"), dict) else {}
        done, planned = metrics.get("epochs"), metrics.get("planned_epochs")
        return (done if _is_count(done) else None), (planned if _is_count(planned) else None)

    def load(self, device: str | torch.device = "cpu") -> tuple[Any, dict[str, Any]]:
        """The generator in eval mode on `device`, and its meta.json. A generator that did not beat replication
        on its held-out clips (meta.json `replicates`, training/holdout.py) loads as exact replication."""
        from .generator import Replicate, build_generator
        from .weights.load import load_state_strict

        meta = self.meta()
        if "k" not in meta:
            raise self._error("has a meta.json that does not say which k the generator takes")
        if meta.get("replicates") is True:
            return Replicate(int(meta["k"]), int(meta.get("num_frames", 16))), meta
        cfg = self.config()
        generator = build_generator(int(meta["k"]), cfg.generator, cfg.data.num_frames)
        load_state_strict(generator, load_tensors(self.weights), str(self.weights))
        return generator.to(device).eval(), meta

    def _meta_problem(self, meta: dict[str, Any]) -> str | None:
        from .generator.losses import LOSSES

        if not _is_count(meta.get("num_frames", 16)):
            return f"num_frames: expected a positive integer, got {_shown(meta.get('num_frames'))}"
        if not (_is_count(meta.get("k")) and meta["k"] <= meta.get("num_frames", 16)):
            return f"k: expected the number of given frames (1..{meta.get('num_frames', 16)}), got {_shown(meta.get('k'))}"
        if meta.get("loss", "perceptual") not in LOSSES:
            return f"loss: expected {' or '.join(LOSSES)}, got {_shown(meta.get('loss'))}"
        return None

    def finished_for(self, g: config_mod.GeneratorConfig) -> bool:
        """Whether this folder holds a finished run asked for `g`'s length: the same epochs and step floor,
        and every epoch it planned done (the floor can add epochs on a small dataset)."""
        if not self.is_complete():
            return False
        saved = self.config().generator
        return (saved.epochs, saved.min_steps) == (g.epochs, g.min_steps)

    def load_for(self, k: int, loss: str, num_frames: int, device: str | torch.device = "cpu", *,
                 model_sha256: str | None = None) -> tuple[Any, dict]:
        """Load, refusing a generator made for another k, loss or clip length than asked for, or (given the
        model's `model_sha256`) a perceptual generator trained against another model's features, or one that
        records no model to be checked against."""
        generator, meta = self.load(device)
        trained_against = meta.get("model_sha256")
        if loss == "perceptual" and model_sha256 and trained_against and trained_against != model_sha256:
            raise self._error(f"holds a generator trained against another model (weights sha256 {trained_against[:12]}…, "
                              f"{meta.get('model')}), not this one ({model_sha256[:12]}…); train one for this model")
        trained_loss = meta.get("loss", "perceptual")
        if int(meta["k"]) != k:
            raise self._error(f"holds a generator trained for k={meta['k']}, not k={k}")
        if trained_loss != loss:
            raise self._error(f"holds a generator trained with the {trained_loss} loss, not the {loss} loss")
        if int(meta.get("num_frames", num_frames)) != num_frames:
            raise self._error(f"holds a generator of {meta['num_frames']}-frame clips; the model takes {num_frames}")
        if loss == "perceptual" and model_sha256 and not trained_against:
            raise self._error("records no model hash, so nothing says which model's features it learned; train "
                              "it again against this model (train-generator)")
        return generator, meta

    def save(self, generator: Any, cfg: config_mod.Config, **meta: Any) -> None:
        """Write the folder atomically, file by file, meta.json last. `meta` adds e.g. loss, model, metrics."""
        info = {"k": generator.k, "num_frames": generator.num_frames, "use_indices": generator.use_indices,
                "code_version": code_version(), **meta}
        write_checkpoint(self.path, generator.state_dict(), cfg.to_dict(), info, weights_name=self.WEIGHTS)


def refuse_non_finite(state: dict[str, torch.Tensor], source: str | Path) -> None:
    """A weights file holding NaN or infinity would turn every prediction into noise that still counts as
    an accuracy (an argmax over NaN logits is class 0); refuse it, naming the file and the tensor."""
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise UserError(f"{source}: the weights are not finite ({name} holds NaN or infinity); "
                            "retrain the model or take an earlier checkpoint")


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _is_finite_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _triple(nonzero: bool) -> Any:
    return lambda v: isinstance(v, list) and len(v) == 3 and all(_is_finite_number(x) and (x or not nonzero) for x in v)


def _size_or_none(v: Any) -> bool:
    return v is None or (isinstance(v, list) and len(v) == 2 and all(_is_count(x) for x in v))


# meta.json's records: each field that may appear, what it must be, and the words for it.
_PREPROCESSING_CHECKS = {
    "mean": (_triple(False), "3 numbers"), "std": (_triple(True), "3 non-zero numbers"),
    "value_scale": (lambda v: _is_finite_number(v) and v > 0, "a positive number"),
    "channel_order": (lambda v: v in ("rgb", "bgr"), "rgb or bgr"),
    "crop": (_size_or_none, "null or [height, width]"), "resize": (_size_or_none, "null or [height, width]"),
}
_SPEC_CHECKS = {
    "num_frames": (_is_count, "a positive integer"),
    "input_size": (lambda v: isinstance(v, list) and len(v) == 2 and all(_is_count(x) for x in v), "[height, width]"),
    "perceptual_layers": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of layer names"),
    "output": (lambda v: v in ("logits", "probs"), "logits or probs"), "extra": (lambda v: isinstance(v, dict), "an object"),
}


def _record_problem(record: Any, name: str, kind: type, checks: dict[str, tuple[Any, str]]) -> str | None:
    """What is wrong with one record of meta.json that becomes a `kind` dataclass (None: nothing): a field
    `kind` lacks, or a value `checks` refuses (fields without a check are left to whoever reads them)."""
    if not isinstance(record, dict):
        return f"{name}: expected an object, got {_shown(record)}"
    unknown = sorted(set(record) - {f.name for f in fields(kind)})
    if unknown:
        return f"{name}: unknown field {unknown[0]!r}"
    for field, (ok, expected) in checks.items():
        if field in record and not ok(record[field]):
            return f"{name}.{field}: expected {expected}, got {_shown(record[field])}"
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


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

    def results(self, required: Sequence[str] = ()) -> Results:
        """results.json, checked to be a motionprobe results file holding the fields `required`, as a `Results`."""
        from .analysis.results_type import Results, SchemaError

        path = self.path / self.RESULTS
        if not path.is_file():
            raise ConfigError(self.argument, f"{self.path} holds no results.json; run the analysis into it first")
        results = read_json(path)
        try:
            Results.check_schema(results)
        except SchemaError as e:
            raise ConfigError(self.argument, f"{path} is {e}") from None
        problem = next((f"{key}: expected {expected}, got {_shown(results.get(key))}"
                        for key, (ok, expected) in _RESULTS_CHECKS.items() if not ok(results.get(key))), None)
        if problem:
            raise UserError(f"{path}: {problem}")
        missing = [key for key in required if not isinstance(results.get(key), (dict, list, int, str))]
        if missing:
            raise UserError(f"{path}: no {missing[0]!r}; not the results of a finished analysis")
        return Results.from_json(results)


# The fields of results.json every reader (the report, the summary table) relies on.
_RESULTS_CHECKS = {
    "classes": (lambda v: isinstance(v, list) and bool(v) and all(isinstance(c, str) for c in v),
                "a non-empty list of class names"),
    "frames": (lambda v: isinstance(v, list) and bool(v) and all(_is_count(k) for k in v), "a list of k's"),
    "num_clips": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a number of clips"),
    "accuracy": (lambda v: isinstance(v, dict) and isinstance(v.get("original"), dict),
                 "an object with the original clips' accuracy"),
}
