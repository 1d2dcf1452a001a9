"""python -m benchmarks.planted_sets {photo,glyph} --out DIR [--seed S] [--train-per-class N] [--test-per-class N]"""

from __future__ import annotations

import argparse

from motionprobe.errors import UserError

from . import SETS
from .write import write_set


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.planted_sets",
                                description="Write a planted-truth dataset as video files in its layout, with truth.json.")
    p.add_argument("set", choices=sorted(SETS))
    p.add_argument("--out", required=True, help="an empty folder (or an earlier copy of the same set)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-per-class", type=int, help="default: the set's benchmark size")
    p.add_argument("--test-per-class", type=int)
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    planted = SETS[args.set]
    try:
        summary = write_set(planted, args.out, seed=args.seed, train_per_class=args.train_per_class,
                            test_per_class=args.test_per_class, progress=not args.no_progress)
    except UserError as e:
        p.error(str(e))
    videos = ", ".join(f"{n} {split}" for split, n in summary["videos"].items())
    print(f"planted set {planted.name}: {videos} videos, {summary['bytes'] / 2**20:.1f} MiB, {summary['seconds']:.0f} s "
          f"→ {summary['out']}\ncheck it: motionprobe data info --dataset {planted.layout} --root {summary['out']} --check")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
