"""Reading annotation files safely: paths that stay inside the root, case-insensitive matching, clear errors."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

from ...errors import UserError


def bad_line(file: Path, lineno: int, message: str) -> UserError:
    """A one-line error that names the file and line: `trainlist01.txt:12: unknown class 'Foo'`."""
    return UserError(f"{file}:{lineno}: {message}")


def numbered_lines(file: Path) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of the non-blank lines of a text file."""
    try:
        text = file.read_text(encoding="utf-8-sig", errors="strict")
    except UnicodeDecodeError:
        raise UserError(f"{file}: not a UTF-8 text file") from None
    except OSError as e:
        raise UserError(f"{file}: cannot read ({e.strerror})") from None
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line:
            yield lineno, line


def safe_relative(rel: str, file: Path, lineno: int) -> str:
    """A POSIX relative path from an annotation line, refusing any that would leave the dataset root.

    "Jump/v_Jump_g01_c01.avi" is returned as is; "../secret.avi", "/etc/passwd", "C:\\x.avi" and
    "a/../../b.avi" raise a UserError naming the file and line.
    """
    cleaned = rel.replace("\\", "/")
    posix = PurePosixPath(cleaned)
    if posix.is_absolute() or PureWindowsPath(rel).drive or ".." in posix.parts or not posix.parts:
        raise bad_line(file, lineno, f"path {rel!r} leaves the dataset root; annotation paths must be relative "
                                     "and stay inside it")
    return str(posix)


class FileTree:
    """The files under a root, for exact and case-insensitive lookup of annotation paths.

    UCF101's list files spell some names differently from the folders (HandStandPushups vs
    HandstandPushups), so an exact miss falls back to a case-insensitive match.
    """

    def __init__(self, root: Path, extensions: Sequence[str] | None = None):
        self.root = root
        self.files: set[str] = set()
        self._folded: dict[str, str] = {}
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            dirnames.sort()
            rel_dir = Path(dirpath).relative_to(root).as_posix()
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                if extensions is not None and not name.lower().endswith(tuple(extensions)):
                    continue
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                self.files.add(rel)
                self._folded.setdefault(rel.casefold(), rel)

    def find(self, rel: str) -> str | None:
        """The stored relative path matching `rel` exactly, else case-insensitively, else None."""
        if rel in self.files:
            return rel
        return self._folded.get(rel.casefold())

    def by_stem(self) -> dict[str, list[str]]:
        """File stem → relative paths (sorted): for datasets whose files are named by id, not place."""
        out: dict[str, list[str]] = {}
        for rel in sorted(self.files):
            out.setdefault(PurePosixPath(rel).stem, []).append(rel)
        return out


def find_folder_with(candidates: Sequence[Path], marker: str, what: str, hint: str) -> Path:
    """The first candidate folder that contains `marker`; a UserError listing where it looked otherwise."""
    seen: list[Path] = []
    for folder in candidates:
        if folder in seen:
            continue
        seen.append(folder)
        if (folder / marker).is_file():
            return folder
    looked = ", ".join(str(f) for f in seen)
    raise UserError(f"{what}: {marker} not found; looked in {looked}. {hint}")
