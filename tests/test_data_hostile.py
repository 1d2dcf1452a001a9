"""Hostile dataset trees and annotations: symlink cycles, links into and out of the tree, repeated and conflicting entries.

Each case ends in a correct dataset (with what was skipped counted and warned once) or a one-line
refusal that names the file and line.
"""

from __future__ import annotations

import os
import shutil

import pytest
from test_data_helpers import video_cfg, write_video
from test_data_layouts import make_hmdb, make_kinetics, make_list, make_ucf

from motionprobe.cli import main
from motionprobe.data import build_dataset
from motionprobe.errors import UserError


def make_presplit(root):
    """train/ 4 videos, test/ 13 videos (A: 7, B: 6): a small copy of the folder layout."""
    for split, n in (("train", 4), ("test", 13)):
        for j in range(n):
            write_video(root / split / ("A" if j % 2 == 0 else "B") / f"{split}{j}.avi", frames=9)


def labels_follow_folders(dataset) -> bool:
    return all(dataset.classes[r.label] == r.path.split("/")[-2] for r in dataset.records)


def test_symlink_cycle_does_not_repeat_the_tree(tmp_path, caplog, capsys):
    """cp -r data loop; ln -s .. loop/test/A/up: before, `data info` counted 3331 test videos, B's as A's."""
    make_presplit(tmp_path / "data")
    shutil.copytree(tmp_path / "data", tmp_path / "loop")
    os.symlink("..", tmp_path / "loop" / "test" / "A" / "up")
    with caplog.at_level("WARNING", logger="motionprobe.data"):
        test = build_dataset(video_cfg("folder", tmp_path / "loop").data, "test")
    assert len(test) == 13 and labels_follow_folders(test)
    assert test.ids == build_dataset(video_cfg("folder", tmp_path / "data").data, "test").ids
    assert test.metadata["skipped_links"] == ["test/A/up"]
    assert [r.getMessage() for r in caplog.records] == [
        "folder test: skipped 1 folder link(s) that lead back into the dataset or to a folder already read "
        "(first: test/A/up)"]
    assert main(["data", "info", "--dataset", "folder", "--root", str(tmp_path / "loop"), "--preset", "tiny"]) == 0
    assert "test: 13 videos, 13 clips; per class min 6, max 7" in capsys.readouterr().out


def test_links_out_of_the_tree_are_followed(tmp_path):
    """Datasets are often linked in from other disks: file links and folder links pointing outside work."""
    write_video(tmp_path / "other_disk" / "more_jump" / "x.avi")
    write_video(tmp_path / "other_disk" / "y.avi")
    write_video(tmp_path / "ds" / "jump" / "a.avi")
    (tmp_path / "ds" / "run").mkdir()
    os.symlink(tmp_path / "other_disk" / "more_jump", tmp_path / "ds" / "jump" / "linked")
    os.symlink(tmp_path / "other_disk" / "y.avi", tmp_path / "ds" / "run" / "y.avi")
    os.symlink(tmp_path / "ds", tmp_path / "ds_link")  # the root itself a link
    test = build_dataset(video_cfg("folder", tmp_path / "ds_link", test_fraction=0.0).data, "test")
    assert test.ids == ["jump/a.avi#0", "jump/linked/x.avi#0", "run/y.avi#0"] and test.labels == [0, 0, 1]
    assert test.metadata["skipped_links"] == [] and test[1]["clip"] is not None


def test_links_back_into_the_tree_or_to_a_folder_already_read_are_skipped(tmp_path):
    write_video(tmp_path / "ds" / "A" / "a.avi")
    write_video(tmp_path / "ds" / "B" / "b.avi")
    write_video(tmp_path / "shared" / "s.avi")
    os.symlink("../B", tmp_path / "ds" / "A" / "alias_of_B")  # would label b.avi as A, walked before B/
    os.symlink(".", tmp_path / "ds" / "B" / "self")
    os.symlink(tmp_path / "shared", tmp_path / "ds" / "A" / "s1")
    os.symlink(tmp_path / "shared", tmp_path / "ds" / "B" / "s2")  # the same folder again
    test = build_dataset(video_cfg("folder", tmp_path / "ds", test_fraction=0.0).data, "test")
    assert test.ids == ["A/a.avi#0", "A/s1/s.avi#0", "B/b.avi#0"] and test.labels == [0, 0, 1]
    assert test.metadata["skipped_links"] == ["A/alias_of_B", "B/s2", "B/self"]


# ---------------------------------------------------------------------------------------------- repeats


def test_repeated_list_lines_are_used_once(tmp_path, caplog):
    make_list(tmp_path)
    (tmp_path / "train.txt").write_text("clips/a.avi 0\nclips/a.avi 0\nclips/b b.mp4 1\nclips/a.avi 0\n")
    with caplog.at_level("WARNING", logger="motionprobe.data"):
        train = build_dataset(video_cfg("list", tmp_path).data, "train")
    assert train.ids == ["clips/a.avi#0", "clips/b b.mp4#0"] and train.metadata["duplicates"] == 2
    assert [r.getMessage() for r in caplog.records] == [
        f"list train: 2 repeated annotation entries are left out, each video is used once (first: clips/a.avi at "
        f"{tmp_path / 'train.txt'}:2)"]


def test_repeated_lines_in_ucf101_hmdb51_kinetics(tmp_path):
    lists = make_ucf(tmp_path / "ucf")
    with (lists / "testlist01.txt").open("a") as f:  # the same file again, once in the other spelling
        f.write("ApplyLipstick/v_ApplyLipstick_g01_c01.avi\nHandstandPushups/v_HandStandPushups_g01_c01.avi\n")
    test = build_dataset(video_cfg("ucf101", tmp_path / "ucf").data, "test")
    assert len(test) == 4 and test.metadata["duplicates"] == 2

    splits = make_hmdb(tmp_path / "hmdb")
    with (splits / "brush_hair_test_split1.txt").open("a") as f:
        f.write("brush_hair_clip2.avi 2\n")
    assert build_dataset(video_cfg("hmdb51", tmp_path / "hmdb").data, "test").metadata["duplicates"] == 1

    make_kinetics(tmp_path / "k")
    with (tmp_path / "k" / "annotations" / "train.csv").open("a") as f:
        f.write('"abseiling",aaa-1,0,10,train,0\n')
    train = build_dataset(video_cfg("kinetics", tmp_path / "k").data, "train")
    assert len(train) == 3 and train.metadata["duplicates"] == 1
    with (tmp_path / "k" / "annotations" / "train.csv").open("a") as f:
        f.write('"playing paintball",aaa-1,0,10,train,0\n')
    with pytest.raises(UserError, match=r"train.csv:6: 'train/abseiling/aaa-1_000000_000010.mp4' is listed again with "
                                        r"label 1 \(playing paintball\); .*train.csv:2 gives label 0 \(abseiling\)"):
        build_dataset(video_cfg("kinetics", tmp_path / "k").data, "train")


def test_one_video_with_two_labels_is_an_error_naming_both_lines(tmp_path):
    make_list(tmp_path)
    (tmp_path / "test.txt").write_text("clips/c.avi 1\nclips/a.avi 0\nclips/a.avi 1\n")
    with pytest.raises(UserError) as err:
        build_dataset(video_cfg("list", tmp_path).data, "test")
    assert str(err.value) == (f"{tmp_path / 'test.txt'}:3: 'clips/a.avi' is listed again with label 1 (run); "
                              f"{tmp_path / 'test.txt'}:2 gives label 0 (jump)")


@pytest.mark.parametrize("layout, text, message", [
    ("ucf101", "1 ApplyLipstick\n2 HandstandPushups\n3 ApplyLipstick\n",
     r"classInd.txt:3: class 'ApplyLipstick' appears twice \(first on line 1\)"),
    ("ucf101", "1 ApplyLipstick\n2 HandstandPushups\n3 applylipstick\n",
     r"classInd.txt:3: class 'applylipstick' appears twice \(first on line 1\)"),
    ("list", "jump\nrun\njump\n", r"classes.txt:3: class 'jump' appears twice \(first on line 1\)"),
])
def test_class_file_naming_a_class_twice_is_refused(tmp_path, layout, text, message):
    if layout == "ucf101":
        (make_ucf(tmp_path) / "classInd.txt").write_text(text)
    else:
        make_list(tmp_path)
        (tmp_path / "classes.txt").write_text(text)
    with pytest.raises(UserError, match=message):
        build_dataset(video_cfg(layout, tmp_path).data, "test")
