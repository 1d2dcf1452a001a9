"""Files inside Debian packages, fetched with `apt-get download` the way weights/fetch.py fetches through pip.

Some real sample videos travel only in Debian's packages (OpenCV's and Gem's example data). `fetch_deb_members`
asks apt-get for one pinned version of a package into a temporary folder (`apt-get download NAME=VERSION`: no
root, nothing installed, no maintainer script run), checks the .deb's sha256, then reads the wanted members out
of its data archive in memory: a .deb is an `ar` archive whose `data.tar.*` member holds the package's files. No
member name ever becomes a path on disk, and nothing is kept: the caller writes what passed every check.

On a system without apt-get, or whose package lists lack that version (`apt-get update` first), the fetch stops
with one line saying so.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .errors import UserError
from .weights.fetch import downloaded, tar_member

AR_MAGIC = b"!<arch>\n"
AR_HEADER = 60  # bytes: name 16, mtime 12, uid 6, gid 6, mode 8, size 10, magic 2


def ar_members(data: bytes) -> dict[str, bytes]:
    """The members of an `ar` archive (a .deb), by name.

    >>> ar_members(AR_MAGIC + b"debian-binary/  0           0     0     100644  4         `\\n2.0\\n")
    {'debian-binary': b'2.0\\n'}
    """
    if not data.startswith(AR_MAGIC):
        raise ValueError("not an ar archive")
    members, at = {}, len(AR_MAGIC)
    while at + AR_HEADER <= len(data):
        header = data[at:at + AR_HEADER]
        if header[58:60] != b"`\n":
            raise ValueError(f"bad ar header at byte {at}")
        name, size = header[:16].decode("ascii").strip().rstrip("/"), int(header[48:58].decode("ascii").strip())
        start = at + AR_HEADER
        if start + size > len(data):
            raise ValueError(f"ar member {name} runs past the end")
        members[name] = data[start:start + size]
        at = start + size + (size % 2)  # members are padded to an even offset
    return members


def deb_data(archive: Path) -> tarfile.TarFile:
    """The package's files: the data.tar.* member of the .deb `archive`, opened in memory."""
    try:
        members = ar_members(archive.read_bytes())
    except (ValueError, UnicodeDecodeError, OSError) as e:
        raise UserError(f"{archive.name}: not a readable Debian package ({e})") from None
    name = next((n for n in members if n.startswith("data.tar")), None)
    if name is None:
        raise UserError(f"{archive.name}: no data.tar member")
    try:
        return tarfile.open(fileobj=io.BytesIO(members[name]), mode="r:*")
    except tarfile.TarError as e:
        raise UserError(f"{archive.name}: {name} is not a readable tar archive ({e})") from None


def apt_download(package: str, version: str, archive: str, archive_sha256: str, folder: Path,
                 apt: Sequence[str] | None = None) -> Path:
    """`apt-get download package=version` into `folder`; the .deb's path once its sha256 is `archive_sha256`.

    `apt` is the command that runs apt-get (default `apt-get`)."""
    spec = f"{package}={version}"
    cmd = [*(list(apt) if apt else ["apt-get"]), "download", spec]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=folder)
    except OSError as e:
        raise UserError(f"cannot run apt-get to download {spec} ({e.strerror or e}): these videos come from "
                        "Debian's packages") from None
    return downloaded(done, f"apt-get download {spec}", "E:", "run apt-get update; is Debian's archive reachable?",
                      folder / archive, archive_sha256)


def fetch_deb_members(package: str, version: str, archive: str, archive_sha256: str,
                      members: Sequence[tuple[str, int, str]], apt: Sequence[str] | None = None) -> list[bytes]:
    """The bytes of each (member, size, sha256) of a Debian package, each checked; nothing is kept on disk."""
    with tempfile.TemporaryDirectory(prefix="motionprobe-apt-") as tmp:
        path = apt_download(package, version, archive, archive_sha256, Path(tmp), apt)
        with deb_data(path) as tar:
            return [tar_member(tar, path.name, member, size, sha256) for member, size, sha256 in members]
