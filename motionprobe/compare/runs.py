"""The analysis folders `motionprobe compare` reads, and which of them can be compared, and how.

A run is an analysis folder: its results.json (the card, the bound's choices, the per-class bounds) and
per_clip.csv (per clip what every method predicted and each probe's share of draws right). Runs are
comparable when they score the same thing (labels, or agreement with the model's own prediction), on
clips of the same length, and headline the motion bound at the same k; the first run sets those, and a
run that differs is shown apart with the reason. Two comparable runs are *paired* when they analysed the
same clips (the same ids, and for labels the same labels): their differences then come from one
bootstrap over those clips; otherwise each run is resampled on its own and the report says "unpaired".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..analysis.card import headline_k
from ..analysis.perclip import PerClip
from ..analysis.results_type import ByK, Card, Results
from ..errors import ConfigError, UserError
from ..folders import AnalysisFolder

REQUIRED = ("target", "frames", "num_frames", "num_clips", "classes", "per_class", "motion_bound", "bound_method",
            "accuracy")  # what the comparison reads from each results.json


@dataclass
class Run:
    name: str
    folder: Path
    results: Results
    clips: PerClip

    @property
    def ks(self) -> list[int]:
        return self.results.ks

    @property
    def card(self) -> Card:
        return self.results.card or Card()

    @property
    def probe_drops(self) -> ByK:
        return self.results.probes.drop if self.results.probes else {}

    def describe(self) -> dict:
        """What the report says about the run: its dataset, model, target and sizes."""
        prov = self.results.provenance
        dataset = prov.identity.get("dataset") or {}
        named = prov.dataset.get("name")
        model = (self.results.config or {}).get("model") or {}
        arch = model.get("hf_model") or model.get("model_factory") or model.get("arch")
        return {"name": self.name, "folder": str(self.folder), "dataset": dataset.get("name") or named,
                "split": dataset.get("split"), "model": prov.model.get("path") or arch,
                "arch": arch, "target": self.results.target, "num_frames": self.results.num_frames,
                "frames": self.ks, "num_clips": self.results.num_clips, "classes": len(self.results.classes)}


def load_runs(folders: list[str | Path]) -> list[Run]:
    """Read each folder's results.json and per_clip.csv; a folder that is not a finished analysis is refused
    in one line naming it."""
    paths = [Path(f) for f in folders]
    seen: dict[Path, Path] = {}
    for path in paths:
        resolved = path.resolve()
        if resolved in seen:
            raise ConfigError("runs", f"{path} is given twice")
        seen[resolved] = path
    names = run_names(paths)
    runs = []
    for name, path in zip(names, paths, strict=True):
        results = AnalysisFolder(path, argument="runs").results(required=REQUIRED)
        clips = PerClip.read(path / "per_clip.csv")
        unknown = [c for m in results.bound_method.values() for c in m.candidates
                   if not any(column.startswith(f"{c}@") for column in clips.pred)]
        if "original" not in clips.pred or unknown:
            raise UserError(f"{path / 'per_clip.csv'}: lacks the predictions results.json's bound was chosen from")
        runs.append(Run(name, path, results, clips))
    return runs


def run_names(paths: list[Path]) -> list[str]:
    """Each folder's last name, with as many parent names as it takes to tell them apart.

    >>> run_names([Path("a/x/analysis"), Path("b/analysis"), Path("c")])
    ['x/analysis', 'b/analysis', 'c']
    """
    parts = [p.resolve().parts if p.parts else (str(p),) for p in paths]
    depth = {i: 1 for i in range(len(paths))}
    while True:
        names = ["/".join(parts[i][-depth[i]:]) for i in range(len(paths))]
        clash = [i for i, n in enumerate(names) if names.count(n) > 1 and depth[i] < len(parts[i])]
        if not clash:
            return names
        for i in clash:
            depth[i] += 1


def why_apart(run: Run, reference: Run) -> str | None:
    """Why `run` cannot be set beside `reference` (None when it can)."""
    a, b = run.results, reference.results
    if a.target != b.target:
        word = {"label": "clip accuracy against the labels", "prediction": "agreement with the model's own full-clip "
                                                                         "prediction"}
        return f"it scores {word.get(a.target, a.target)}, {reference.name} scores {word.get(b.target, b.target)}"
    if a.num_frames != b.num_frames:
        return f"its clips have {a.num_frames} frames, {reference.name}'s {b.num_frames}"
    if headline_k(run.ks) != headline_k(reference.ks):
        return (f"it analysed k = {', '.join(map(str, run.ks))}, {reference.name} k = "
                f"{', '.join(map(str, reference.ks))}: no motion bound at the same headline k")
    return None


def why_unpaired(a: Run, b: Run) -> tuple[str | None, np.ndarray | None]:
    """(None, the rows of b in a's clip order) when the two runs analysed the same clips; else (why, None)."""
    ident = [r.results.provenance.identity.get("dataset") or {} for r in (a, b)]
    if all(i.get("metadata_sha256") for i in ident) and ident[0]["metadata_sha256"] != ident[1]["metadata_sha256"]:
        return "their datasets differ (the clip ids may repeat, the clips do not)", None
    if set(a.clips.ids) != set(b.clips.ids):
        shared = len(set(a.clips.ids) & set(b.clips.ids))
        return f"they analysed different clips ({shared} of {len(a.clips.ids)} and {len(b.clips.ids)} shared)", None
    position = {clip: i for i, clip in enumerate(b.clips.ids)}
    order = np.array([position[c] for c in a.clips.ids], dtype=np.int64)
    if a.results.target == "label" and not np.array_equal(a.clips.labels, b.clips.labels[order]):
        return "the same clip ids carry different labels", None
    return None, order
