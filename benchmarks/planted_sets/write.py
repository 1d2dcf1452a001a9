"""Write a planted set to disk: encoded videos in its layout, the layout's annotation files, and truth.json.

    ucf101   <out>/UCF-101/<Class>/v_<Class>_gGG_cCC.avi      MPEG-4 part 2, groups g01–g07 test, g08– train
             <out>/ucfTrainTestlist/classInd.txt, trainlist01.txt, testlist01.txt
    hmdb51   <out>/<class>/<class>_vNNN.mp4                     H.264; NNN in a seeded order, not by split
             <out>/testTrainMulti_7030_splits/<class>_test_split1.txt     "<class>_vNNN.mp4 1|2|0"
    both     <out>/truth.json                                   motionprobe.planted-truth/1 (motionprobe/data/truth.py)

The truth file's `clips` are keyed by the path the layout's clip ids use (the part before '#').
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from motionprobe.data.export import clip_name, encode_avi, encode_video
from motionprobe.data.truth import FILE_NAME, write_truth
from motionprobe.errors import UserError
from motionprobe.io import atomic_write_bytes, atomic_write_text, code_version, read_json

from . import PlantedSet, draw

FPS = 25
AVI_QUANTIZER = 2  # MPEG-4 part 2; 1 is the best
MP4_CRF = 12  # H.264


def encode_mp4(frames: np.ndarray, fps: int = FPS, crf: int = MP4_CRF, gop: int = 12) -> bytes:
    """uint8 (T, H, W, 3) RGB → H.264 in MP4 (H and W even), with B-frames, as phones and Kinetics store video."""
    return encode_video(frames, "mp4", "libx264", {"crf": str(crf), "bf": "2"}, fps, gop)


def _ucf101(planted: PlantedSet, out: Path, videos: list[tuple[str, int, int]]) -> list[tuple[str, Path, str]]:
    """(split, label, index) → (relative path as clip ids name it, file, encoding); writes the lists."""
    placed, lines = [], {"train": [], "test": []}
    for split, label, j in videos:
        name = planted.classes[label]
        rel = f"{name}/{clip_name(name, split, j)}"
        placed.append((rel, out / "UCF-101" / rel, "avi"))
        lines[split].append(f"{rel} {label + 1}" if split == "train" else rel)
    lists = out / "ucfTrainTestlist"
    atomic_write_text(lists / "classInd.txt", "".join(f"{i + 1} {c}\n" for i, c in enumerate(planted.classes)))
    for split, rows in lines.items():
        atomic_write_text(lists / f"{split}list01.txt", "".join(f"{r}\n" for r in sorted(rows)))
    return placed


def _hmdb51(planted: PlantedSet, out: Path, videos: list[tuple[str, int, int]], seed: int) -> list[tuple[str, Path, str]]:
    """As `_ucf101`, for HMDB51's layout: each class's videos numbered in a seeded order, whatever their split."""
    tags = {"train": "1", "test": "2", "unused": "0"}
    placed, lines = [], {c: [] for c in planted.classes}
    for label, name in enumerate(planted.classes):
        mine = [v for v in videos if v[1] == label]
        order = np.random.default_rng([seed, planted.code, label]).permutation(len(mine))
        for (split, _, _), n in zip(mine, order, strict=True):
            file = f"{name}_v{n:03d}.mp4"
            placed.append((f"{name}/{file}", out / name / file, "mp4"))
            lines[name].append(f"{file} {tags[split]}")
    for name, rows in lines.items():
        atomic_write_text(out / "testTrainMulti_7030_splits" / f"{name}_test_split1.txt",
                          "".join(f"{r}\n" for r in sorted(rows)))
    return placed  # in the order of `videos`, which is class-major


def _class_major(videos: list[tuple[str, int, int]], num_classes: int) -> list[tuple[str, int, int]]:
    return [v for label in range(num_classes) for v in videos if v[1] == label]


def refuse_foreign(out: Path, planted: PlantedSet) -> None:
    """Write only into an empty folder or over an earlier copy of the same set."""
    if not out.exists() or not any(out.iterdir()):
        return
    truth = out / FILE_NAME
    source = read_json(truth).get("source") if truth.is_file() else None
    if source != source_of(planted):
        raise UserError(f"{out}: not empty and not a copy of planted set {planted.name!r}; choose an empty folder")


def source_of(planted: PlantedSet) -> str:
    return f"benchmarks.planted_sets {planted.name}"


def write_set(planted: PlantedSet, out: str | Path, *, seed: int = 0, train_per_class: int | None = None,
              test_per_class: int | None = None, unused_per_class: int | None = None, progress: bool = True) -> dict:
    """Draw, encode and write every video of the set into `out`, then its truth.json; a summary."""
    out = Path(out)
    refuse_foreign(out, planted)
    started = time.monotonic()
    counts = {"train": planted.train_per_class if train_per_class is None else train_per_class,
              "test": planted.test_per_class if test_per_class is None else test_per_class,
              "unused": planted.unused_per_class if unused_per_class is None else unused_per_class}
    if planted.layout == "ucf101":
        counts["unused"] = 0  # UCF101's lists have no unused videos
    videos = _class_major([(split, label, j) for split, n in counts.items() for label in range(len(planted.classes))
                           for j in range(n)], len(planted.classes))
    placed = _ucf101(planted, out, videos) if planted.layout == "ucf101" else _hmdb51(planted, out, videos, seed)
    clips, total_bytes = {}, 0
    for (split, label, j), (rel, path, codec) in tqdm(list(zip(videos, placed, strict=True)), unit="video",
                                                      desc=f"planted set {planted.name}", disable=not progress):
        frames, info = draw(planted, seed, split, label, j)
        data = encode_avi(frames, fps=FPS, quantizer=AVI_QUANTIZER) if codec == "avi" else encode_mp4(frames)
        atomic_write_bytes(path, data)
        total_bytes += len(data)
        clips[rel] = {"split": split, "label": label, "class": planted.classes[label], **info}
    height, width = planted.size
    write_truth(out / FILE_NAME, planted.classes, planted.kinds, planted.truth, clips, source=source_of(planted),
                seed=seed, height=height, width=width, layout=planted.layout, fps=FPS,
                per_class={split: n for split, n in counts.items() if n}, code_version=code_version())
    return {"out": str(out), "videos": {s: n * len(planted.classes) for s, n in counts.items() if n},
            "bytes": total_bytes, "seconds": round(time.monotonic() - started, 1)}
