"""Atomic file writes and safetensors checkpoints.

Every write goes to a temporary file in the same folder, is flushed and fsynced, then renamed over
the target: a reader sees the old complete file or the new complete file, never half of one.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from .errors import UserError
from .version import __version__


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give a new file under this process's umask
# Errors of a write the file system refuses, as opposed to a bug: each becomes one line naming the file.
_REFUSED_WRITES = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def cannot_write(path: str | Path, error: OSError) -> UserError:
    """The one-line error for a write the file system refused, with the errno's own words.

    >>> str(cannot_write("runs/a", OSError(30, "Read-only file system")))
    'runs/a: cannot write here (read-only file system)'
    """
    why = (error.strerror or str(error)).lower()
    return UserError(f"{path}: cannot write here ({why})")


def make_folder(path: str | Path) -> Path:
    """`mkdir -p path`, refusing with one line a folder that cannot be made or written into (a read-only file
    system, no permission, a file in the way), before anything is computed for it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"{path}: cannot write here (a file of that name is in the way)") from None
    except OSError as e:
        raise cannot_write(path, e) from None
    if not os.access(path, os.W_OK | os.X_OK):  # an existing folder: mkdir had nothing to do
        read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
        raise UserError(f"{path}: cannot write here ({'read-only file system' if read_only else 'permission denied'})")
    return path


def check_writable(path: str | Path) -> None:
    """Refuse, without creating anything, a folder that could not be made or written into: its nearest existing
    ancestor must be a folder this process may write into. For what is checked before a long download."""
    path = Path(path).absolute()
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise UserError(f"{path}: cannot write here (a file of that name is in the way: {existing})")
    if not os.access(existing, os.W_OK | os.X_OK):
        read_only = bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
        raise UserError(f"{path}: cannot write here ({'read-only file system' if read_only else 'permission denied'})")


@contextmanager
def atomic_stream(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file to write into that appears at `path` only complete: temporary file, fsync, rename.

    For output too large to hold in memory (a gzipped table); `atomic_write_bytes` writes a whole buffer.
    A write the file system refuses (full, read-only, no permission) is a one-line UserError naming `path`;
    the previous version of the file, if any, is intact.
    """
    path = Path(path)
    make_folder(path.parent)
    existed = path.exists()
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise cannot_write(path, e) from None
    try:
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600 files; results are meant to be read by others too
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:  # Ctrl-C included: never leave the temporary file behind
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError) and e.errno in _REFUSED_WRITES:
            kept = "the previous version is intact" if existed else "nothing was written"
            if e.errno == errno.ENOSPC:
                raise UserError(f"{path}: no space left on device; {kept}") from None
            raise UserError(f"{cannot_write(path, e)}; {kept}") from None
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_stream(path) as f:
        f.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json_text(obj) + "\n")


def json_text(obj: Any) -> str:
    """The JSON text motionprobe writes: indented, keys in insertion order, tuples/Paths/numpy scalars allowed."""
    return json.dumps(obj, indent=2, sort_keys=False, default=_json_default)


def _json_default(o: Any) -> Any:
    if isinstance(o, (tuple, set)):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


# Text a spreadsheet reads as a formula when a cell starts with it (OWASP's list): `=2+5`, `=HYPERLINK(...)`.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell as a spreadsheet must show it: text that starts like a formula gets a leading apostrophe, so a
    class folder or video named `=2+5` is shown as written, never computed. Numbers are left as they are.

    >>> csv_cell("=2+5"), csv_cell("-1"), csv_cell("drift_left"), csv_cell(-1.5)
    ("'=2+5", "'-1", 'drift_left', -1.5)
    """
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def csv_text(header: list[Any], rows: list[list[Any]], lineterminator: str = "\n") -> str:
    """A CSV file's text, every cell through `csv_cell`."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator=lineterminator)
    out.writerow([csv_cell(c) for c in header])
    out.writerows([csv_cell(c) for c in row] for row in rows)
    return buf.getvalue()


def read_json(path: str | Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file") from None
    except (ValueError, RecursionError) as e:  # an integer of thousands of digits; thousands of nested brackets
        raise UserError(f"{path}: not a readable JSON file ({str(e).splitlines()[0][:100] or 'nested too deeply'})") \
            from None


def png_bytes(image: Any) -> bytes:
    """A PNG file's bytes from a PIL image or a uint8 (H, W, 3) array."""
    from PIL import Image

    if not isinstance(image, Image.Image):
        image = Image.fromarray(image)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    flat = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    atomic_write_bytes(path, save(flat, metadata=metadata))


def load_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{path}: not a readable safetensors file ({e})") from None


def load_tensors_and_metadata(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and the string metadata stored in the same safetensors header."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            return {name: f.get_tensor(name) for name in f.keys()}, dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{path}: not a readable safetensors file ({e})") from None


def write_checkpoint(folder: str | Path, state: dict[str, torch.Tensor], config: dict, meta: dict,
                     weights_name: str = "model.safetensors") -> None:
    """Write weights, config.json and meta.json; meta.json goes last, so its presence marks completion."""
    folder = Path(folder)
    save_tensors(folder / weights_name, state)
    atomic_write_json(folder / "config.json", config)
    atomic_write_json(folder / "meta.json", meta)


def code_version() -> str:
    """The package version plus the git commit when run from a checkout."""
    head = Path(__file__).resolve().parent.parent / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref = (head.parent / ref[5:]).read_text().strip()
        return f"{__version__}+g{ref[:10]}"
    except OSError:
        return __version__
