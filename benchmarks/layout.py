"""Why the engine feeds models channels_last_3d: the same C3D forward with contiguous vs channels_last_3d inputs.

    python -m benchmarks.layout [--rounds 5]

Both go through the engine's own `_Batcher.forward` (the only difference is its `channels_last`
switch), alternately, in inference mode: the paper C3D at 112×112×16 (batch 2) and the tiny C3D at
32×32×16 (batch 64). Prints the median speed-up and every round's, since one round on a shared
machine says little. Not part of `make bench`: at the paper size it needs a minute or two.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from motionprobe.analysis.engine import _Batcher
from motionprobe.config import preset
from motionprobe.models.registry import build_model

from .common import alternate


def speedups(preset_name: str, batch: int, rounds: int) -> list[float]:
    """contiguous time / channels_last_3d time, per round."""
    cfg = preset(preset_name)
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.data, 10).eval()
    x = torch.rand(batch, 3, cfg.data.num_frames, cfg.data.crop_size, cfg.data.crop_size)
    cpu = torch.device("cpu")
    batchers = {"contiguous": _Batcher(model, cpu, channels_last=False), "channels_last_3d": _Batcher(model, cpu)}
    with torch.inference_mode():
        times = alternate({name: (lambda b=b: b.forward(x)) for name, b in batchers.items()}, rounds)
    return [a / b for a, b in zip(times["contiguous"], times["channels_last_3d"], strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    for name, batch in (("paper", 2), ("tiny", 64)):
        r = speedups(name, batch, rounds)
        print(f"{name:5} C3D, batch {batch:3}: channels_last_3d {statistics.median(r):.2f}x faster (median of {rounds}; "
              f"rounds: {', '.join(f'{v:.2f}' for v in r)})", flush=True)


if __name__ == "__main__":
    main()
