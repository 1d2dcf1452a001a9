"""Diving48: vocab entries as class names, and clips that stay inside each entry's [start_frame, end_frame]."""

from __future__ import annotations

import json

import pytest
import torch
from test_data_helpers import frame_numbers, video_cfg, write_video

from motionprobe.data import build_dataset
from motionprobe.data.cache import CacheTask, build_cache
from motionprobe.data.layouts.dataset import transform_for
from motionprobe.errors import UserError

VOCAB = [["Back", "15som", "05Twis", "FREE"], ["Forward", "2som", "NoTwis", "PIKE"], ["Inward", "25som", "NoTwis", "TUCK"]]


def make_diving(root, train=None, test=None, vocab=VOCAB):
    """Four 40-frame clips in rgb/; "a" is annotated 10..29, "b" 0..40 (one past its last frame)."""
    for name in ("a_00001", "b_00002", "c_00003", "d_00004"):
        write_video(root / "rgb" / f"{name}.mp4", frames=40)
    lists = {"train": train or [{"vid_name": "a_00001", "label": 0, "start_frame": 10, "end_frame": 29},
                                {"vid_name": "b_00002", "label": 2, "start_frame": 0, "end_frame": 40}],
             "test": test or [{"vid_name": "c_00003", "label": 1, "start_frame": 0, "end_frame": 39},
                              {"vid_name": "d_00004", "label": 0, "start_frame": 50, "end_frame": 60},
                              {"vid_name": "e_00005", "label": 1, "start_frame": 0, "end_frame": 30}]}
    for split, entries in lists.items():
        (root / f"Diving48_V2_{split}.json").write_text(json.dumps(entries))
    (root / "Diving48_vocab.json").write_text(json.dumps(vocab))


def test_diving48_classes_ids_and_splits(tmp_path):
    make_diving(tmp_path)
    cfg = video_cfg("diving48", tmp_path)
    train, test = build_dataset(cfg.data, "train"), build_dataset(cfg.data, "test")
    assert train.classes == ["Back_15som_05Twis_FREE", "Forward_2som_NoTwis_PIKE", "Inward_25som_NoTwis_TUCK"]
    assert train.ids == ["a_00001.mp4@10-29#0", "b_00002.mp4@0-40#0"] and train.labels == [0, 2]
    assert test.ids == ["c_00003.mp4@0-39#0", "d_00004.mp4@50-60#0"] and test.metadata["missing"] == ["e_00005.mp4"]
    assert test.metadata["labelled"] is True and test.metadata["hflip_safe"] is True


def test_diving48_clips_stay_inside_the_annotated_frames(tmp_path):
    make_diving(tmp_path)
    train = build_dataset(video_cfg("diving48", tmp_path).data, "train")
    # a: frames 10..29 (20 frames); the centered 8-frame clip starts 6 frames in: frames 16..23
    assert frame_numbers(train[0]["clip"], "CTHW") == list(range(16, 24))
    # b: 0..40 on a 40-frame video is cut at frame 39, as if end_frame counted frames: centered 16..23
    assert frame_numbers(train[1]["clip"], "CTHW") == list(range(16, 24))
    spread = build_dataset(video_cfg("diving48", tmp_path, clips_per_video=3).data, "train")
    assert [frame_numbers(spread[i]["clip"], "CTHW")[0] for i in range(3)] == [10, 16, 22]  # starts 0, 6, 12 in range
    random = build_dataset(video_cfg("diving48", tmp_path).data, "train", training=True)
    torch.manual_seed(0)
    firsts = set()
    for _ in range(60):
        numbers = frame_numbers(random[0]["clip"], "CTHW")
        assert numbers == list(range(numbers[0], numbers[0] + 8)) and 10 <= numbers[0] and numbers[-1] <= 29
        firsts.add(numbers[0])
    assert firsts == set(range(10, 23))  # every start inside the range, and none outside


def test_diving48_range_outside_the_video_is_skipped(tmp_path):
    make_diving(tmp_path)
    test = build_dataset(video_cfg("diving48", tmp_path).data, "test")
    item = test[test.ids.index("d_00004.mp4@50-60#0")]
    assert item["clip"] is None and "annotated frames 50..60 are outside the video (40 frames)" in item["skipped"]


def test_diving48_cached_clips_equal_decoded_ones(tmp_path):
    make_diving(tmp_path)
    cfg = video_cfg("diving48", tmp_path, clips_per_video=2)
    decoded = build_dataset(cfg.data, "train")
    tasks = [CacheTask(str(decoded.root / r.path), r.path) for r in decoded.records]
    build_cache(tasks, tmp_path / "cache", transform_for(cfg.data, False), progress=False, workers=1)
    cfg = cfg.evolve(data={"cache": str(tmp_path / "cache")})
    cached = build_dataset(cfg.data, "train")
    assert cached.cache is not None and cached.cache.get(cached.root / "a_00001.mp4", "a_00001.mp4").shape[0] == 40
    for i in range(len(decoded)):
        assert torch.equal(decoded[i]["clip"], cached[i]["clip"]), decoded.ids[i]


@pytest.mark.parametrize("change, message", [
    ({"vocab": VOCAB + [["Back", "15som", "05Twis", "FREE"]]},
     r"vocab.json: entry 4: class 'Back_15som_05Twis_FREE' appears twice \(first as entry 1\)"),
    ({"train": [{"vid_name": "a_00001", "label": 3, "start_frame": 0, "end_frame": 9}]},
     r"train.json: entry 1: label 3 is not a class index \(0..2\)"),
    ({"train": [{"vid_name": "a_00001", "label": 0, "start_frame": 20, "end_frame": 9}]},
     "train.json: entry 1: end_frame 9 is before start_frame 20"),
    ({"train": [{"vid_name": "../a_00001", "label": 0}]}, "entry 1: vid_name '../a_00001' is not a plain file name"),
    ({"train": [{"vid_name": "a_00001", "label": 0, "start_frame": 0, "end_frame": 9},
                {"vid_name": "a_00001", "label": 1, "start_frame": 0, "end_frame": 9}]},
     r"train.json: entry 2: 'a_00001.mp4@0-9' is listed again with label 1 \(Forward_2som_NoTwis_PIKE\); "
     r".*train.json: entry 1 gives label 0"),
])
def test_diving48_bad_annotations(tmp_path, change, message):
    make_diving(tmp_path, **change)
    with pytest.raises(UserError, match=message):
        build_dataset(video_cfg("diving48", tmp_path).data, "train")


def test_diving48_annotations_folder_and_duplicates(tmp_path):
    make_diving(tmp_path / "d", train=[{"vid_name": "a_00001", "label": 0, "start_frame": 0, "end_frame": 9}] * 2)
    (tmp_path / "d" / "annotations").mkdir()
    for name in ("Diving48_V2_train.json", "Diving48_V2_test.json", "Diving48_vocab.json"):
        (tmp_path / "d" / name).rename(tmp_path / "d" / "annotations" / name)
    train = build_dataset(video_cfg("diving48", tmp_path / "d").data, "train")
    assert train.ids == ["a_00001.mp4@0-9#0"] and train.metadata["duplicates"] == 1
