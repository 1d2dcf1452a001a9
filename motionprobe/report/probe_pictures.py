"""One example strip per temporal probe: the same clip as the model saw it, original and probed.

The clip is one of the analysable class needing the most motion (by its motion bound), the first the
model gets right on its full clip. Each probe's strip has two rows of T frames: the original clip and
the clip under the probe, the number in each probed frame's corner saying which original frame it is
(for `fast`, which frame of the window twice as long). The order is the analysis' own
(`motionprobe.probes.probe_order` with the analysis' seed and the clip's position; the first draw of
a random probe, as the confusion counts in results.json), and the model classifies both rows again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..analysis.engine import Model
from ..analysis.results_type import Probes, Results
from ..data.base import read_at, to_float
from ..errors import ConfigError
from ..probes import CLASSIC, PROBE
from .canvas import Row, animation, strip, to_frames, write_gif, write_png
from .pictures import ClipRecord, Picture, read_per_clip, verdict
from .view import headline_k, motion_extremes, percent
from .words import PROBE_WORDS


def probe_clip(records: list[ClipRecord], class_name: str | None) -> ClipRecord | None:
    """The clip to show: of `class_name` when given and present, the model right on the original first."""
    mine = [r for r in records if class_name is None or r.class_name == class_name] or records
    if not mine:
        return None
    return min(mine, key=lambda r: r.pred["original"] != r.label)


def probed(name: str, clip: torch.Tensor, dataset: Any, position: int,
           seed: int) -> tuple[torch.Tensor, dict[int, str]] | None:
    """The clip (3, T, H, W) as probe `name` shows it and, per position, the frame shown there (of the clip, or
    of the window the sped-up probes read); None where the dataset cannot read the clip at the probe's stride."""
    probe = PROBE[name]
    order = probe.order(clip.shape[1], clip_key=position, variant=0, seed=seed)
    source = clip
    if probe.read > 1:
        read = read_at(dataset, position, probe.read)
        if read is None:
            return None
        source = to_float(read.clip).to(clip.device)
    return source[:, torch.from_numpy(order).to(clip.device)], {j: str(probe.read * int(i)) for j, i in enumerate(order)}


def _confusion_text(probes: Probes, name: str, class_name: str) -> str:
    """" Its clips of X under the probe were called: a 3, b 1." from the confusion counts (first draw)."""
    counts = (probes.confusion.get(name) or {}).get(class_name) or {}
    if not counts:
        return ""
    called = ", ".join(f"{c} {n}" for c, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return f" Under this probe the clips of {class_name} were called: {called}."


def draw_probe_strips(results: Results, analysis_dir: str | Path, out_dir: str | Path, *, model: Model, dataset: Any,
                      device: str | torch.device = "cpu") -> tuple[list[Picture], list[str]]:
    """A strip PNG and GIF per classic probe that ran (one severity per family: the graded ones are the same
    transforms, drawn in the figures), and notes on the probes not drawn; ([], []) without probes."""
    probes = results.probes
    names = [n for n in (probes.accuracy if probes else {}) if n in CLASSIC]
    if not names:
        return [], []
    k = probes.bound_agreement.get("k") or headline_k(results)
    extremes = motion_extremes(results, k) if k is not None else None
    records = read_per_clip(Path(analysis_dir) / "per_clip.csv")
    record = probe_clip(records, extremes.most.name if extremes else None)
    if record is None:
        return [], ["No probe strips: the analysis recorded no clip."]
    position = {str(clip_id): i for i, clip_id in enumerate(getattr(dataset, "ids", []))}
    if record.clip_id not in position:
        raise ConfigError("data.dataset", f"clip {record.clip_id!r} of the analysis is not in the dataset given; "
                                          "draw the pictures with the dataset the analysis ran on")
    pos = position[record.clip_id]
    clip = to_float(dataset[pos]["clip"]).to(device)
    seed = results.seed
    classes, target = list(results.classes), results.target or "label"
    with torch.inference_mode():
        original = int(model(clip[None]).argmax(dim=1))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    why = (f"the analysable class needing the most motion (motion bound {percent(extremes.most.motion_bound)} points "
           f"at k = {extremes.k})" if extremes else "no analysable class has a motion bound, so the first clip the model "
                                                     "gets right")
    pictures, notes = [], []
    for name in names:
        shown = probed(name, clip, dataset, pos, seed)
        if shown is None:
            notes.append(f"No strip for the {name} probe: clip {record.clip_id} cannot be read at "
                         f"{PROBE[name].read} times its stride (the short-video policy skips its video).")
            continue
        frames, marks = shown
        with torch.inference_mode():
            pred = int(model(frames[None]).argmax(dim=1))
        rows = [Row(f"original: {verdict(original, record.label, classes, target)}", to_frames(clip)),
                Row(f"{name}: {verdict(pred, record.label, classes, target)}", to_frames(frames), marks=marks)]
        title = f"{name}: {PROBE_WORDS.get(name, name)} — clip {record.clip_id} of {record.class_name}"
        drop, acc = probes.drop.get(name), probes.accuracy.get(name)
        caption = (f"Clip {record.clip_id} of {record.class_name}, {why}: the original and {PROBE_WORDS.get(name, name)}"
                   f"{' (the first draw, as in the confusion counts)' if name in ('shuffle', 'local_shuffle') else ''}. "
                   "The number in each probed frame's corner is the original frame shown there"
                   f"{' (of the window twice as long)' if name == 'fast' else ''}. Over all clips this probe scores "
                   f"{percent(acc.value if acc else None)}%, a drop of {percent(drop.value if drop else None)} points."
                   + _confusion_text(probes, name, record.class_name))
        stem = f"probe_{name}"
        pictures.append(Picture(name=stem, title=f"Temporal probe {name}", caption=caption,
                                png=write_png(strip(rows, title), out_dir / f"{stem}.png"),
                                gif=write_gif(animation(rows), out_dir / f"{stem}.gif")))
    return pictures, notes
