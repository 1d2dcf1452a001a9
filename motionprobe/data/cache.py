"""The frame cache: each video decoded and resized once, then clips load without decoding.

Layout of a cache folder:

    index.json            {"format", "preprocessing", "decoding", "root", "entries": {rel: entry}, "failed": {rel: reason}}
    frames/<hash>.npy     one uint8 (T, H, W, 3) array per video, opened memory-mapped

An entry records the source file's size and mtime; a video whose file changed since, or a cache made
with another resize or by a decoder with other conventions (`video.DECODING`: e.g. before rotated
videos were turned upright), is not used (the dataset decodes instead), so a stale cache costs
speed, never correctness. The same holds for a damaged cache: an entry whose `file` is not a plain
name under frames/ (an absolute or `../` path could load any .npy as frames), or whose array is
missing, unreadable, or of another shape or dtype than the entry and the resize say, is treated as
not cached. Building is parallel over worker processes, writes each array atomically and rewrites
the index every few seconds, so an interrupted build resumes where it stopped and skips what is
already valid.
"""

from __future__ import annotations

import hashlib
import io
import logging
import multiprocessing as mp
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..errors import ConfigError, UserError
from ..io import atomic_write_bytes, atomic_write_json, read_json
from .transforms import ClipTransform
from .video import DECODING, VideoError, VideoFile

CACHE_FORMAT = "motionprobe.frame-cache/1"
INDEX = "index.json"
_SAVE_EVERY_S = 5.0
log = logging.getLogger("motionprobe.data")


@dataclass(frozen=True)
class CacheTask:
    source: str  # absolute path of the video
    rel: str  # its path under the dataset root: the cache key


@dataclass
class CacheSummary:
    cached: int = 0  # decoded in this run
    reused: int = 0  # already valid in the cache
    failed: dict[str, str] = field(default_factory=dict)  # rel → reason
    frames: int = 0  # frames decoded in this run
    seconds: float = 0.0


def _file_key(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _array_name(rel: str) -> str:
    return f"frames/{hashlib.sha1(rel.encode('utf-8')).hexdigest()[:24]}.npy"


_ARRAY_NAME = re.compile(r"frames/[0-9a-f]{1,64}\.npy")


def _settings(transform: ClipTransform) -> dict:
    """What the arrays of a cache depend on: the resize, and how the decoder orients frames."""
    return {"preprocessing": transform.preprocessing_key(), "decoding": DECODING}


def _fits(shape: tuple[int, ...], transform: ClipTransform) -> bool:
    """Whether frames of this (T, H, W, 3) shape can come out of `transform`'s resize."""
    if len(shape) != 4 or shape[0] < 1 or shape[3] != 3:
        return False
    if transform.resize_mode == "fixed":
        return tuple(shape[1:3]) == tuple(transform.resize)
    return min(shape[1:3]) == transform.resize[0]


def load_entry(folder: Path, entry: object, transform: ClipTransform) -> np.ndarray | None:
    """The memory-mapped frames of an index entry, or None unless the entry is sound.

    Sound: `file` names an array under frames/ (nothing else: the index is not trusted to point
    elsewhere), the array loads without pickles as uint8 (T, H, W, 3) of the entry's T, H and W,
    and H×W is what the resize makes. The source's size and mtime are checked by the caller."""
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or not _ARRAY_NAME.fullmatch(entry["file"]):
        return None
    path = folder / entry["file"]
    try:
        if path.is_symlink() or not path.resolve().is_relative_to((folder / "frames").resolve()):
            return None
        frames = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    expected = (entry.get("num_frames"), entry.get("height"), entry.get("width"), 3)
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.shape != expected:
        return None
    return frames if _fits(frames.shape, transform) else None


class FrameCache:
    """Read side: `get(source, rel)` returns the cached frames of a video, or None when not valid."""

    def __init__(self, folder: str | Path, transform: ClipTransform):
        self.folder = Path(folder)
        self.transform = transform
        index_path = self.folder / INDEX
        if not index_path.is_file():
            raise ConfigError("data.cache", f"{self.folder} holds no {INDEX}; make one with 'motionprobe data cache'")
        index = read_json(index_path)
        if not isinstance(index, dict) or index.get("format") != CACHE_FORMAT:
            raise ConfigError("data.cache", f"{index_path} is not a motionprobe frame cache ({CACHE_FORMAT})")
        entries = index.get("entries")
        self.entries: dict[str, dict] = entries if isinstance(entries, dict) else {}
        made_with = {key: index.get(key) for key in ("preprocessing", "decoding")}
        self.usable = made_with == _settings(transform)
        if not self.usable:
            log.warning("frame cache %s was made with %s, the data config and decoder ask for %s: decoding instead "
                        "(rebuild it with 'motionprobe data cache')", self.folder, made_with, _settings(transform))

    def get(self, source: Path, rel: str) -> np.ndarray | None:
        entry = self.entries.get(rel) if self.usable else None
        if not isinstance(entry, dict) or not _same_source(entry, source):
            return None
        return load_entry(self.folder, entry, self.transform)


def _same_source(entry: dict, source: Path) -> bool:
    try:
        return _file_key(source) == {"size": entry.get("size"), "mtime_ns": entry.get("mtime_ns")}
    except OSError:
        return False


def _decode_to_array(task: CacheTask, folder: str, transform: ClipTransform) -> tuple[str, dict | None, str]:
    """Worker: decode, resize and store one video. Returns (rel, entry or None, failure reason)."""
    source = Path(task.source)
    try:
        key = _file_key(source)
        with VideoFile(source) as video:
            resized = video.read_all(transform.target_size(*video.size))
    except VideoError as e:
        return task.rel, None, e.reason
    except OSError as e:
        return task.rel, None, f"cannot read ({e.strerror})"
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(resized), allow_pickle=False)
    name = _array_name(task.rel)
    atomic_write_bytes(Path(folder) / name, buf.getvalue())
    t, h, w, _ = resized.shape
    return task.rel, {"file": name, **key, "num_frames": t, "height": h, "width": w}, ""


def _worker_init() -> None:
    torch.set_num_threads(1)  # one process per core already; more threads only contend


def _decode_star(args: tuple[CacheTask, str, ClipTransform]) -> tuple[str, dict | None, str]:
    return _decode_to_array(*args)


def _load_index(folder: Path, transform: ClipTransform, root: str) -> dict:
    path = folder / INDEX
    fresh = {"format": CACHE_FORMAT, **_settings(transform), "root": root, "entries": {}, "failed": {}}
    if not path.is_file():
        return fresh
    index = read_json(path)
    if not isinstance(index, dict) or index.get("format") != CACHE_FORMAT:
        raise UserError(f"{path}: exists and is not a motionprobe frame cache; choose an empty folder")
    made_with = {key: index.get(key) for key in ("preprocessing", "decoding")}
    if made_with != _settings(transform):
        log.warning("%s: made with %s, now %s; rebuilding every entry", path, made_with, _settings(transform))
        return fresh
    if not isinstance(index.get("entries"), dict):
        index["entries"] = {}
    index["failed"] = {}
    index["root"] = root
    return index


def _is_valid(folder: Path, entry: object, source: Path, transform: ClipTransform) -> bool:
    return isinstance(entry, dict) and _same_source(entry, source) and load_entry(folder, entry, transform) is not None


def build_cache(tasks: Sequence[CacheTask], folder: str | Path, transform: ClipTransform, *, root: str = "",
                workers: int = 0, progress: bool = True) -> CacheSummary:
    """Decode every task's video into `folder`, skipping entries that are already valid.

    `workers=0` uses one process per CPU; 1 decodes in this process. Unreadable videos are counted in
    `summary.failed` (and in index.json's "failed"), never fatal.
    """
    folder = Path(folder)
    index = _load_index(folder, transform, root)  # first: a folder refused as no cache gets nothing written into it
    (folder / "frames").mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict] = index["entries"]
    summary = CacheSummary()
    todo = []
    for task in dict((t.rel, t) for t in tasks).values():
        if _is_valid(folder, entries.get(task.rel), Path(task.source), transform):
            summary.reused += 1
        else:
            entries.pop(task.rel, None)
            todo.append(task)
    workers = workers or os.cpu_count() or 1
    start = last_save = time.monotonic()
    jobs = [(task, str(folder), transform) for task in todo]
    bar = tqdm(total=len(todo), desc="caching frames", unit="video", disable=not progress or not todo)
    pool = mp.get_context("spawn").Pool(min(workers, len(todo)), initializer=_worker_init) \
        if workers > 1 and len(todo) > 1 else None
    try:
        results = pool.imap_unordered(_decode_star, jobs, chunksize=4) if pool else map(_decode_star, jobs)
        for rel, entry, reason in results:
            bar.update(1)
            if entry is None:
                index["failed"][rel] = reason
                continue
            entries[rel] = entry
            summary.cached += 1
            summary.frames += entry["num_frames"]
            if time.monotonic() - last_save > _SAVE_EVERY_S:
                atomic_write_json(folder / INDEX, index)
                last_save = time.monotonic()
    finally:
        if pool is not None:
            pool.terminate()
        bar.close()
        atomic_write_json(folder / INDEX, index)
    summary.failed = dict(index["failed"])
    summary.seconds = time.monotonic() - start
    return summary
