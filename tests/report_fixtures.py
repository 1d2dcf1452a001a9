"""Real analysis folders for the report tests: a tiny C3D and tiny generators (random init, saved as
folders), analysed on a few synthetic clips — seconds on a CPU, every output file the engine writes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from motionprobe.analysis import analyze
from motionprobe.analysis.results_type import Results
from motionprobe.config import preset
from motionprobe.data import build_dataset
from motionprobe.data.synthetic import CLASSES
from motionprobe.folders import GeneratorFolder, ModelFolder, file_sha256
from motionprobe.generator import build_generator
from motionprobe.models.registry import build_model
from motionprobe.probes import PROBES

# Strings a dataset can carry into the page and the figures (class names are folder names).
SCRIPT_CLASS = "<script>alert(1)</script>"
DOLLAR_CLASS = 'price $5 & "$6"'


def tiny_config(test_per_class: int = 1):
    cfg = preset("tiny")
    cfg = cfg.evolve(data={"test_per_class": test_per_class})
    cfg = cfg.evolve(analysis={"ks": (1, 2)})
    cfg = cfg.evolve(analysis={"candidates": 4})
    cfg = cfg.evolve(analysis={"bootstrap": 50})
    return cfg


def spread_model(cfg, zero_bias: bool = True):
    """A tiny C3D for the synthetic classes whose outputs differ from clip to clip: seeded, its convolutions and
    linear layers Kaiming re-initialised (and their biases zeroed unless `zero_bias=False`), in eval mode."""
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.data, len(CLASSES)).eval()
    with torch.no_grad():
        for m in model.net.modules():
            if isinstance(m, (torch.nn.Conv3d, torch.nn.Linear)):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if zero_bias:
                    torch.nn.init.zeros_(m.bias)
    return model


def save_folders(root: Path) -> dict[str, Path]:
    """model/, gen_k1/, gen_k2/, pixel_k1/ under root: a tiny C3D whose outputs differ from clip to clip
    (`spread_model`) and random-init generators."""
    cfg = tiny_config()
    model = spread_model(cfg)
    folders = {"model": root / "model", "gen_k1": root / "gen_k1", "gen_k2": root / "gen_k2",
               "pixel_k1": root / "pixel_k1"}
    ModelFolder(folders["model"]).save(model, cfg, list(CLASSES))
    bound = ModelFolder(folders["model"]).sha256()  # a perceptual generator names the model it was trained against
    for k in (1, 2):
        GeneratorFolder(folders[f"gen_k{k}"]).save(build_generator(k, cfg.generator, cfg.data.num_frames), cfg,
                                                   loss="perceptual", model_sha256=bound)
    GeneratorFolder(folders["pixel_k1"]).save(build_generator(1, cfg.generator, cfg.data.num_frames), cfg, loss="pixel")
    return folders


class Renamed(torch.utils.data.Dataset):
    """A dataset whose first classes carry hostile names (with the planted kinds renamed alike)."""

    def __init__(self, base, names: dict[int, str]):
        self.base = base
        self.classes = [names.get(i, c) for i, c in enumerate(base.classes)]
        self.ids, self.labels = base.ids, base.labels
        kinds = base.metadata.get("kinds", {})
        self.metadata = {**base.metadata, "kinds": {new: kinds[old] for old, new in zip(base.classes, self.classes,
                                                                                     strict=True)}}

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        return self.base[i]


def run_analysis(folders: dict[str, Path], out: Path, *, generators: bool = True, pixel: bool = True,
                 dataset=None, test_per_class: int = 1, probes: tuple[str, ...] = PROBES, target: str = "label",
                 class_floor: float = 0.5) -> Results:
    """Analyse with the saved folders as `motionprobe analyze` would (config and provenance recorded).

    The random-init model recognises few clips: with the default `class_floor` most classes are not
    analysable and the model is weak; `class_floor=0` makes every class with clips analysable."""
    cfg = tiny_config(test_per_class)
    dataset = dataset if dataset is not None else build_dataset(cfg.data, "test", seed=cfg.seed)
    model, _ = ModelFolder(folders["model"]).load()
    gens = {k: GeneratorFolder(folders[f"gen_k{k}"]).load()[0] for k in (1, 2)} if generators else {}
    pixels = {1: GeneratorFolder(folders["pixel_k1"]).load()[0]} if pixel and generators else {}
    provenance = {
        "model": {"path": str(folders["model"]), "sha256": file_sha256(folders["model"] / "model.safetensors")},
        "generators": {str(k): {"path": str(folders[f"gen_k{k}"]), "loss": "perceptual",
                                "sha256": file_sha256(folders[f"gen_k{k}"] / "generator.safetensors")} for k in gens},
        "pixel_generators": {"1": {"path": str(folders["pixel_k1"]), "loss": "pixel"}} if pixels else {},
        "dataset": {"name": "synthetic", "split": "test", "num_items": len(dataset)},
    }
    settings = replace(cfg.analysis, probes=probes, probe_draws=2, target=target, class_floor=class_floor)
    return analyze(model, dataset, out, settings, generators=gens, pixel_generators=pixels, config=cfg.to_dict(),
                   provenance=provenance, progress=False)


class StillOrMoving(list):
    """Eight-frame clips of two classes: "still" (one noise frame held) and "moving" (fresh noise every frame)."""

    classes = ["still", "moving"]

    def __init__(self, side: int, n: int = 4):
        torch.manual_seed(0)
        still = torch.rand(3, 1, side, side).expand(3, 8, side, side)
        super().__init__({"id": f"clip{i}", "label": i % 2, "clip": torch.rand(3, 8, side, side) if i % 2 else still}
                         for i in range(n))
        self.ids = [c["id"] for c in self]


def motion_detector(x: torch.Tensor) -> torch.Tensor:
    """Logits (still, moving) from the mean change between consecutive frames: a model that uses only motion."""
    motion = (x[:, :, 1:] - x[:, :, :-1]).abs().mean((1, 2, 3, 4))
    return torch.stack([0.1 - motion, motion - 0.1], 1)
