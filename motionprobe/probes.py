"""Temporal probes: named, parameterised frame-index transforms of a clip, each at a severity, no generator.

A probe shows the model the same frames (or frames of the same video) in another temporal order and
asks whether it still recognises the clip. Every probe is one row of `TABLE`: a family, a severity,
and the frame indices it shows (`Probe.order`), into the clip itself or, for the sped-up ones, into
the clip read from its video at a multiple of its stride (`Probe.read`). The engine consumes the
table generically; a new probe is a new row.

Families, mildest severity first (Schiappa et al. 2023's temporal perturbations, graded):

    shuffle   a random permutation inside each window of w frames (2, 4, 8, all); coarse order kept
              between windows, fine order lost inside
    reverse   the frames in reverse order
    freeze    the last share p of the clip (25, 50, 100 %) holds the frame before it (100 %: the first
              frame held, the replicate baseline at k = 1)
    speed     ×f < 1: the clip's first f·T frames, each shown 1/f times (slowed; the same input as
              infoRates' reduced temporal coverage, so the coverage curve reads these rows);
              ×f > 1: the clip read at f times its stride from the video (sped up; the stride curve)

Worked example, T = 8 (frame numbers of the original clip shown at each position):

    reverse         7 6 5 4 3 2 1 0
    freeze          0 0 0 0 0 0 0 0      the first frame held
    freeze_50       0 1 2 3 3 3 3 3      the last half holds frame 3
    slow            0 0 1 1 2 2 3 3      speed ×0.5: every frame twice, the first T/2 frames
    fast            0 1 2 3 4 5 6 7      speed ×2: positions into the clip read at twice its stride,
                                         i.e. frames 0 2 4 … 14 of the video window twice as long
    local_shuffle   a random permutation inside each window of 4 frames (5 draws by default)

>>> probe_order("slow", 8).tolist(), probe_order("reverse", 4).tolist(), probe_order("freeze_50", 8).tolist()
([0, 0, 1, 1, 2, 2, 3, 3], [3, 2, 1, 0], [0, 1, 2, 3, 3, 3, 3, 3])
>>> order = probe_order("local_shuffle", 8, clip_key=3, variant=0, seed=0)
>>> sorted(order[:4].tolist()), sorted(order[4:].tolist())
([0, 1, 2, 3], [4, 5, 6, 7])
>>> PROBE["speed_x4"].read, PROBE["slow"].read
(4, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError

FAMILIES = ("shuffle", "reverse", "freeze", "speed")
DEFAULT_DRAWS = 5  # permutations a random probe is averaged over
LOCAL_WINDOW = 4  # local_shuffle's window


@dataclass(frozen=True)
class Probe:
    """One temporal probe: its family and severity, and the frame indices it shows.

    `severity` is the family's parameter: the window in frames (0: the whole clip) for `shuffle`, the
    share of the clip frozen for `freeze`, the speed factor for `speed` (1 for `reverse`)."""

    name: str
    family: str
    severity: float
    label: str  # the severity in words: "window of 2", "×0.25", "50% frozen"
    words: str  # what the model is shown, for the report
    random: bool = False  # drawn afresh per clip and draw

    @property
    def read(self) -> int:
        """The multiple of the clip's stride at which the video is read for this probe (1: the clip itself)."""
        return int(self.severity) if self.family == "speed" and self.severity > 1 else 1

    def order(self, num_frames: int, clip_key: int = 0, variant: int = 0, seed: int = 0) -> np.ndarray:
        """Frame indices (T,) into the clip, or into the clip read at `read` times its stride."""
        t = num_frames
        if self.family == "reverse":
            return np.arange(t)[::-1].copy()
        if self.family == "freeze":
            last = max(0, math.ceil((1 - self.severity) * t - 1e-9) - 1)  # the last frame that still plays
            return np.minimum(np.arange(t), last)
        if self.family == "speed":
            return np.arange(t) if self.read > 1 else np.floor(np.arange(t) * self.severity + 1e-9).astype(np.int64)
        # Random probes draw from (seed, clip_key, variant): a clip's shuffles are the same in every run, and
        # whether it is analysed alone or with others.
        rng = np.random.default_rng([seed, 7, int(clip_key), int(variant)])
        window = t if self.severity <= 0 else int(self.severity)
        order = np.arange(t)
        for lo in range(0, t, window):
            order[lo:lo + window] = lo + rng.permutation(min(window, t - lo))
        return order

    def spec(self) -> str:
        """What the analysis' fingerprint records of the probe: a change of definition is a change of plan."""
        return f"{self.family}:{self.severity:g}:read{self.read}:{'random' if self.random else 'fixed'}"


TABLE = (
    Probe("shuffle_w2", "shuffle", 2, "window of 2", "the frames shuffled inside each window of 2", random=True),
    Probe("local_shuffle", "shuffle", LOCAL_WINDOW, f"window of {LOCAL_WINDOW}",
          f"the frames shuffled inside each window of {LOCAL_WINDOW}", random=True),
    Probe("shuffle_w8", "shuffle", 8, "window of 8", "the frames shuffled inside each window of 8", random=True),
    Probe("shuffle", "shuffle", 0, "all frames", "the frames in a random order", random=True),
    Probe("reverse", "reverse", 1, "reversed", "the frames in reverse order"),
    Probe("freeze_25", "freeze", 0.25, "25% frozen", "the last quarter of the clip frozen on the frame before it"),
    Probe("freeze_50", "freeze", 0.5, "50% frozen", "the last half of the clip frozen on the frame before it"),
    Probe("freeze", "freeze", 1.0, "100% frozen", "the first frame held for the whole clip"),
    Probe("speed_x0.25", "speed", 0.25, "×0.25", "the first quarter of the clip at quarter speed (every frame 4 times)"),
    Probe("slow", "speed", 0.5, "×0.5", "the first half of the clip at half speed (every frame twice)"),
    Probe("fast", "speed", 2, "×2", "every other frame of a window twice as long (double speed)"),
    Probe("speed_x4", "speed", 4, "×4", "every 4th frame of a window 4 times as long (stride ×4)"),
    Probe("speed_x8", "speed", 8, "×8", "every 8th frame of a window 8 times as long (stride ×8)"),
    Probe("speed_x16", "speed", 16, "×16", "every 16th frame of a window 16 times as long (stride ×16)"),
)
PROBE = {p.name: p for p in TABLE}
PROBES = tuple(PROBE)  # every probe's name, in the table's order
CLASSIC = ("shuffle", "reverse", "freeze", "slow", "fast", "local_shuffle")  # one severity each, before grading
# On by default (`analysis.probes`): the graded families and the stride curve up to ×16 — each probe is one
# model pass per clip (per draw), a few percent of the analysis on the tiny and paper presets
# (`python -m benchmarks.probe_costs`, docs/benchmarks.md).
DEFAULT_PROBES = PROBES
STRIDE_CURVE = ("fast", "speed_x4", "speed_x8", "speed_x16")  # speed ×2..×16: the clip read at 2..16 times its stride
COVERAGE_CURVE = ("slow", "speed_x0.25")  # the clip's first 50 %, 25 % stretched over T frames


def check_probes(names: tuple[str, ...] | list[str], path: str = "analysis.probes") -> tuple[str, ...]:
    unknown = [n for n in names if n not in PROBE]
    if unknown:
        raise ConfigError(path, f"unknown probe {unknown[0]!r}; expected some of {', '.join(PROBES)}")
    if len(set(names)) != len(names):
        raise ConfigError(path, f"a probe is named twice in {', '.join(names)}")
    return tuple(names)


def variants(name: str, draws: int = DEFAULT_DRAWS) -> int:
    """How many versions of a clip a probe shows: `draws` for the random ones, else 1."""
    return draws if PROBE[name].random else 1


def probe_order(name: str, num_frames: int, clip_key: int = 0, variant: int = 0, seed: int = 0) -> np.ndarray:
    """The frame indices (T,) probe `name` shows; into the clip, or into the clip read at `PROBE[name].read`
    times its stride."""
    if name not in PROBE:
        raise ConfigError("analysis.probes", f"unknown probe {name!r}; expected some of {', '.join(PROBES)}")
    return PROBE[name].order(num_frames, clip_key, variant, seed)


def family_members(names: tuple[str, ...] | list[str], family: str) -> list[Probe]:
    """The probes of `family` among `names`, mildest severity first (the table's order)."""
    present = set(names)
    return [p for p in TABLE if p.family == family and p.name in present]
