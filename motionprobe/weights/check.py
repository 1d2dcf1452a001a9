"""A weights file given by path, checked before anything reads it.

A file that bears the name of known weights (or lies in the weights cache) must be the published one: given by
path, a corrupted cached file would load and answer wrongly (one flipped byte changed I3D's top class).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from .cache import file_sha256
from .registry import WEIGHTS


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
