"""results.json as a type: `Results` and its parts, read from the file's dict and written back to it unchanged.

`Results.from_json(data)` reads a results.json (schema `motionprobe.results/1`, docs/results-schema.md) and
`to_json()` gives back the same dict: the same keys in the same order, the same values, so the file it is
written to is byte for byte the one read. Every reader (the report, compare, the CLI, the workflows, the
benchmarks) reads a `Results` through its attributes; analysis/results.py writes one.

k's stay string keys ("1", "2", ...) as in the file; an *estimate* is a `stats.Estimate` (value, ci, n).
Blocks without structure of their own (the methods' labels, the fallback classes, the probes' confusion,
the files, the config) stay the file's dicts.

>>> est = {"value": 0.5, "ci": [0.4, 0.6], "n": 10}
>>> data = {"schema": SCHEMA, "classes": ["a"], "frames": [1], "num_clips": 10, "accuracy": {"original": est}}
>>> results = Results.from_json(data)
>>> results.accuracy.original.value, results.ks
(0.5, [1])
>>> Results.from_json({"schema": "other/1"})
Traceback (most recent call last):
...
motionprobe.analysis.results_type.SchemaError: not a motionprobe results file (expected schema 'motionprobe.results/1')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import UserError
from .bound_choice import BoundChoice
from .methods import BOUNDS
from .stats import Estimate

SCHEMA = "motionprobe.results/1"

ByK = dict[str, Estimate | None]  # an estimate per k (string keys, as in the file)


class SchemaError(UserError):
    """A dict that is not a motionprobe results file."""


def _est(data: dict | None) -> Estimate | None:
    return None if not data else Estimate.from_dict(data)


def _ests(data: dict | None) -> ByK:
    return {key: _est(value) for key, value in (data or {}).items()}


def _dict(est: Estimate | None) -> dict | None:
    return None if est is None else est.to_dict()


def _dicts(ests: dict) -> dict:
    return {key: _dict(value) for key, value in ests.items()}


def _ks(by_k: dict) -> list[int]:
    return sorted(int(k) for k in by_k)


@dataclass(frozen=True)
class Stride(Estimate):
    """The temporal demand: an estimate of the accuracy lost from stride `from_stride` to `to_stride`."""

    from_stride: int = 1
    to_stride: int = 1

    @classmethod
    def from_dict(cls, data: dict) -> Stride:
        return cls(data["value"], tuple(data["ci"]), data.get("n"), data["from_stride"], data["to_stride"])

    def to_dict(self, digits: int = 6) -> dict:
        return {**super().to_dict(digits), "from_stride": self.from_stride, "to_stride": self.to_stride}


@dataclass(frozen=True)
class Area(Estimate):
    """The motion bound's area over the k's `ks` (analysis/card.py)."""

    ks: tuple[int, ...] = ()

    @classmethod
    def from_dict(cls, data: dict) -> Area:
        return cls(data["value"], tuple(data["ci"]), data.get("n"), tuple(data["ks"]))

    def to_dict(self, digits: int = 6) -> dict:
        return {**super().to_dict(digits), "ks": list(self.ks)}


@dataclass(frozen=True)
class Accuracy:
    """The original clips' accuracy and every method's (`best` included) per k."""

    original: Estimate | None
    methods: dict[str, ByK] = field(default_factory=dict)  # in the file's order; a method that did not run: {}

    @classmethod
    def from_json(cls, data: dict) -> Accuracy:
        return cls(_est(data.get("original")), {m: _ests(v) for m, v in data.items() if m != "original"})

    def to_json(self) -> dict:
        return {"original": _dict(self.original), **{m: _dicts(v) for m, v in self.methods.items()}}

    def of(self, method: str) -> ByK:
        """`method`'s estimates per k ({} when it did not run)."""
        return self.methods.get(method) or {}

    def at(self, method: str, k: int | str) -> Estimate | None:
        return self.of(method).get(str(k))

    def ks(self, method: str) -> list[int]:
        """The k's (ints, ascending) at which `method` has an accuracy."""
        return _ks(self.of(method))


def _accuracy(data: dict | None) -> Accuracy | None:
    return Accuracy.from_json(data) if data else None


@dataclass(frozen=True)
class ModelCheck:
    """How well the model knows the classes on full clips: below `class_floor` a class is not analysable."""

    original: float | None
    class_floor: float
    analysable_classes: int
    not_analysable: list[str]
    weak: bool

    @classmethod
    def from_json(cls, data: dict) -> ModelCheck:
        return cls(data.get("original"), data.get("class_floor", 0.0), data.get("analysable_classes", 0),
                   list(data.get("not_analysable") or []), bool(data.get("weak")))

    def to_json(self) -> dict:
        return {"original": self.original, "class_floor": self.class_floor,
                "analysable_classes": self.analysable_classes, "not_analysable": self.not_analysable,
                "weak": self.weak}


GAPS = ("uniform_gap", "generator_minus_uniform", "best_minus_uniform")  # a class's paired differences, estimates


@dataclass(frozen=True)
class ClassEntry:
    """One class's numbers (`per_class.<class>`): accuracies per method and k, both bounds with their intervals,
    the paired gaps, and which method each half of its clips was scored by."""

    n: int
    original: float | None
    analysable: bool
    methods: dict[str, dict[str, float | None]]  # every method's accuracy per k, `best` included
    bounds: dict[str, dict[str, float | None]]  # motion_bound, paper_bound per k
    bound_cis: dict[str, dict[str, tuple[float, float] | None]]  # their intervals per k
    gaps: dict[str, ByK]  # GAPS per k
    motion_bound_f1: dict[str, float | None]
    kind: str | None = None
    has_kind: bool = False  # the dataset declares kinds (the file then names each class's, perhaps null)
    bound_method: dict[str, list[str]] | None = None
    fallback: dict[str, list[int]] | None = None  # method → the k's where the class is a fallback class

    @classmethod
    def from_json(cls, data: dict) -> ClassEntry:
        known = {"n", "kind", "original", "analysable", "motion_bound_f1", "bound_method", "fallback", *GAPS,
                 *BOUNDS, *(f"{b}_ci" for b in BOUNDS)}
        return cls(
            n=data.get("n", 0), original=data.get("original"), analysable=bool(data.get("analysable", True)),
            methods={m: v for m, v in data.items() if m not in known},
            bounds={b: data.get(b) or {} for b in BOUNDS},
            bound_cis={b: {k: None if ci is None else tuple(ci) for k, ci in (data.get(f"{b}_ci") or {}).items()}
                       for b in BOUNDS},
            gaps={g: _ests(data.get(g)) for g in GAPS}, motion_bound_f1=data.get("motion_bound_f1") or {},
            kind=data.get("kind"), has_kind="kind" in data, bound_method=data.get("bound_method"),
            fallback=data.get("fallback"))

    def to_json(self) -> dict:
        out: dict[str, Any] = {"n": self.n}
        if self.has_kind:
            out["kind"] = self.kind
        out.update({"original": self.original, "analysable": self.analysable, **self.methods})
        for b in BOUNDS:
            out[b] = self.bounds[b]
            out[f"{b}_ci"] = {k: None if ci is None else list(ci) for k, ci in self.bound_cis[b].items()}
        out.update({g: _dicts(self.gaps[g]) for g in GAPS})
        out["motion_bound_f1"] = self.motion_bound_f1
        for name in ("bound_method", "fallback"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def accuracy(self, method: str, k: int | str) -> float | None:
        return (self.methods.get(method) or {}).get(str(k))

    def bound(self, name: str, k: int | str) -> tuple[float | None, tuple[float, float] | None]:
        """A bound (motion_bound, paper_bound) at k and its interval (None where it has no finite one)."""
        ci = self.bound_cis[name].get(str(k))
        return self.bounds[name].get(str(k)), ci if ci and None not in ci else None

    def gap(self, name: str, k: int | str) -> Estimate | None:
        return self.gaps[name].get(str(k))

    def is_fallback(self, method: str, k: int) -> bool:
        return k in (self.fallback or {}).get(method, [])


@dataclass(frozen=True)
class ClassSummary:
    """Shares of the analysable classes: within 1 point of the original per method and k (Figure 5), and improved
    (tied) by the generator over replication (Figure 8)."""

    num_classes: int = 0
    within_1_point: dict[str, dict[str, float | None]] = field(default_factory=dict)
    generator_improves: dict[str, float | None] = field(default_factory=dict)
    generator_ties: dict[str, float | None] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict) -> ClassSummary:
        return cls(data.get("num_classes", 0), data.get("within_1_point") or {}, data.get("generator_improves") or {},
                   data.get("generator_ties") or {})

    def to_json(self) -> dict:
        return {"num_classes": self.num_classes, "within_1_point": self.within_1_point,
                "generator_improves": self.generator_improves, "generator_ties": self.generator_ties}


@dataclass(frozen=True)
class Diagnostic:
    """A class where completing or choosing the frames hurts, with the paired difference and a sentence."""

    class_name: str
    k: int
    kind: str
    difference: Estimate
    text: str

    @classmethod
    def from_json(cls, data: dict) -> Diagnostic:
        return cls(data["class"], data["k"], data["kind"], Estimate.from_dict(data["difference"]), data["text"])

    def to_json(self) -> dict:
        return {"class": self.class_name, "k": self.k, "kind": self.kind, "difference": self.difference.to_dict(),
                "text": self.text}


KIND_STATISTICS = ("motion_bound", "paper_bound", "uniform_gap", "full_minus_uniform", "best_minus_uniform")


@dataclass(frozen=True)
class KindEntry:
    """One planted kind of class: its classes and clips, accuracies, bounds and gains per k."""

    classes: list[str]
    n: int
    accuracy: Accuracy | None
    statistics: dict[str, ByK]  # KIND_STATISTICS per k

    @classmethod
    def from_json(cls, data: dict) -> KindEntry:
        return cls(list(data["classes"]), data["n"], _accuracy(data.get("accuracy")),
                   {name: _ests(data.get(name)) for name in KIND_STATISTICS})

    def to_json(self) -> dict:
        return {"classes": self.classes, "n": self.n, "accuracy": self.accuracy.to_json() if self.accuracy else {},
                **{name: _dicts(self.statistics[name]) for name in KIND_STATISTICS}}

    def at(self, name: str, k: int | str) -> Estimate | None:
        """A method's accuracy or a statistic (KIND_STATISTICS) at k."""
        if name in self.statistics:
            return self.statistics[name].get(str(k))
        return self.accuracy.at(name, k) if self.accuracy else None


@dataclass(frozen=True)
class PlantedTruth:
    """How well the per-class statistics find the planted motion classes (AUROC per k), and the planted checks
    (`<kind>_<statistic>`, estimates per k)."""

    positive_kind: str
    classes_scored: list[str]
    aurocs: dict[str, dict[str, float | None]]  # `<statistic>_auroc` per k
    checks: dict[str, ByK]

    @classmethod
    def from_json(cls, data: dict) -> PlantedTruth:
        rest = {name: v for name, v in data.items() if name not in ("positive_kind", "classes_scored")}
        return cls(data["positive_kind"], list(data["classes_scored"]),
                   {name: v for name, v in rest.items() if name.endswith("_auroc")},
                   {name: _ests(v) for name, v in rest.items() if not name.endswith("_auroc")})

    def to_json(self) -> dict:
        return {"positive_kind": self.positive_kind, "classes_scored": self.classes_scored, **self.aurocs,
                **{name: _dicts(v) for name, v in self.checks.items()}}


@dataclass(frozen=True)
class ProbeEffect:
    """A probe on a group of clips: its accuracy (an estimate, or per class a value) and the drop from the
    original (paired)."""

    accuracy: Estimate | float | None
    drop: Estimate | None

    @classmethod
    def from_json(cls, data: dict) -> ProbeEffect:
        accuracy = data.get("accuracy")
        return cls(_est(accuracy) if isinstance(accuracy, dict) else accuracy, _est(data.get("drop")))

    def to_json(self) -> dict:
        accuracy = self.accuracy.to_dict() if isinstance(self.accuracy, Estimate) else self.accuracy
        return {"accuracy": accuracy, "drop": _dict(self.drop)}


def _effects(data: dict | None) -> dict[str, dict[str, ProbeEffect]]:
    return {group: {name: ProbeEffect.from_json(v) for name, v in entry.items()} for group, entry in (data or {}).items()}


def _effects_json(effects: dict[str, dict[str, ProbeEffect]]) -> dict:
    return {group: {name: v.to_json() for name, v in entry.items()} for group, entry in effects.items()}


@dataclass(frozen=True)
class Probes:
    """The temporal probes: accuracy and drop per probe, per class and per kind, each class's first-draw
    predictions (`confusion`), and how the per-class drops rank the classes against the motion bound."""

    accuracy: ByK  # per probe name
    drop: ByK
    per_class: dict[str, dict[str, ProbeEffect]]  # class → probe → effect (accuracy a value)
    per_kind: dict[str, dict[str, ProbeEffect]]  # kind → probe → effect
    confusion: dict[str, dict[str, dict[str, int]]]
    bound_agreement: dict[str, Any]  # k, classes, `<probe>_spearman`

    @classmethod
    def from_json(cls, data: dict) -> Probes | None:
        if not data:
            return None
        return cls(_ests(data.get("accuracy")), _ests(data.get("drop")), _effects(data.get("per_class")),
                   _effects(data.get("per_kind")), data.get("confusion") or {}, data.get("bound_agreement") or {})

    def to_json(self) -> dict:
        return {"accuracy": _dicts(self.accuracy), "drop": _dicts(self.drop), "per_class": _effects_json(self.per_class),
                "per_kind": _effects_json(self.per_kind), "confusion": self.confusion,
                "bound_agreement": self.bound_agreement}

    def class_drop(self, class_name: str, probe: str) -> float | None:
        """The drop of `probe` on one class's clips (its value), None where it did not run."""
        effect = self.per_class.get(class_name, {}).get(probe)
        return effect.drop.value if effect and effect.drop else None


@dataclass(frozen=True)
class Graded:
    """The graded probe families (mildest first) and relative robustness overall, per kind and per class."""

    families: dict[str, list[dict]]  # family → [{probe, severity, label}]
    robustness: ByK  # family (and "overall") → estimate
    per_kind: dict[str, ByK]
    per_class: dict[str, dict[str, float | None]]

    @classmethod
    def from_json(cls, data: dict) -> Graded | None:
        if not data:
            return None
        return cls(data.get("families") or {}, _ests(data.get("robustness")),
                   {kind: _ests(v) for kind, v in (data.get("per_kind") or {}).items()}, data.get("per_class") or {})

    def to_json(self) -> dict:
        return {"families": self.families, "robustness": _dicts(self.robustness),
                "per_kind": {kind: _dicts(v) for kind, v in self.per_kind.items()}, "per_class": self.per_class}


@dataclass(frozen=True)
class ClassSampling:
    """One class's accuracy per stride and coverage (values) and its temporal demand."""

    stride: dict[str, float | None]
    coverage: dict[str, float | None]
    temporal_demand: Estimate | None

    @classmethod
    def from_json(cls, data: dict) -> ClassSampling:
        return cls(data.get("stride") or {}, data.get("coverage") or {}, _est(data.get("temporal_demand")))

    def to_json(self) -> dict:
        return {"stride": self.stride, "coverage": self.coverage, "temporal_demand": _dict(self.temporal_demand)}


@dataclass(frozen=True)
class Sampling:
    """The stride and coverage curves, the reads each stride made, and the temporal demand."""

    stride: ByK  # stride factor → accuracy
    coverage: ByK  # share of the clip → accuracy
    probes: dict[str, list[str]]
    reads: dict[str, dict[str, int]]
    temporal_demand: Stride | None
    per_class: dict[str, ClassSampling]

    @classmethod
    def from_json(cls, data: dict) -> Sampling | None:
        if not data:
            return None
        demand = data.get("temporal_demand")
        return cls(_ests(data.get("stride")), _ests(data.get("coverage")), data.get("probes") or {},
                   data.get("reads") or {}, Stride.from_dict(demand) if demand else None,
                   {name: ClassSampling.from_json(v) for name, v in (data.get("per_class") or {}).items()})

    def to_json(self) -> dict:
        return {"stride": _dicts(self.stride), "coverage": _dicts(self.coverage), "probes": self.probes,
                "reads": self.reads, "temporal_demand": _dict(self.temporal_demand),
                "per_class": {name: v.to_json() for name, v in self.per_class.items()}}


@dataclass(frozen=True)
class Video:
    """Video-level accuracy: the majority vote of each video's clips."""

    num_videos: int
    accuracy: Accuracy

    @classmethod
    def from_json(cls, data: dict | None) -> Video | None:
        return cls(data["num_videos"], Accuracy.from_json(data["accuracy"])) if data else None

    def to_json(self) -> dict:
        return {"num_videos": self.num_videos, "accuracy": self.accuracy.to_json()}


@dataclass(frozen=True)
class CandidateGap:
    """`full` over every subset against over `n_sampled` sampled ones (with every subset as the pool)."""

    all: float | None
    sampled: float | None
    n_sampled: int
    gap: Estimate | None

    @classmethod
    def from_json(cls, data: dict) -> CandidateGap:
        return cls(data["all"], data["sampled"], data["n_sampled"], _est(data["gap"]))

    def to_json(self) -> dict:
        return {"all": self.all, "sampled": self.sampled, "n_sampled": self.n_sampled, "gap": _dict(self.gap)}


@dataclass(frozen=True)
class Skipped:
    """Clips that failed to load: how many, and each one's id and reason."""

    count: int = 0
    items: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict) -> Skipped:
        return cls(data.get("count", 0), list(data.get("items") or []))

    def to_json(self) -> dict:
        return {"count": self.count, "items": self.items}


ANALYSIS_PROVENANCE = ("identity", "seed", "code_version", "torch", "numpy", "python", "fingerprint")


@dataclass(frozen=True)
class Provenance:
    """Where the numbers come from: what the caller recorded (the model's and generators' folders and hashes,
    the dataset), then what the analysis adds (its identity, seed, versions and fingerprint)."""

    given: dict[str, Any] = field(default_factory=dict)  # the caller's, in its order
    analysis: dict[str, Any] = field(default_factory=dict)  # ANALYSIS_PROVENANCE, in the file's order

    @classmethod
    def from_json(cls, data: dict) -> Provenance:
        return cls({key: v for key, v in data.items() if key not in ANALYSIS_PROVENANCE},
                   {key: v for key, v in data.items() if key in ANALYSIS_PROVENANCE})

    def to_json(self) -> dict:
        return {**self.given, **self.analysis}

    @property
    def seed(self) -> int:
        return int(self.analysis.get("seed", 0))

    @property
    def identity(self) -> dict[str, Any]:
        return self.analysis.get("identity") or {}

    @property
    def model(self) -> dict[str, Any]:
        return self.given.get("model") or {}

    @property
    def dataset(self) -> dict[str, Any]:
        return self.given.get("dataset") or {}

    def generators(self, pixel: bool = False) -> dict[str, dict[str, Any]]:
        """The perceptual (or pixel-loss) generators per k: folder, hash, loss, and whether they replicate."""
        return self.given.get("pixel_generators" if pixel else "generators") or {}

    def versions(self) -> dict[str, Any]:
        """The analysis's own record: versions, seed and fingerprint (the identity left out)."""
        return {key: v for key, v in self.analysis.items() if key != "identity"}


@dataclass(frozen=True)
class MostMotion:
    class_name: str
    motion_bound: float | None
    ci: tuple[float, float] | None

    @classmethod
    def from_json(cls, data: dict) -> MostMotion:
        return cls(data["class"], data["motion_bound"], None if data.get("ci") is None else tuple(data["ci"]))

    def to_json(self) -> dict:
        return {"class": self.class_name, "motion_bound": self.motion_bound,
                "ci": None if self.ci is None else list(self.ci)}


@dataclass(frozen=True)
class Card:
    """The run on one card (analysis/card.py): the few numbers that say how much a model uses motion."""

    k: int | None = None
    target: str | None = None
    num_clips: int | None = None
    original: Estimate | None = None
    motion_bound: Estimate | None = None
    bound_area: Area | None = None
    shuffle_drop: Estimate | None = None
    temporal_demand: Stride | None = None
    robustness: Estimate | None = None
    most_motion: list[MostMotion] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict | None) -> Card | None:
        if data is None:
            return None
        area, demand = data.get("bound_area"), data.get("temporal_demand")
        return cls(data.get("k"), data.get("target"), data.get("num_clips"), _est(data.get("original")),
                   _est(data.get("motion_bound")), Area.from_dict(area) if area else None,
                   _est(data.get("shuffle_drop")), Stride.from_dict(demand) if demand else None,
                   _est(data.get("robustness")), [MostMotion.from_json(m) for m in data.get("most_motion") or []])

    def to_json(self) -> dict:
        return {"k": self.k, "target": self.target, "num_clips": self.num_clips, "original": _dict(self.original),
                "motion_bound": _dict(self.motion_bound), "bound_area": _dict(self.bound_area),
                "shuffle_drop": _dict(self.shuffle_drop), "temporal_demand": _dict(self.temporal_demand),
                "robustness": _dict(self.robustness), "most_motion": [m.to_json() for m in self.most_motion]}


@dataclass(frozen=True)
class Results:
    """results.json (module docstring). `agreement`, where both targets ran, is a `Results` of its own: the
    same analysis scored against the full-clip prediction, with the same classes (and no provenance)."""

    classes: list[str]
    target: str | None = None
    frames: list[int] = field(default_factory=list)
    num_frames: int = 16
    num_clips: int = 0
    ci_level: float = 0.95
    bootstrap: int = 0
    generator_frames: list[int] = field(default_factory=list)
    pixel_generator_frames: list[int] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)  # the methods that ran → their long label
    accuracy: Accuracy = field(default_factory=lambda: Accuracy(None))
    motion_bound: ByK = field(default_factory=dict)
    paper_bound: ByK = field(default_factory=dict)
    bound_method: dict[str, BoundChoice] = field(default_factory=dict)
    bound_rule: str = ""
    uniform_gap: ByK = field(default_factory=dict)
    candidates: dict[str, int] = field(default_factory=dict)
    replicate_candidates: dict[str, int] = field(default_factory=dict)
    candidate_gap: dict[str, CandidateGap] = field(default_factory=dict)
    model_check: ModelCheck | None = None
    per_class: dict[str, ClassEntry] = field(default_factory=dict)
    class_summary: ClassSummary = field(default_factory=ClassSummary)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    fallback: dict[str, dict[str, list[dict]]] = field(default_factory=dict)  # method → k → classwise entries
    per_kind: dict[str, KindEntry] = field(default_factory=dict)
    planted_truth: PlantedTruth | None = None
    probes: Probes | None = None
    video: Video | None = None
    graded: Graded | None = None
    sampling: Sampling | None = None
    agreement: Results | None = None
    skipped: Skipped = field(default_factory=Skipped)
    files: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] | None = None
    provenance: Provenance = field(default_factory=Provenance)
    card: Card | None = None
    timestamps: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def check_schema(data: Any) -> None:
        """Refuse (`SchemaError`) what is not a dict of results.json's schema."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise SchemaError(f"not a motionprobe results file (expected schema {SCHEMA!r})")

    @classmethod
    def from_json(cls, data: Any) -> Results:
        """Read results.json's dict; a dict of another schema is refused (`SchemaError`)."""
        cls.check_schema(data)
        classes = list(data.get("classes") or [])
        agreement = data.get("agreement")
        return cls(**_summary(data, classes),
                   agreement=cls(**_summary(agreement, classes)) if agreement is not None else None,
                   skipped=Skipped.from_json(data.get("skipped") or {}), files=data.get("files") or {},
                   config=data.get("config"), provenance=Provenance.from_json(data.get("provenance") or {}),
                   card=Card.from_json(data.get("card")), timestamps=data.get("timestamps") or {})

    def to_json(self) -> dict:
        """results.json's dict, key for key as the analysis writes it."""
        out: dict[str, Any] = {"schema": SCHEMA, "classes": self.classes, **self._summary_json()}
        if self.agreement is not None:
            out["agreement"] = self.agreement._summary_json()
        out.update({"skipped": self.skipped.to_json(), "files": self.files, "config": self.config,
                    "provenance": self.provenance.to_json()})
        if self.card is not None:
            out["card"] = self.card.to_json()
        out["timestamps"] = self.timestamps
        return out

    def _summary_json(self) -> dict:
        """The part scored against one target (the whole file's, or `agreement`'s)."""
        return {
            "target": self.target, "frames": self.frames, "num_frames": self.num_frames, "num_clips": self.num_clips,
            "ci_level": self.ci_level, "bootstrap": self.bootstrap, "generator_frames": self.generator_frames,
            "pixel_generator_frames": self.pixel_generator_frames, "methods": self.methods,
            "accuracy": self.accuracy.to_json(), "motion_bound": _dicts(self.motion_bound),
            "paper_bound": _dicts(self.paper_bound),
            "bound_method": {k: c.to_dict() for k, c in self.bound_method.items()}, "bound_rule": self.bound_rule,
            "uniform_gap": _dicts(self.uniform_gap), "candidates": self.candidates,
            "replicate_candidates": self.replicate_candidates,
            "candidate_gap": {k: g.to_json() for k, g in self.candidate_gap.items()},
            "model_check": self.model_check.to_json() if self.model_check else {},
            "per_class": {name: e.to_json() for name, e in self.per_class.items()},
            "class_summary": self.class_summary.to_json(), "diagnostics": [d.to_json() for d in self.diagnostics],
            "fallback": self.fallback, "per_kind": {kind: e.to_json() for kind, e in self.per_kind.items()},
            "planted_truth": self.planted_truth.to_json() if self.planted_truth else None,
            "probes": self.probes.to_json() if self.probes else {},
            "video": self.video.to_json() if self.video else None,
            "graded": self.graded.to_json() if self.graded else {},
            "sampling": self.sampling.to_json() if self.sampling else {},
        }

    # -- figures several readers derive alike --------------------------------------------------------

    @property
    def ks(self) -> list[int]:
        """The k's analysed, as ints."""
        return [int(k) for k in self.frames]

    @property
    def by_prediction(self) -> bool:
        """Scored against the model's own full-clip prediction (no labels), not the labels."""
        return self.target == "prediction"

    def bound(self, name: str) -> ByK:
        """A bound (motion_bound, paper_bound) per k."""
        return self.motion_bound if name == "motion_bound" else self.paper_bound

    def bound_ks(self, name: str = "motion_bound") -> list[int]:
        """The k's (ints, ascending) with a value of the bound `name`."""
        return _ks(self.bound(name))

    def chosen(self, k: int | str) -> list[str]:
        """The method `best` used at k in each half of the clips (one name when both halves chose it)."""
        choice = self.bound_method.get(str(k))
        return list(dict.fromkeys(choice.folds)) if choice else []

    @property
    def seed(self) -> int:
        """The analysis's seed (its folds, pools and resamples)."""
        return self.provenance.seed

    def bound_candidates(self) -> dict[int, list[str]]:
        """Per k, the methods the motion bound chose among (analysis/choice.py), the default first."""
        return {int(k): choice.candidates for k, choice in self.bound_method.items()}

    def kind_original(self, kind: str) -> Estimate | None:
        """The original clips' accuracy on one planted kind of class."""
        entry = self.per_kind.get(kind)
        return entry.accuracy.original if entry and entry.accuracy else None

    def probe_groups(self) -> list[tuple[str, Estimate | None, ByK]]:
        """(group, the original's accuracy, each probe's accuracy) for all classes, then per planted kind: what
        the probes' figures draw side by side."""
        if self.probes is None:
            return [("all classes", self.accuracy.original, {})]
        groups = [("all classes", self.accuracy.original, self.probes.accuracy)]
        for kind, per_probe in self.probes.per_kind.items():
            groups.append((kind, self.kind_original(kind), {p: e.accuracy for p, e in per_probe.items()}))
        return groups


def _summary(data: dict, classes: list[str]) -> dict[str, Any]:
    """The fields of one target's part of the file, for `Results(...)`."""
    check = data.get("model_check")
    return dict(
        classes=classes, target=data.get("target"), frames=list(data.get("frames") or []),
        num_frames=data.get("num_frames", 16), num_clips=data.get("num_clips", 0), ci_level=data.get("ci_level", 0.95),
        bootstrap=data.get("bootstrap", 0), generator_frames=list(data.get("generator_frames") or []),
        pixel_generator_frames=list(data.get("pixel_generator_frames") or []), methods=data.get("methods") or {},
        accuracy=Accuracy.from_json(data.get("accuracy") or {}), motion_bound=_ests(data.get("motion_bound")),
        paper_bound=_ests(data.get("paper_bound")),
        bound_method={k: BoundChoice.from_dict(c) for k, c in (data.get("bound_method") or {}).items()},
        bound_rule=data.get("bound_rule", ""), uniform_gap=_ests(data.get("uniform_gap")),
        candidates=data.get("candidates") or {}, replicate_candidates=data.get("replicate_candidates") or {},
        candidate_gap={k: CandidateGap.from_json(g) for k, g in (data.get("candidate_gap") or {}).items()},
        model_check=ModelCheck.from_json(check) if check else None,
        per_class={name: ClassEntry.from_json(e) for name, e in (data.get("per_class") or {}).items()},
        class_summary=ClassSummary.from_json(data.get("class_summary") or {}),
        diagnostics=[Diagnostic.from_json(d) for d in data.get("diagnostics") or []],
        fallback=data.get("fallback") or {},
        per_kind={kind: KindEntry.from_json(e) for kind, e in (data.get("per_kind") or {}).items()},
        planted_truth=PlantedTruth.from_json(data["planted_truth"]) if data.get("planted_truth") else None,
        probes=Probes.from_json(data.get("probes")), video=Video.from_json(data.get("video")),
        graded=Graded.from_json(data.get("graded")), sampling=Sampling.from_json(data.get("sampling")))



