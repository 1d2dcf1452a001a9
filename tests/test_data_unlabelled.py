"""A plain folder of videos as an unlabelled dataset, and several clips per video spread over long videos."""

from __future__ import annotations

import pytest
import torch
from test_data_helpers import frame_numbers, video_cfg, write_video
from torch.utils.data import DataLoader

from motionprobe.cli import main
from motionprobe.data import UNLABELLED, build_dataset, collate_clips
from motionprobe.errors import ConfigError


def test_videos_directly_in_the_root_are_an_unlabelled_dataset(tmp_path):
    for name, frames in (("a.mp4", 12), ("b.avi", 20), ("c.mkv", 9)):
        write_video(tmp_path / name, frames=frames)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("a folder without videos is no class")
    cfg = video_cfg("folder", tmp_path)  # test_fraction 0.3 does not apply: both splits are the whole folder
    train, test = build_dataset(cfg.data, "train", training=True), build_dataset(cfg.data, "test")
    assert UNLABELLED == -1
    assert train.classes == test.classes == []
    assert train.ids == test.ids == ["a.mp4#0", "b.avi#0", "c.mkv#0"]
    assert train.labels == test.labels == [UNLABELLED] * 3
    assert train.metadata["labelled"] is False and test.metadata["labelled"] is False
    batch = next(iter(DataLoader(test, batch_size=3, collate_fn=collate_clips)))
    assert batch["clip"].shape == (3, 3, 8, 24, 24) and batch["label"].tolist() == [-1, -1, -1]
    assert frame_numbers(test[1]["clip"], "CTHW") == list(range(6, 14))


def test_class_folders_beside_loose_videos_are_refused(tmp_path):
    write_video(tmp_path / "jump" / "a.avi")
    write_video(tmp_path / "b.avi")
    with pytest.raises(ConfigError) as err:
        build_dataset(video_cfg("folder", tmp_path).data, "test")
    assert err.value.path == "data.root" and "\n" not in str(err.value)
    assert "holds both class folders (e.g. jump/) and videos directly inside it (e.g. b.avi)" in str(err.value)


def test_data_info_says_a_dataset_is_unlabelled(tmp_path, capsys):
    for name in ("a.avi", "b.avi"):
        write_video(tmp_path / "videos" / name)
    assert main(["data", "info", "--dataset", "folder", "--root", str(tmp_path / "videos"), "--preset", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "unlabelled: no classes, every item's label is -1" in out
    assert "train: 2 videos, 2 clips\n" in out and "test: 2 videos, 2 clips\n" in out


def test_clips_per_video_spread_over_a_long_video(tmp_path):
    write_video(tmp_path / "long.avi", frames=100, gop=12)
    test = build_dataset(video_cfg("folder", tmp_path, clips_per_video=4).data, "test")
    clips = [frame_numbers(test[k]["clip"], "CTHW") for k in range(4)]
    # 100 frames, 8-frame clips: starts 0..92, four evenly spaced ones from the first to the last
    assert [c[0] for c in clips] == [0, 31, 61, 92] and clips[-1][-1] == 99
    assert all(c == list(range(c[0], c[0] + 8)) for c in clips)


def test_more_clips_than_distinct_starts_warns_once(tmp_path, caplog):
    write_video(tmp_path / "v" / "a.avi", frames=10)  # 3 distinct 8-frame clips
    write_video(tmp_path / "v" / "b.avi", frames=9)  # 2
    write_video(tmp_path / "v" / "c.avi", frames=40)  # 33: enough
    test = build_dataset(video_cfg("folder", tmp_path / "v", clips_per_video=5).data, "test")
    with caplog.at_level("WARNING", logger="motionprobe.data"):
        starts = {i: frame_numbers(test[i]["clip"], "CTHW")[0] for i in range(len(test))}
    warnings = [r.getMessage() for r in caplog.records if "distinct" in r.getMessage()]
    assert warnings == ["folder test: 5 clips per video asked, but a.avi has 10 frames, so only 3 distinct clip(s); "
                        "its clips repeat (and so may other short videos' clips: warned once)"]
    assert len({starts[i] for i in range(5)}) == 3 and len({starts[i] for i in range(10, 15)}) == 5
    torch.testing.assert_close(test[0]["clip"], test[1]["clip"])  # what the warning is about
