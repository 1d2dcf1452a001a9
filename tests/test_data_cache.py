"""The frame cache: clips equal to decoding, invalidated by source or preprocessing changes, resumable."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from test_data_helpers import frame_numbers, video_cfg, write_video

from motionprobe.data import build_dataset
from motionprobe.data.cache import CacheTask, FrameCache, build_cache
from motionprobe.data.layouts.dataset import transform_for
from motionprobe.errors import ConfigError


def make_folder_dataset(root, n=3):
    for j in range(n):
        write_video(root / "jump" / f"v{j}.avi", frames=20 + j)
    write_video(root / "run" / "w.mp4", frames=12)
    (root / "run" / "broken.avi").write_text("not a video")


def tasks_of(cfg):
    ds = build_dataset(cfg.data, "test")
    return [CacheTask(str(ds.root / r.path), r.path) for r in ds.records]


def test_cached_clips_equal_decoded_clips(tmp_path):
    make_folder_dataset(tmp_path / "videos")
    cfg = video_cfg("folder", tmp_path / "videos", test_fraction=0.0, resize=(20, 28), crop_size=16)
    summary = build_cache(tasks_of(cfg), tmp_path / "cache", transform_for(cfg.data, False), progress=False, workers=1)
    assert (summary.cached, summary.reused) == (4, 0)
    assert list(summary.failed) == ["run/broken.avi"] and "not a readable video" in summary.failed["run/broken.avi"]
    index = json.loads((tmp_path / "cache" / "index.json").read_text())
    assert index["preprocessing"] == {"resize": [20, 28], "resize_mode": "fixed"}
    assert index["entries"]["jump/v2.avi"]["num_frames"] == 22
    stored = np.load(tmp_path / "cache" / index["entries"]["jump/v2.avi"]["file"], mmap_mode="r")
    assert stored.shape == (22, 20, 28, 3) and stored.dtype == np.uint8

    decoded = build_dataset(cfg.data, "test")
    cfg = cfg.evolve(data={"cache": str(tmp_path / "cache")})
    cached = build_dataset(cfg.data, "test")
    assert cached.ids == decoded.ids
    for i in range(len(decoded)):
        a, b = decoded[i], cached[i]
        if a["clip"] is None:
            assert b["clip"] is None  # the broken file is skipped either way
            continue
        assert torch.equal(a["clip"], b["clip"]), a["id"]
    assert frame_numbers(cached[cached.ids.index("jump/v2.avi#0")]["clip"], "CTHW") == list(range(7, 15))


def test_changed_source_is_decoded_again_and_rebuilt(tmp_path):
    make_folder_dataset(tmp_path / "videos", n=2)
    cfg = video_cfg("folder", tmp_path / "videos", test_fraction=0.0)
    transform = transform_for(cfg.data, False)
    build_cache(tasks_of(cfg), tmp_path / "cache", transform, progress=False, workers=1)
    cache = FrameCache(tmp_path / "cache", transform)
    source = tmp_path / "videos" / "jump" / "v0.avi"
    assert cache.get(source, "jump/v0.avi") is not None

    write_video(source, frames=9)  # same name, new content
    st = source.stat()
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert cache.get(source, "jump/v0.avi") is None  # stale: not used
    cfg = cfg.evolve(data={"cache": str(tmp_path / "cache")})
    item = build_dataset(cfg.data, "test")[0]
    assert item["id"] == "jump/v0.avi#0" and frame_numbers(item["clip"], "CTHW") == list(range(8))  # 20 frames cached: 6..13

    again = build_cache(tasks_of(cfg), tmp_path / "cache", transform, progress=False, workers=1)
    assert (again.cached, again.reused) == (1, 2)  # resumed: only the changed video is decoded
    assert FrameCache(tmp_path / "cache", transform).get(source, "jump/v0.avi").shape[0] == 9


def test_other_preprocessing_ignores_the_cache(tmp_path, caplog):
    make_folder_dataset(tmp_path / "videos", n=1)
    cfg = video_cfg("folder", tmp_path / "videos", test_fraction=0.0)
    build_cache(tasks_of(cfg), tmp_path / "cache", transform_for(cfg.data, False), progress=False, workers=1)
    other = video_cfg("folder", tmp_path / "videos", test_fraction=0.0, resize=(26, 34), cache=str(tmp_path / "cache"))
    with caplog.at_level("WARNING", logger="motionprobe.data"):
        ds = build_dataset(other.data, "test")
    assert "decoding instead" in caplog.text
    assert ds[0]["clip"].shape == (3, 8, 24, 24)
    rebuilt = build_cache(tasks_of(other), tmp_path / "cache", transform_for(other.data, False), progress=False, workers=1)
    assert rebuilt.reused == 0 and rebuilt.cached == 2


def test_parallel_build_matches_serial(tmp_path):
    make_folder_dataset(tmp_path / "videos", n=3)
    cfg = video_cfg("folder", tmp_path / "videos", test_fraction=0.0)
    transform = transform_for(cfg.data, False)
    build_cache(tasks_of(cfg), tmp_path / "serial", transform, progress=False, workers=1)
    parallel = build_cache(tasks_of(cfg), tmp_path / "parallel", transform, progress=False, workers=2)
    assert parallel.cached == 4 and list(parallel.failed) == ["run/broken.avi"]
    serial_index = json.loads((tmp_path / "serial" / "index.json").read_text())["entries"]
    for rel, entry in serial_index.items():
        a = np.load(tmp_path / "serial" / entry["file"])
        b = np.load(tmp_path / "parallel" / entry["file"])
        assert np.array_equal(a, b), rel


def test_bad_cache_folder(tmp_path):
    make_folder_dataset(tmp_path / "videos", n=1)
    cfg = video_cfg("folder", tmp_path / "videos", cache=str(tmp_path / "nothing"))
    with pytest.raises(ConfigError, match="data.cache: .* holds no index.json; make one with 'motionprobe data cache'"):
        build_dataset(cfg.data, "test")


# ---------------------------------------------------------------------------------------------- damaged caches


def built_cache(tmp_path):
    """A cache of a 3-video folder dataset, and the dataset's decoded clips to compare with."""
    make_folder_dataset(tmp_path / "videos", n=2)
    cfg = video_cfg("folder", tmp_path / "videos", test_fraction=0.0)
    build_cache(tasks_of(cfg), tmp_path / "cache", transform_for(cfg.data, False), progress=False, workers=1)
    decoded = build_dataset(cfg.data, "test")
    cfg = cfg.evolve(data={"cache": str(tmp_path / "cache")})
    return cfg, {item["id"]: item["clip"] for item in (decoded[i] for i in range(len(decoded)))}


def edit_index(tmp_path, rel, **changes):
    path = tmp_path / "cache" / "index.json"
    index = json.loads(path.read_text())
    index["entries"][rel].update(changes)
    path.write_text(json.dumps(index))


@pytest.mark.parametrize("file", ["ABSOLUTE", "../planted.npy", "frames/../../planted.npy", "frames/x/../../../planted.npy"])
def test_index_entries_pointing_outside_the_cache_are_not_read(tmp_path, file):
    cfg, decoded = built_cache(tmp_path)
    planted = np.zeros((20, 30, 40, 3), np.uint8)  # the shape the entry promises: only the path gives it away
    np.save(tmp_path / "planted.npy", planted)
    edit_index(tmp_path, "jump/v0.avi", file=str(tmp_path / "planted.npy") if file == "ABSOLUTE" else file)
    ds = build_dataset(cfg.data, "test")
    assert ds.cache.get(tmp_path / "videos" / "jump" / "v0.avi", "jump/v0.avi") is None
    assert torch.equal(ds[ds.ids.index("jump/v0.avi#0")]["clip"], decoded["jump/v0.avi#0"])  # decoded, not zeros


@pytest.mark.parametrize("damage", ["shape", "frames", "dtype", "garbage", "pickle", "missing"])
def test_damaged_arrays_cost_speed_not_correctness(tmp_path, damage):
    cfg, decoded = built_cache(tmp_path)
    index = json.loads((tmp_path / "cache" / "index.json").read_text())
    array_path = tmp_path / "cache" / index["entries"]["jump/v1.avi"]["file"]
    good = np.load(array_path)
    if damage == "shape":
        np.save(array_path, good[..., 0])  # (T, H, W): no channels
    elif damage == "frames":
        np.save(array_path, good[:5])  # fewer frames than the entry says
    elif damage == "dtype":
        np.save(array_path, good.astype(np.float32))
    elif damage == "garbage":
        array_path.write_bytes(b"\x93NUMPY not really")
    elif damage == "pickle":
        np.save(array_path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    else:
        array_path.unlink()
    ds = build_dataset(cfg.data, "test")
    for i in range(len(ds)):
        item = ds[i]
        if item["clip"] is not None:
            assert torch.equal(item["clip"], decoded[item["id"]]), item["id"]
    assert "jump/v1.avi#0" not in ds.skipped
    again = build_cache(tasks_of(cfg), tmp_path / "cache", transform_for(cfg.data, False), progress=False, workers=1)
    assert (again.cached, again.reused) == (1, 2)  # the damaged entry is decoded again, the rest kept
    assert np.array_equal(np.load(array_path), good)


def test_cache_from_another_decoder_is_not_used(tmp_path, caplog):
    """An index without the decoder's conventions (made before rotated videos were turned upright)."""
    cfg, decoded = built_cache(tmp_path)
    path = tmp_path / "cache" / "index.json"
    index = json.loads(path.read_text())
    del index["decoding"]
    path.write_text(json.dumps(index))
    with caplog.at_level("WARNING", logger="motionprobe.data"):
        ds = build_dataset(cfg.data, "test")
    assert not ds.cache.usable and "decoding instead" in caplog.text
    rebuilt = build_cache(tasks_of(cfg), tmp_path / "cache", transform_for(cfg.data, False), progress=False, workers=1)
    assert rebuilt.reused == 0 and rebuilt.cached == 3


def test_rotated_videos_are_cached_upright(tmp_path):
    write_video(tmp_path / "videos" / "phone" / "p.mp4", width=40, height=30, rotation=-90)
    write_video(tmp_path / "videos" / "flat" / "f.mp4", width=40, height=30)
    cfg = video_cfg("folder", tmp_path / "videos", test_fraction=0.0, resize=(40, 30), crop_size=24)
    decoded = build_dataset(cfg.data, "test")
    build_cache(tasks_of(cfg), tmp_path / "cache", transform_for(cfg.data, False), progress=False, workers=1)
    cfg = cfg.evolve(data={"cache": str(tmp_path / "cache")})
    cached = build_dataset(cfg.data, "test")
    assert cached.cache.get(tmp_path / "videos" / "phone" / "p.mp4", "phone/p.mp4").shape == (20, 40, 30, 3)
    for i in range(len(decoded)):
        assert torch.equal(decoded[i]["clip"], cached[i]["clip"])
