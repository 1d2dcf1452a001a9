"""Write the embedded benchmark as real video files in UCF101's layout, so the file loaders can be checked on it.

    <out>/UCF-101/<Class>/v_<Class>_gGG_cCC.avi      MPEG-4 part 2 in AVI, as UCF101 ships
    <out>/ucfTrainTestlist/classInd.txt, trainlist01.txt, testlist01.txt
    <out>/truth.json                                  the planted-truth file (data/truth.py), per clip too

As in UCF101, groups g01–g07 are the test split and g08–g25 the training split; the j-th clip of a
class goes to group 1 + j mod 7 (test) or 8 + j mod 18 (train), clip number 1 + j div 7 (or 18).
Class names keep the benchmark's spelling (drift_right), so `metadata["kinds"]` applies unchanged.

Frames are encoded at the best MPEG-4 quantizer (q=1). The remaining loss is mostly the codec's 4:2:0
chroma subsampling, which no MPEG-4 part 2 setting avoids (measured in tests/test_data_export.py).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from tqdm import tqdm

from ..errors import ConfigError
from ..io import atomic_write_bytes, atomic_write_text, code_version, read_json
from .synthetic import CLASSES, KIND, TRUTH, SyntheticMotionDataset
from .truth import FORMAT, SYNTHETIC_EXPORT_FORMAT, write_truth

EXPORT_SOURCE = "motionprobe data export-synthetic"  # truth.json `source`: what tells an export from other data
TEST_GROUPS = 7  # UCF101: g01–g07 test
TRAIN_GROUPS = 18  # g08–g25 train
FPS = 25
GOP = 12  # keyframe every 12 frames, so loading a clip really seeks


@dataclass
class ExportSummary:
    out: Path
    videos: dict[str, int] = field(default_factory=dict)  # split → count
    seconds: float = 0.0
    bytes: int = 0


def clip_name(class_name: str, split: str, j: int) -> str:
    """File name of the j-th clip (from 0) of a class in a split: v_<Class>_gGG_cCC.avi."""
    groups, first = (TEST_GROUPS, 1) if split == "test" else (TRAIN_GROUPS, TEST_GROUPS + 1)
    return f"v_{class_name}_g{first + j % groups:02d}_c{1 + j // groups:02d}.avi"


def encode_avi(frames: np.ndarray, fps: int = FPS, quantizer: int = 1, gop: int = GOP) -> bytes:
    """uint8 (T, H, W, 3) RGB → MPEG-4 part 2 in AVI at a fixed quantizer (1 best, 31 worst)."""
    return encode_video(frames, "avi", "mpeg4", {"qmin": str(quantizer), "qmax": str(quantizer)}, fps, gop)


def encode_video(frames: np.ndarray, container_format: str, codec: str, options: dict[str, str], fps: int,
                 gop: int) -> bytes:
    """uint8 (T, H, W, 3) RGB → the bytes of a video file: `codec` with `options` in `container_format`, yuv420p."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=fps, options=options)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.gop_size = gop
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def check_export_folder(out: str | Path, settings: dict) -> None:
    """Refuse to export into a folder that holds anything but an export of the same `settings`: its split lists
    and videos would be overwritten (a real UCF101 root's classInd.txt, trainlist01.txt and testlist01.txt) or mixed
    with other videos (an older export's)."""
    out = Path(out)
    entries = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if not entries:
        return
    truth = out / "truth.json"
    saved = read_json(truth) if truth.is_file() else None
    is_export = isinstance(saved, dict) and (saved.get("format") == SYNTHETIC_EXPORT_FORMAT or (
        saved.get("format") == FORMAT and saved.get("source") == EXPORT_SOURCE))
    if not is_export:
        raise ConfigError("out", f"{out} is not empty (it holds {entries[0]}{' …' if len(entries) > 1 else ''}) and "
                                 "is no export of the benchmark; export into an empty folder")
    for key, value in settings.items():
        if saved.get(key) != value:
            raise ConfigError("out", f"{out} holds an export of the benchmark with other settings ({key}="
                                     f"{saved.get(key)!r}, not {value!r}); export into another folder")


def export_settings(*, train_per_class: int, test_per_class: int, size: int, num_frames: int, seed: int,
                    quantizer: int = 1) -> dict:
    """What an export's videos depend on, as truth.json records it."""
    return {"seed": seed, "size": size, "num_frames": num_frames, "fps": FPS, "codec": "mpeg4", "quantizer": quantizer,
            "train_per_class": train_per_class, "test_per_class": test_per_class}


def export_synthetic(out: str | Path, *, train_per_class: int, test_per_class: int, size: int = 32,
                     num_frames: int = 16, seed: int = 0, quantizer: int = 1, progress: bool = True) -> ExportSummary:
    """Render the benchmark's train and test splits to `out` in UCF101's layout (split 1): an empty folder, or
    one holding an export of the same settings (`check_export_folder`)."""
    out = Path(out)
    settings = export_settings(train_per_class=train_per_class, test_per_class=test_per_class, size=size,
                               num_frames=num_frames, seed=seed, quantizer=quantizer)
    check_export_folder(out, settings)
    videos, lists = out / "UCF-101", out / "ucfTrainTestlist"
    start = time.monotonic()
    summary = ExportSummary(out)
    clips: dict[str, dict] = {}
    lines: dict[str, list[str]] = {"train": [], "test": []}
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        dataset = SyntheticMotionDataset(split, per_class=per_class, size=size, num_frames=num_frames, seed=seed)
        seen = {c: 0 for c in dataset.classes}
        for i in tqdm(range(len(dataset)), desc=f"exporting {split}", unit="clip", disable=not progress):
            clip, info = dataset.render(i)
            name = dataset.classes[info.label]
            rel = f"{name}/{clip_name(name, split, seen[name])}"
            seen[name] += 1
            frames = np.round(clip * 255.0).astype(np.uint8).transpose(1, 2, 3, 0)
            data = encode_avi(frames, quantizer=quantizer)
            atomic_write_bytes(videos / rel, data)
            summary.bytes += len(data)
            lines[split].append(f"{rel} {info.label + 1}" if split == "train" else rel)
            clips[rel] = {"split": split, "synthetic_id": dataset.ids[i], "label": info.label, "class": name,
                          "kind": info.kind, "velocity": list(info.velocity), "key_frames": list(info.key_frames)}
        summary.videos[split] = len(dataset)
    atomic_write_text(lists / "classInd.txt", "".join(f"{i + 1} {c}\n" for i, c in enumerate(CLASSES)))
    for split in ("train", "test"):
        atomic_write_text(lists / f"{split}list01.txt", "".join(f"{line}\n" for line in sorted(lines[split])))
    write_truth(out / "truth.json", CLASSES, KIND, TRUTH, clips, source=EXPORT_SOURCE, **settings,
                code_version=code_version())
    summary.seconds = time.monotonic() - start
    return summary
