"""Temporal probes: deterministic, seeded reorderings of a clip's frames, no generator.

Each probe shows the model the same frames (or, for `fast`, frames of the same video) in another
temporal order and asks whether it still recognises the clip. They are the widely used tests of
temporal sensitivity (shuffled, reversed, frozen, slowed clips); motionprobe runs them beside the
motion bound, per class, with intervals.

Worked example, T = 8 (frame numbers of the original clip shown at each position):

    reverse         7 6 5 4 3 2 1 0
    freeze          0 0 0 0 0 0 0 0      the first frame held: the replicate baseline at k = 1
    slow            0 0 1 1 2 2 3 3      every frame twice, the first T/2 frames: half speed
    fast            0 2 4 6 8 10 12 14   every other frame of a 2T window (where the video has one)
    shuffle         a random permutation per clip and draw (5 draws by default)
    local_shuffle   a random permutation inside each window of 4 frames: fine order gone, coarse kept

>>> probe_order("slow", 8).tolist(), probe_order("reverse", 4).tolist()
([0, 0, 1, 1, 2, 2, 3, 3], [3, 2, 1, 0])
>>> order = probe_order("local_shuffle", 8, clip_key=3, variant=0, seed=0)
>>> sorted(order[:4].tolist()), sorted(order[4:].tolist())
([0, 1, 2, 3], [4, 5, 6, 7])
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError

PROBES = ("shuffle", "reverse", "freeze", "slow", "fast", "local_shuffle")
RANDOM = ("shuffle", "local_shuffle")  # probes drawn afresh per clip and draw
LOCAL_WINDOW = 4
DEFAULT_DRAWS = 5  # permutations a random probe is averaged over


def check_probes(names: tuple[str, ...] | list[str], path: str = "analysis.probes") -> tuple[str, ...]:
    unknown = [n for n in names if n not in PROBES]
    if unknown:
        raise ConfigError(path, f"unknown probe {unknown[0]!r}; expected some of {', '.join(PROBES)}")
    if len(set(names)) != len(names):
        raise ConfigError(path, f"a probe is named twice in {', '.join(names)}")
    return tuple(names)


def variants(name: str, draws: int = DEFAULT_DRAWS) -> int:
    """How many versions of a clip a probe shows: `draws` for the random ones, else 1."""
    return draws if name in RANDOM else 1


def probe_order(name: str, num_frames: int, clip_key: int = 0, variant: int = 0, seed: int = 0) -> np.ndarray:
    """The frame indices (T,) a probe shows; into the clip, or for `fast` into a 2T window of the video.

    Random probes draw from (seed, clip_key, variant), so a clip's shuffles are the same in every run
    and whether it is analysed alone or with others."""
    t = num_frames
    if name == "reverse":
        return np.arange(t)[::-1].copy()
    if name == "freeze":
        return np.zeros(t, dtype=np.int64)
    if name == "slow":
        return np.arange(t) // 2
    if name == "fast":
        return 2 * np.arange(t)
    rng = np.random.default_rng([seed, 7, int(clip_key), int(variant)])
    if name == "shuffle":
        return rng.permutation(t)
    if name == "local_shuffle":
        order = np.arange(t)
        for lo in range(0, t, LOCAL_WINDOW):
            order[lo:lo + LOCAL_WINDOW] = lo + rng.permutation(min(LOCAL_WINDOW, t - lo))
        return order
    raise ConfigError("analysis.probes", f"unknown probe {name!r}; expected some of {', '.join(PROBES)}")
