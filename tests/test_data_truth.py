"""The planted-truth file: applied by every file layout, found beside the data or named by data.truth, and
refused with one line when it describes other classes or is malformed."""

from __future__ import annotations

import json

import pytest
from test_data_diving48 import make_diving
from test_data_helpers import video_cfg, write_video
from test_data_layouts import make_hmdb, make_kinetics, make_list, make_ucf
from test_data_ssv2 import make_ssv2

from motionprobe.cli import main
from motionprobe.data import build_dataset
from motionprobe.data.truth import FORMAT, KINDS, SYNTHETIC_EXPORT_FORMAT, read_truth, write_truth
from motionprobe.errors import ConfigError, UserError


def make_folder(root):
    for cls in ("jump", "run"):
        write_video(root / cls / f"{cls}.avi")


MAKERS = {"ucf101": make_ucf, "hmdb51": make_hmdb, "kinetics": make_kinetics, "ssv2": make_ssv2,
          "diving48": make_diving, "list": make_list, "folder": make_folder}


def kinds_for(classes):
    return {c: KINDS[i % len(KINDS)] for i, c in enumerate(classes)}


@pytest.mark.parametrize("layout", list(MAKERS))
def test_every_layout_applies_the_truth_file_at_its_root(tmp_path, layout):
    MAKERS[layout](tmp_path)
    cfg = video_cfg(layout, tmp_path, test_fraction=0.0)
    plain = build_dataset(cfg.data, "test", seed=cfg.seed)
    assert "kinds" not in plain.metadata  # no truth file, no kinds
    kinds = kinds_for(plain.classes)
    write_truth(tmp_path / "truth.json", plain.classes[::-1], kinds, {"motion": "only the motion decides"},
                {plain.ids[0].split("#")[0]: {"key_frames": [3, 4]}})
    ds = build_dataset(cfg.data, "test", seed=cfg.seed)
    assert ds.metadata["kinds"] == kinds and list(ds.metadata["kinds"]) == ds.classes  # in the dataset's order
    assert ds.metadata["truth"] == {"motion": "only the motion decides"}
    assert ds.metadata["truth_file"] == str(tmp_path / "truth.json")
    assert read_truth(tmp_path / "truth.json").clips[ds.ids[0].split("#")[0]] == {"key_frames": [3, 4]}


def test_a_truth_file_for_other_classes_is_refused_in_one_line(tmp_path):
    make_list(tmp_path)
    write_truth(tmp_path / "truth.json", ["jump", "walk"], {"jump": "appearance", "walk": "motion"}, {})
    with pytest.raises(UserError) as err:
        build_dataset(video_cfg("list", tmp_path).data, "test")
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "truth.json"))
    assert "the dataset's class 'run' not in it" in message and "its class 'walk' not in the dataset" in message


def test_data_truth_names_the_file_and_wins_over_one_found(tmp_path):
    make_ucf(tmp_path / "ucf")  # its classes are ApplyLipstick and HandstandPushups
    write_truth(tmp_path / "ucf" / "truth.json", ["ApplyLipstick", "HandstandPushups"],
                {"ApplyLipstick": "appearance", "HandstandPushups": "motion"}, {})
    elsewhere = tmp_path / "notes" / "planted.json"
    elsewhere.parent.mkdir()
    # Spelled as the official lists spell it: names match case-insensitively, the dataset's spelling is kept.
    write_truth(elsewhere, ["applylipstick", "HandStandPushups"],
                {"applylipstick": "keyframe", "HandStandPushups": "implied"}, {})
    ds = build_dataset(video_cfg("ucf101", tmp_path / "ucf", truth=str(elsewhere)).data, "test")
    assert ds.metadata["kinds"] == {"ApplyLipstick": "keyframe", "HandstandPushups": "implied"}
    with pytest.raises(ConfigError, match="data.truth: .*nowhere.json: planted-truth file not found"):
        build_dataset(video_cfg("ucf101", tmp_path / "ucf", truth=str(tmp_path / "nowhere.json")).data, "test")


def test_data_info_takes_truth_and_says_where_the_kinds_come_from(tmp_path, capsys):
    (tmp_path / "set").mkdir()
    make_list(tmp_path / "set")
    truth = tmp_path / "kinds.json"
    write_truth(truth, ["jump", "run"], {"jump": "appearance", "run": "motion"}, {})
    assert main(["data", "info", "--dataset", "list", "--root", str(tmp_path / "set"), "--truth", str(truth)]) == 0
    assert f"kinds (from {truth}): jump=appearance, run=motion" in capsys.readouterr().out
    assert main(["data", "info", "--dataset", "list", "--root", str(tmp_path / "set"),
                 "--truth", str(tmp_path / "none.json")]) == 2
    assert "--truth: " in capsys.readouterr().err  # the option, not the config path, names the problem


def test_the_first_synthetic_export_format_still_reads(tmp_path):
    make_ucf(tmp_path)  # --root UCF-101 itself: the file sits in the root's parent, where the export put it
    (tmp_path / "truth.json").write_text(json.dumps({
        "format": SYNTHETIC_EXPORT_FORMAT, "classes": ["ApplyLipstick", "HandstandPushups"],
        "kinds": {"ApplyLipstick": "appearance", "HandstandPushups": "motion"}, "truth": {}, "clips": {}}))
    ds = build_dataset(video_cfg("ucf101", tmp_path / "UCF-101").data, "test")
    assert ds.metadata["kinds"]["HandstandPushups"] == "motion" and ds.metadata["exported_from"] == "synthetic"


def test_other_tools_truth_json_is_passed_over_and_unlabelled_folders_take_none(tmp_path):
    make_list(tmp_path)
    (tmp_path / "truth.json").write_text('{"ground_truth": [1, 2]}')  # someone else's file
    assert "kinds" not in build_dataset(video_cfg("list", tmp_path).data, "test").metadata
    loose = tmp_path / "loose"
    write_video(loose / "a.avi")
    write_truth(loose / "truth.json", ["jump"], {"jump": "motion"}, {})
    assert "kinds" not in build_dataset(video_cfg("folder", loose).data, "test").metadata


@pytest.mark.parametrize("data, message", [
    ([1, 2], "expected a JSON object"),
    ({"format": "motionprobe.planted-truth/9", "classes": ["a"], "kinds": {"a": "motion"}},
     "format 'motionprobe.planted-truth/9' is not a planted-truth format"),
    ({"format": FORMAT, "classes": [], "kinds": {}}, "\"classes\" must be a non-empty list"),
    ({"format": FORMAT, "classes": ["a", "A"], "kinds": {"a": "motion", "A": "motion"}}, "names a class twice"),
    ({"format": FORMAT, "classes": ["a", "b"], "kinds": {"a": "motion"}}, "must name exactly the classes .* at b"),
    ({"format": FORMAT, "classes": ["a"], "kinds": {"a": "colour"}},
     "class 'a' has kind 'colour'; expected one of appearance, motion, keyframe, implied"),
    ({"format": FORMAT, "classes": ["a"], "kinds": {"a": "motion"}, "clips": []}, "\"clips\" must map"),
])
def test_malformed_truth_files_name_the_file(tmp_path, data, message):
    path = tmp_path / "planted.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match=message) as err:
        read_truth(path)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


def test_write_truth_checks_before_it_writes(tmp_path):
    with pytest.raises(UserError, match="class 'a' has kind 'colour'"):
        write_truth(tmp_path / "truth.json", ["a"], {"a": "colour"}, {})
    assert not (tmp_path / "truth.json").exists()
