"""Reading annotation files safely: paths that stay inside the root, case-insensitive matching, clear errors."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from ...errors import UserError


def bad_line(file: Path, lineno: int, message: str) -> UserError:
    """A one-line error that names the file and line: `trainlist01.txt:12: unknown class 'Foo'`."""
    return UserError(f"{file}:{lineno}: {message}")


def parse_index(text: str) -> int | None:
    """A label or class index as annotation files write it: ASCII digits, maybe a minus sign; None otherwise.

    `str.isdigit` also accepts '³' and '٣', which int() refuses, and `lstrip("-")` accepted '--1'.

    >>> parse_index("12"), parse_index("-1"), parse_index("--1"), parse_index("³"), parse_index("9" * 40)
    (12, -1, None, None, None)
    """
    return int(text) if re.fullmatch(r"-?[0-9]{1,9}", text) else None


def read_text_file(file: Path) -> str:
    """The text of an annotation file (UTF-8, a leading byte-order mark dropped), or a one-line UserError naming it."""
    try:
        return file.read_text(encoding="utf-8-sig", errors="strict")
    except UnicodeDecodeError:
        raise UserError(f"{file}: not a UTF-8 text file") from None
    except OSError as e:
        raise UserError(f"{file}: cannot read ({e.strerror})") from None


def numbered_lines(file: Path) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of the non-blank lines of a text file."""
    for lineno, line in enumerate(read_text_file(file).splitlines(), start=1):
        line = line.strip()
        if line:
            yield lineno, line


class _RepeatedKey(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _RepeatedKey(key)
        out[key] = value
    return out


def read_json_file(file: Path) -> Any:
    """The parsed JSON of an annotation file, or a one-line UserError naming the file and line.

    A key repeated inside one object is refused too: `json` would silently keep the last one, and in a
    label map (SSv2's template → index) that drops a class."""
    text = read_text_file(file)
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        raise UserError(f"{file}:{e.lineno}: not valid JSON ({e.msg})") from None
    except (ValueError, RecursionError) as e:  # an integer of thousands of digits; thousands of nested brackets
        raise UserError(f"{file}: not a readable JSON file ({str(e).splitlines()[0][:100] or 'nested too deeply'})") \
            from None
    except _RepeatedKey as e:
        hits = list(re.finditer(re.escape(json.dumps(e.key, ensure_ascii=False)) + r"\s*:", text))
        where = f":{text.count(chr(10), 0, hits[1].start()) + 1}" if len(hits) > 1 else ""
        raise UserError(f"{file}{where}: key {e.key!r} appears twice in one object") from None


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

    Symbolic links are followed (datasets are often linked in from other disks), but no folder is
    walked twice: every real folder inside the root is walked first, then each folder link whose
    target has not been walked yet. A link back into the tree (`A/up -> ..`, a cycle that would
    repeat the tree under itself without end, labelling one class's videos as another's) or to a
    folder already walked through another link is skipped and listed in `skipped_links`.
    Folders are told apart by identity (device, inode), not by name.

    Worked example: root/A/x.avi, root/B/y.avi, root/A/up -> .., root/B/more -> /disk2/extra/ holding
    z.avi. Files: A/x.avi, B/y.avi, B/more/z.avi; skipped_links: ["A/up"].
    """

    def __init__(self, root: Path, extensions: Sequence[str] | None = None):
        self.root = root
        self.extensions = tuple(e.lower() for e in extensions) if extensions is not None else None
        self.files: set[str] = set()
        self.skipped_links: list[str] = []
        self._folded: dict[str, str] = {}
        self._walk()

    def _walk(self) -> None:
        walked: set[tuple[int, int]] = set()
        links: list[tuple[str, Path]] = []  # folder links met so far: (relative path, path)
        found: list[str] = []
        self._walk_real(self.root, "", walked, links, found)
        done = 0
        while done < len(links):  # links met inside linked folders join the queue
            rel, path = links[done]
            done += 1
            identity = _identity(path)
            if identity is None:
                continue  # the link broke or its target cannot be read
            if identity in walked:
                self.skipped_links.append(rel)
                continue
            self._walk_real(path, rel, walked, links, found)
        for rel in found:
            self.files.add(rel)
            self._folded.setdefault(rel.casefold(), rel)

    def _walk_real(self, top: Path, top_rel: str, walked: set, links: list, found: list[str]) -> None:
        """Walk `top` and the real (not linked) folders below it; queue the folder links met."""
        stack = [(top, top_rel)]
        while stack:
            folder, rel_dir = stack.pop()
            identity = _identity(folder)
            if identity is None:
                continue
            if identity in walked:  # reached twice through links from outside the tree
                self.skipped_links.append(rel_dir)
                continue
            walked.add(identity)
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue  # unreadable folder: as os.walk, leave it out
            subfolders = []
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                try:
                    is_dir = entry.is_dir()  # follows links
                except OSError:
                    is_dir = False
                if is_dir and entry.is_symlink():
                    links.append((rel, Path(entry.path)))
                elif is_dir:
                    subfolders.append((Path(entry.path), rel))
                elif self._wanted(entry.name):
                    found.append(rel)
            stack.extend(reversed(subfolders))  # depth-first in name order

    def _wanted(self, name: str) -> bool:
        if name.startswith("."):
            return False
        return self.extensions is None or name.lower().endswith(self.extensions)

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


def _identity(folder: Path) -> tuple[int, int] | None:
    """(device, inode) of a folder, following links; None when it cannot be read."""
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return st.st_dev, st.st_ino


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
