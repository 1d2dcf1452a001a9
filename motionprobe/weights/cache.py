"""Where fetched files are kept, and whether a cached weights file is still the published one.

    <cache>/weights/i3d-kinetics-400.ckpt        <cache> = cache_dir, else $MOTIONPROBE_CACHE,
                                                 else $XDG_CACHE_HOME/motionprobe, else ~/.cache/motionprobe

A cached file counts only with its published size and sha256 (one sha256 of the file, ~0.1 s for 50 MB), so a
corrupted one is fetched again rather than loaded. Sample videos share the cache root (motionprobe/samples.py).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import UserError
from .registry import named_weights


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_root() -> Path:
    if os.environ.get("MOTIONPROBE_CACHE"):
        return expanded(os.environ["MOTIONPROBE_CACHE"], "MOTIONPROBE_CACHE")
    try:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    except RuntimeError:  # no $HOME and no password entry: nowhere to keep a cache by default
        raise UserError("cannot find a home folder for the cache; set MOTIONPROBE_CACHE to a folder") from None
    return Path(base) / "motionprobe"


def expanded(path: str | Path, what: str = "the cache folder") -> Path:
    """`path` with a leading ~ or ~user expanded; a user that does not exist is one line naming `what`."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        raise UserError(f"{what}: cannot expand {str(path)!r} (no such user's home folder)") from None


def weights_path(name: str, cache_dir: str | Path | None = None) -> Path:
    """Where `fetch_weights` keeps `name` (whether or not it is there yet)."""
    root = expanded(cache_dir) if cache_dir is not None else cache_root()
    return root / "weights" / named_weights(name).filename


def cached_weights(name: str, cache_dir: str | Path | None = None) -> Path | None:
    """The cached file of `name` when it is there with the right size and sha256, else None."""
    path, entry = weights_path(name, cache_dir), named_weights(name)
    if path.is_file() and path.stat().st_size == entry.size and file_sha256(path) == entry.sha256:
        return path
    return None
