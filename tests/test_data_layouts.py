"""Every file layout built on disk from tiny real videos: counts, labels, splits, exact frames, bad input."""

from __future__ import annotations

import pytest
import torch
from test_data_helpers import frame_numbers, video_cfg, write_video
from torch.utils.data import DataLoader

from motionprobe.data import build_dataset, collate_clips
from motionprobe.errors import ConfigError, UserError

# ---------------------------------------------------------------------------------------------- UCF101


def make_ucf(root, frames=20):
    """Two classes, 3 train videos (groups 8–10) and 2 test videos (groups 1–2) each.

    HandstandPushups reproduces the official pitfall: classInd and the folder say HandstandPushups,
    the list files and file names say HandStandPushups.
    """
    videos = root / "UCF-101"
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("1 ApplyLipstick\n2 HandstandPushups\n")
    train, test = [], []
    for label, (folder, spelled) in enumerate([("ApplyLipstick", "ApplyLipstick"),
                                               ("HandstandPushups", "HandStandPushups")], start=1):
        for g in (1, 2, 8, 9, 10):
            name = f"v_{spelled}_g{g:02d}_c01.avi"
            write_video(videos / folder / name, frames=frames + g)
            if g >= 8:
                train.append(f"{spelled}/{name} {label}")
            else:
                test.append(f"{spelled}/{name}")
    (lists / "trainlist01.txt").write_text("\n".join(train) + "\n")
    (lists / "testlist01.txt").write_text("\n".join(test) + "\n")
    return lists


def test_ucf101_counts_labels_ids_and_exact_frames(tmp_path):
    make_ucf(tmp_path)
    train = build_dataset(video_cfg("ucf101", tmp_path).data, "train", training=True)
    test = build_dataset(video_cfg("ucf101", tmp_path).data, "test")
    assert train.classes == test.classes == ["ApplyLipstick", "HandstandPushups"]
    assert (len(train), len(test)) == (6, 4)
    assert sorted(train.labels) == [0, 0, 0, 1, 1, 1] and sorted(test.labels) == [0, 0, 1, 1]
    assert "HandstandPushups/v_HandStandPushups_g01_c01.avi#0" in test.ids
    assert test.metadata["missing"] == []
    item = test[test.ids.index("ApplyLipstick/v_ApplyLipstick_g01_c01.avi#0")]
    assert item["clip"].shape == (3, 8, 24, 24) and item["clip"].dtype == torch.uint8
    assert frame_numbers(item["clip"], "CTHW") == list(range(6, 14))  # 21 frames: centered 8 start at 6
    for _ in range(5):  # training clips: random but contiguous and inside the video
        numbers = frame_numbers(train[0]["clip"], "CTHW")
        assert numbers == list(range(numbers[0], numbers[0] + 8)) and 0 <= numbers[0] <= 28 - 8


def test_ucf101_lists_beside_the_video_root_and_several_clips_per_video(tmp_path):
    make_ucf(tmp_path)  # --root is UCF-101 itself; ucfTrainTestlist sits beside it
    cfg = video_cfg("ucf101", tmp_path / "UCF-101", clips_per_video=3)
    test = build_dataset(cfg.data, "test")
    assert len(test) == 12
    ids = [i for i in test.ids if i.startswith("ApplyLipstick/v_ApplyLipstick_g02_c01.avi")]
    assert [i.split("#")[1] for i in ids] == ["0", "1", "2"]
    clips = [frame_numbers(test[test.ids.index(i)]["clip"], "CTHW") for i in ids]
    assert [c[0] for c in clips] == [0, 7, 14]  # 22 frames: starts 0 .. 14 evenly spaced


def test_ucf101_missing_lists_say_where_they_looked(tmp_path):
    (tmp_path / "UCF-101").mkdir()
    with pytest.raises(UserError, match="classInd.txt not found; looked in .*ucfTrainTestlist"):
        build_dataset(video_cfg("ucf101", tmp_path).data, "test")
    make_ucf(tmp_path / "x")
    with pytest.raises(ConfigError, match="data.split: .*testlist02.txt not found") as err:
        build_dataset(video_cfg("ucf101", tmp_path / "x", split=2).data, "test")
    assert err.value.path == "data.split" and "--" not in str(err.value)


@pytest.mark.parametrize("line, message", [
    ("Juggling/v_Juggling_g01_c01.avi", r"testlist01.txt:5: unknown class 'Juggling' \(not in classInd.txt\)"),
    ("ApplyLipstick/v_ApplyLipstick_g01_c01.avi 1 extra", r"testlist01.txt:5: expected 'Class/video.avi \[index\]'"),
    ("../../etc/v_x.avi", r"testlist01.txt:5: path '../../etc/v_x.avi' leaves the dataset root"),
    ("/abs/ApplyLipstick/v.avi", r"testlist01.txt:5: path '/abs/ApplyLipstick/v.avi' leaves the dataset root"),
    ("ApplyLipstick/v_ApplyLipstick_g01_c01.avi 2", r"testlist01.txt:5: index 2 names class 'HandstandPushups'"),
])
def test_ucf101_bad_list_lines(tmp_path, line, message):
    lists = make_ucf(tmp_path)
    with (lists / "testlist01.txt").open("a") as f:
        f.write(line + "\n")
    with pytest.raises(UserError, match=message):
        build_dataset(video_cfg("ucf101", tmp_path).data, "test")


def test_ucf101_malformed_class_index(tmp_path):
    lists = make_ucf(tmp_path)
    (lists / "classInd.txt").write_text("1 ApplyLipstick\nHandstandPushups\n")
    with pytest.raises(UserError, match=r"classInd.txt:2: expected 'index ClassName'"):
        build_dataset(video_cfg("ucf101", tmp_path).data, "train")


def test_split_file_naming_a_missing_video_is_counted_not_fatal(tmp_path, caplog):
    lists = make_ucf(tmp_path)
    with (lists / "testlist01.txt").open("a") as f:
        f.write("ApplyLipstick/v_ApplyLipstick_g03_c01.avi\n")
    with caplog.at_level("WARNING", logger="motionprobe.data"):
        test = build_dataset(video_cfg("ucf101", tmp_path).data, "test")
    assert len(test) == 4
    assert test.metadata["missing"] == ["ApplyLipstick/v_ApplyLipstick_g03_c01.avi"]
    assert "1 of 5 listed videos are missing" in caplog.text


def test_unreadable_videos_are_skipped_and_counted(tmp_path):
    make_ucf(tmp_path)
    folder = tmp_path / "UCF-101" / "ApplyLipstick"
    (folder / "v_ApplyLipstick_g01_c01.avi").write_bytes(b"")  # zero bytes
    (folder / "v_ApplyLipstick_g02_c01.avi").write_text("not a video at all\n")  # text named .avi
    good = (folder / "v_ApplyLipstick_g08_c01.avi").read_bytes()
    (folder / "v_ApplyLipstick_g09_c01.avi").write_bytes(good[:200])  # truncated inside the header
    test = build_dataset(video_cfg("ucf101", tmp_path).data, "test")
    items = [test[i] for i in range(len(test))]
    skipped = [it["id"] for it in items if it["clip"] is None]
    assert sorted(skipped) == ["ApplyLipstick/v_ApplyLipstick_g01_c01.avi#0", "ApplyLipstick/v_ApplyLipstick_g02_c01.avi#0"]
    assert "empty file" in test.skipped["ApplyLipstick/v_ApplyLipstick_g01_c01.avi#0"]
    assert "not a readable video" in test.skipped["ApplyLipstick/v_ApplyLipstick_g02_c01.avi#0"]
    batches = list(DataLoader(test, batch_size=3, collate_fn=collate_clips))
    assert [b["clip"].shape[0] for b in batches] == [1, 1]
    assert sum(len(b["skipped"]) for b in batches) == 2
    train = build_dataset(video_cfg("ucf101", tmp_path).data, "train", training=True)
    bad = train[train.ids.index("ApplyLipstick/v_ApplyLipstick_g09_c01.avi#0")]
    assert bad["clip"] is None and "v_ApplyLipstick_g09_c01.avi" in bad["skipped"]


@pytest.mark.parametrize("policy, expected", [
    ("loop", [0, 1, 2, 3, 4, 0, 1, 2]),
    ("pad", [0, 1, 2, 3, 4, 4, 4, 4]),
    ("skip", None),
])
def test_short_video_policy_through_the_dataset(tmp_path, policy, expected):
    make_ucf(tmp_path)
    write_video(tmp_path / "UCF-101" / "ApplyLipstick" / "v_ApplyLipstick_g01_c01.avi", frames=5)
    write_video(tmp_path / "UCF-101" / "ApplyLipstick" / "v_ApplyLipstick_g02_c01.avi", frames=1)
    test = build_dataset(video_cfg("ucf101", tmp_path, short_video_policy=policy).data, "test")
    five = test[test.ids.index("ApplyLipstick/v_ApplyLipstick_g01_c01.avi#0")]
    one = test[test.ids.index("ApplyLipstick/v_ApplyLipstick_g02_c01.avi#0")]
    if expected is None:
        assert five["clip"] is None and "policy 'skip'" in five["skipped"]
        assert one["clip"] is None and len(test.skipped) == 2
    else:
        assert frame_numbers(five["clip"], "CTHW") == expected
        assert frame_numbers(one["clip"], "CTHW") == [0] * 8


# ---------------------------------------------------------------------------------------------- HMDB51


def make_hmdb(root, splits_beside=False):
    splits = (root.parent if splits_beside else root) / "testTrainMulti_7030_splits"
    splits.mkdir(parents=True)
    for cls in ("brush_hair", "climb_stairs"):
        lines = []
        for j, tag in enumerate([1, 1, 2, 0, 1, 2]):
            name = f"{cls}_clip{j}.avi"
            write_video(root / cls / name, frames=20)
            lines.append(f"{name} {tag} ")
        (splits / f"{cls}_test_split1.txt").write_text("\n".join(lines) + "\n")
    return splits


@pytest.mark.parametrize("beside", [False, True])
def test_hmdb51_tags_train_test_unused(tmp_path, beside):
    make_hmdb(tmp_path / "hmdb", splits_beside=beside)
    cfg = video_cfg("hmdb51", tmp_path / "hmdb")
    train, test = build_dataset(cfg.data, "train", training=True), build_dataset(cfg.data, "test")
    assert train.classes == ["brush_hair", "climb_stairs"]
    assert (len(train), len(test)) == (6, 4)
    assert "climb_stairs/climb_stairs_clip3.avi#0" not in train.ids + test.ids  # tag 0: unused
    assert test.labels == [0, 0, 1, 1]
    assert frame_numbers(test[0]["clip"], "CTHW") == list(range(6, 14))


def test_hmdb51_bad_tag_and_missing_split(tmp_path):
    splits = make_hmdb(tmp_path)
    (splits / "brush_hair_test_split1.txt").write_text("brush_hair_clip0.avi 3\n")
    with pytest.raises(UserError, match=r"brush_hair_test_split1.txt:1: expected 'video.avi 0\|1\|2'"):
        build_dataset(video_cfg("hmdb51", tmp_path).data, "train")
    with pytest.raises(UserError, match="no <class>_test_split2.txt files found; looked in"):
        build_dataset(video_cfg("hmdb51", tmp_path, split=2).data, "train")


# ---------------------------------------------------------------------------------------------- Kinetics


def make_kinetics(root):
    rows = {"train": [("abseiling", "aaa-1", 0, 10), ("playing paintball", "b_b2", 5, 15), ("abseiling", "ccc3", 1, 11)],
            "validate": [("playing paintball", "ddd4", 30, 40), ("abseiling", "gone5", 2, 12)]}
    for split, split_rows in rows.items():
        text = "label,youtube_id,time_start,time_end,split,is_cc\n"
        text += "".join(f'"{label}",{yid},{s},{e},{split},0\n' for label, yid, s, e in split_rows)
        (root / "annotations").mkdir(parents=True, exist_ok=True)
        (root / "annotations" / f"{split}.csv").write_text(text)
    write_video(root / "train" / "abseiling" / "aaa-1_000000_000010.mp4")  # per-class folders
    write_video(root / "train" / "playing paintball" / "b_b2_000005_000015.mp4")
    write_video(root / "train" / "abseiling" / "ccc3_000001_000011.mp4")
    write_video(root / "val" / "ddd4_000030_000040.mp4")  # flat; gone5 was never downloaded


def test_kinetics_csv_classes_and_missing_downloads(tmp_path):
    make_kinetics(tmp_path)
    cfg = video_cfg("kinetics", tmp_path)
    train, test = build_dataset(cfg.data, "train", training=True), build_dataset(cfg.data, "test")
    assert train.classes == test.classes == ["abseiling", "playing paintball"]
    assert (len(train), len(test)) == (3, 1)
    assert train.labels == [0, 1, 0]
    assert test.ids == ["val/ddd4_000030_000040.mp4#0"] and test.labels == [1]
    assert test.metadata["missing"] == ["abseiling/gone5_000002_000012.mp4"]
    assert frame_numbers(test[0]["clip"], "CTHW") == list(range(6, 14))


def test_kinetics_bad_csvs(tmp_path):
    make_kinetics(tmp_path)
    (tmp_path / "elsewhere" / "videos").mkdir(parents=True)
    csv = tmp_path / "annotations" / "validate.csv"
    csv.write_text("label,youtube_id,time_start,time_end\nabseiling,xyz,one,11\n")
    with pytest.raises(UserError, match=r"validate.csv:2: expected label,youtube_id,time_start,time_end"):
        build_dataset(video_cfg("kinetics", tmp_path).data, "test")
    csv.write_text("youtube_id,time_start,time_end\nxyz,1,11\n")
    with pytest.raises(UserError, match="validate.csv: missing column"):
        build_dataset(video_cfg("kinetics", tmp_path).data, "test")
    with pytest.raises(UserError, match="no train/validate CSV found; looked in"):
        build_dataset(video_cfg("kinetics", tmp_path / "elsewhere" / "videos").data, "test")


# ---------------------------------------------------------------------------------------------- list


def make_list(root):
    (root / "classes.txt").write_text("jump\nrun\n")
    write_video(root / "clips" / "a.avi")
    write_video(root / "clips" / "b b.mp4")  # spaces in paths are fine
    write_video(root / "clips" / "c.avi")
    (root / "train.txt").write_text("clips/a.avi 0\nclips/b b.mp4 1\n")
    (root / "test.txt").write_text("clips/c.avi 1\nclips/missing.avi 0\n")


def test_list_layout(tmp_path):
    make_list(tmp_path)
    cfg = video_cfg("list", tmp_path)
    train, test = build_dataset(cfg.data, "train", training=True), build_dataset(cfg.data, "test")
    assert train.classes == ["jump", "run"]
    assert train.ids == ["clips/a.avi#0", "clips/b b.mp4#0"] and train.labels == [0, 1]
    assert test.ids == ["clips/c.avi#0"] and test.metadata["missing"] == ["clips/missing.avi"]
    as_file = build_dataset(video_cfg("list", tmp_path / "train.txt").data, "test")  # --root may be the list itself
    assert as_file.ids == ["clips/a.avi#0", "clips/b b.mp4#0"]


@pytest.mark.parametrize("line, message", [
    ("clips/a.avi 2", r"test.txt:1: label 2 is not a class index \(0..1, 0-based\)"),
    ("clips/a.avi", r"test.txt:1: expected 'relative/path label_index'"),
    ("../outside.avi 0", r"test.txt:1: path '../outside.avi' leaves the dataset root"),
    ("/etc/passwd 0", r"test.txt:1: path '/etc/passwd' leaves the dataset root"),
    ("clips/../../x.avi 0", r"test.txt:1: path 'clips/../../x.avi' leaves the dataset root"),
])
def test_list_layout_bad_lines(tmp_path, line, message):
    make_list(tmp_path)
    (tmp_path / "test.txt").write_text(line + "\n")
    with pytest.raises(UserError, match=message):
        build_dataset(video_cfg("list", tmp_path).data, "test")


# ---------------------------------------------------------------------------------------------- folder


def test_folder_layout_ratio_split_is_stable_and_disjoint(tmp_path):
    for cls in ("jump", "run"):
        for j in range(5):
            write_video(tmp_path / cls / f"{cls}{j}.avi", frames=10)
    (tmp_path / "jump" / "notes.txt").write_text("not a video")
    cfg = video_cfg("folder", tmp_path, test_fraction=0.4)
    train, test = build_dataset(cfg.data, "train", training=True), build_dataset(cfg.data, "test")
    assert train.classes == ["jump", "run"]
    assert (len(train), len(test)) == (6, 4)
    assert not set(train.ids) & set(test.ids)
    assert sorted(train.labels + test.labels) == [0] * 5 + [1] * 5
    cfg = cfg.evolve(seed=123)  # the split does not depend on the run's seed
    assert build_dataset(cfg.data, "test").ids == test.ids
    assert len(build_dataset(video_cfg("folder", tmp_path, test_fraction=0.0).data, "test")) == 10


def test_folder_layout_presplit(tmp_path):
    write_video(tmp_path / "train" / "jump" / "a.avi")
    write_video(tmp_path / "train" / "run" / "b.avi")
    write_video(tmp_path / "val" / "run" / "c.avi")
    test = build_dataset(video_cfg("folder", tmp_path).data, "test")
    assert test.classes == ["jump", "run"] and test.ids == ["val/run/c.avi#0"] and test.labels == [1]


# ---------------------------------------------------------------------------------------------- all layouts


@pytest.mark.parametrize("layout, make", [("ucf101", make_ucf), ("hmdb51", make_hmdb), ("kinetics", make_kinetics),
                                          ("list", make_list), ("folder", None)])
def test_every_labelled_layout_says_so(tmp_path, layout, make):
    if make is None:
        write_video(tmp_path / "jump" / "a.avi")
    else:
        make(tmp_path)
    for split in ("train", "test"):
        ds = build_dataset(video_cfg(layout, tmp_path, test_fraction=0.0).data, split)
        assert ds.metadata["labelled"] is True and ds.metadata["hflip_safe"] is True
        assert ds.metadata["duplicates"] == 0 and ds.metadata["skipped_links"] == []
        assert all(0 <= label < len(ds.classes) for label in ds.labels)


@pytest.mark.parametrize("data, path, message", [
    ({"test_fraction": 1.0}, "data.test_fraction", r"expected a number in \[0, 1\), got 1.0"),
    ({"root": "/no/such/folder"}, "data.root", "/no/such/folder is not a folder"),
    ({"short_video_policy": "wrap"}, "data.short_video_policy", "expected one of loop, pad, skip, got 'wrap'"),
    ({"frame_stride": 0}, "data.frame_stride", "expected a positive integer, got 0"),
    ({"resize_mode": "stretch"}, "data.resize_mode", "expected one of fixed, short_side, got 'stretch'"),
    ({"crop_size": 64}, "data.crop_size", r"crop 64 is larger than the resized frame \(30, 40\)"),
    ({"dataset": "ucf102"}, "data.dataset", "'ucf102' is not available; expected one of"),
])
def test_bad_data_config_values_name_their_config_path(tmp_path, data, path, message):
    write_video(tmp_path / "jump" / "a.avi")
    cfg = video_cfg("folder", tmp_path, test_fraction=0.0)
    for key, value in data.items():
        cfg = cfg.evolve(data={key: value})
    with pytest.raises(ConfigError, match=message) as err:
        build_dataset(cfg.data, "test")
    assert err.value.path == path and "--" not in str(err.value)
