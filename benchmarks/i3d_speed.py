"""I3D forward cost on this machine: FLOPs per clip and the median time of one fp32 clip, with and without
channels_last_3d (interleaved runs, so a slow moment of a shared CPU hits both alike; the minimum is printed too,
the better estimate when other work shares the cores).

    python -m benchmarks.i3d_speed                      # 1 × 3 × 16 × 224 × 224, 5 runs of each layout
    python -m benchmarks.i3d_speed --frames 64 --runs 3

FLOPs are counted by torch.utils.flop_counter.FlopCounterMode (a multiply-add is 2 FLOPs; convolutions and the
classifier only). The weights are random: the time of a forward does not depend on their values.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from motionprobe.models.i3d import InceptionI3d


def count_flops(net: torch.nn.Module, x: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(x)
    return counter.get_total_flops()


def time_forward(net: torch.nn.Module, x: torch.Tensor) -> float:
    start = time.perf_counter()
    with torch.inference_mode():
        net(x)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    torch.manual_seed(0)
    net = InceptionI3d(400).eval()
    x = torch.rand(1, 3, args.frames, args.size, args.size) * 2 - 1
    flops = count_flops(net, x)
    layouts = {"fp32": (net, x),
               "fp32 channels_last_3d": (InceptionI3d(400).eval().to(memory_format=torch.channels_last_3d),
                                         x.to(memory_format=torch.channels_last_3d))}
    layouts["fp32 channels_last_3d"][0].load_state_dict(net.state_dict())
    for model, inp in layouts.values():  # warm-up: first calls allocate and pick kernels
        time_forward(model, inp)
    times: dict[str, list[float]] = {name: [] for name in layouts}
    for _ in range(args.runs):
        for name, (model, inp) in layouts.items():
            times[name].append(time_forward(model, inp))
    print(f"I3D, 1 × 3 × {args.frames} × {args.size} × {args.size}, {torch.get_num_threads()} threads: "
          f"{flops / 1e9:.1f} GFLOPs per clip")
    base = statistics.median(times["fp32"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:<22} median {med * 1000:6.0f} ms, min {min(ts) * 1000:6.0f} ms  ({flops / med / 1e9:5.1f} GFLOP/s "
              f"at the median, {base / med:.2f}× fp32)  runs {', '.join(f'{t * 1000:.0f}' for t in ts)} ms")


if __name__ == "__main__":
    main()
