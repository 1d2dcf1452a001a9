"""A `model.weights` path, checked before anything reads it.

It must be a file or a folder, and a file that bears the name of known weights (or lies in the weights cache)
must be the published one: given by path, a corrupted cached file would load and answer wrongly (one flipped
byte changed I3D's top class). Before a run makes its folder, `check_weights_file` also refuses a file that
cannot be weights at all.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, UserError
from .cache import file_sha256
from .registry import WEIGHTS


def check_weights_file(weights: str | Path | None) -> None:
    """Refuse a `model.weights` that is missing or no weights file at all before a folder is made for the run.

    A motionprobe model folder or .safetensors file, or a file `torch.save` or `pickle` wrote (a zip archive or
    a pickle), can be weights; a text file given as .pth cannot. None or "" (no weights) passes."""
    if not weights:
        return
    path = Path(weights)
    check_weights_path(path)
    if path.is_dir() or path.suffix == ".safetensors":
        return
    with open(path, "rb") as f:
        head = f.read(4)
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):
        raise ConfigError("model.weights", f"{path} is not a PyTorch weights file (neither the zip archive torch.save "
                                           f"writes nor a pickle; it starts with {head!r})")


def check_weights_path(path: Path) -> None:
    """A weights file or model folder that exists and can be read to its end (a FIFO would block reading it
    forever, a device never end); a known published file must have its published sha256."""
    if not path.exists():
        raise ConfigError("model.weights", f"{path} not found")
    if not (path.is_dir() or path.is_file()):
        raise ConfigError("model.weights", f"{path} is not a regular file (a pipe, socket or device); give a weights "
                                           "file or a model folder")
    verify_known_weights(path)


def verify_known_weights(path: str | Path) -> None:
    """Refuse a known weights file (by its name, or by lying in the weights cache) whose sha256 is not the published
    one. Other files are left to their format's own checks."""
    path = Path(path)
    entry = next((w for w in WEIGHTS.values() if w.filename == path.name), None)
    if entry is None or not path.is_file():
        return
    if path.stat().st_size != entry.size or file_sha256(path) != entry.sha256:
        raise UserError(f"{path}: not the published {entry.name} weights (its size or sha256 differs: the file is "
                        f"corrupted or another one); run 'motionprobe weights get {entry.name}' to fetch them again")
