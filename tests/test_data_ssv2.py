"""Something-Something v2: templates to classes, the validation list as test split, where the JSONs live, no flips."""

from __future__ import annotations

import json

import pytest
from test_data_helpers import frame_numbers, video_cfg, write_video

from motionprobe.data import build_dataset
from motionprobe.errors import ConfigError, UserError

LABELS = {"Pushing something from left to right": "0", "Putting something on something": "1",
          "Holding something next to something": "2"}
TEMPLATES = ["Pushing [something] from left to right", "Putting [something] on [something]",
             "Holding [something] next to [something]"]


def entry(video_id: int, label: int) -> dict:
    return {"id": str(video_id), "label": f"a filled-in sentence {video_id}", "template": TEMPLATES[label],
            "placeholders": ["a pen"]}


def make_ssv2(root, where=None, short_names=False, train=None, validation=None):
    """Videos 1..6 (VP9 .webm, 20 + id frames); train 1..4, validation 5, 6 and 99 (never downloaded)."""
    for video_id in range(1, 7):
        write_video(root / "20bn-something-something-v2" / f"{video_id}.webm", frames=20 + video_id)
    folder = where or root
    folder.mkdir(parents=True, exist_ok=True)
    names = {k: (f"{k}.json" if short_names else f"something-something-v2-{k}.json")
             for k in ("labels", "train", "validation", "test")}
    lists = {"labels": LABELS,
             "train": train or [entry(1, 0), entry(2, 1), entry(3, 2), entry(4, 0)],
             "validation": validation or [entry(5, 1), entry(6, 2), entry(99, 0)],
             "test": [{"id": "7"}]}
    for kind, data in lists.items():
        (folder / names[kind]).write_text(json.dumps(data, indent=1))
    return folder


def test_ssv2_classes_labels_and_splits(tmp_path):
    make_ssv2(tmp_path)
    cfg = video_cfg("ssv2", tmp_path)
    train, test = build_dataset(cfg.data, "train", training=True), build_dataset(cfg.data, "test")
    assert train.classes == test.classes == list(LABELS)  # index order, brackets removed
    assert train.ids == ["1.webm#0", "2.webm#0", "3.webm#0", "4.webm#0"] and train.labels == [0, 1, 2, 0]
    assert test.ids == ["5.webm#0", "6.webm#0"] and test.labels == [1, 2]  # the validation list
    assert test.metadata["missing"] == ["99.webm"]
    assert test.metadata["labelled"] is True and test.metadata["hflip_safe"] is False
    assert frame_numbers(test[0]["clip"], "CTHW") == list(range(8, 16))  # 25 frames: centered 8 start at 8


@pytest.mark.parametrize("layout", ["labels_short", "labels_long", "elsewhere"])
def test_ssv2_finds_the_jsons_where_users_keep_them(tmp_path, layout):
    root = tmp_path / "ssv2"
    if layout == "elsewhere":
        folder = make_ssv2(root, where=tmp_path / "annotations_copy")
        cfg = video_cfg("ssv2", root, annotations=str(folder))
    else:
        make_ssv2(root, where=root / "labels", short_names=layout == "labels_short")
        cfg = video_cfg("ssv2", root)
    test = build_dataset(cfg.data, "test")
    assert test.labels == [1, 2] and test.metadata["annotations"][1].endswith("validation.json")


def test_ssv2_refuses_training_flips(tmp_path):
    make_ssv2(tmp_path)
    cfg = video_cfg("ssv2", tmp_path, hflip=True)
    with pytest.raises(ConfigError, match="data.hflip: ssv2 has classes that a left-right flip turns into") as err:
        build_dataset(cfg.data, "train", training=True)
    assert err.value.path == "data.hflip"
    test = build_dataset(cfg.data, "test")  # evaluation never flips: nothing to refuse
    assert test.transform.hflip is False
    assert build_dataset(video_cfg("ssv2", tmp_path).data, "train", training=True).transform.hflip is False


def test_ssv2_template_spelling_and_bad_entries(tmp_path):
    lowered = dict(entry(1, 1), template="putting [something] on [something]")  # case differs from the labels file
    make_ssv2(tmp_path, train=[lowered, entry(2, 0)])
    assert build_dataset(video_cfg("ssv2", tmp_path).data, "train").labels == [1, 0]
    (tmp_path / "something-something-v2-train.json").write_text(json.dumps([entry(1, 0), dict(entry(2, 0),
                                                                           template="Juggling [something]")]))
    with pytest.raises(UserError, match=r"train.json: entry 2: template 'Juggling \[something\]' is not a class"):
        build_dataset(video_cfg("ssv2", tmp_path).data, "train")
    (tmp_path / "something-something-v2-train.json").write_text(json.dumps([dict(entry(1, 0), id="../../etc/x")]))
    with pytest.raises(UserError, match="entry 1: id '../../etc/x' is not a plain video id"):
        build_dataset(video_cfg("ssv2", tmp_path).data, "train")


def test_ssv2_labels_file_naming_a_class_twice(tmp_path):
    make_ssv2(tmp_path)
    labels = tmp_path / "something-something-v2-labels.json"
    labels.write_text('{\n "Pushing something from left to right": "0",\n "Putting something on something": "1",\n'
                      ' "Pushing something from left to right": "2"\n}\n')
    with pytest.raises(UserError, match="labels.json:4: key 'Pushing something from left to right' appears twice"):
        build_dataset(video_cfg("ssv2", tmp_path).data, "test")
    labels.write_text(json.dumps({"Pushing something from left to right": "0", "Putting something on something": "0"}))
    with pytest.raises(UserError, match="both have index 0"):
        build_dataset(video_cfg("ssv2", tmp_path).data, "test")


def test_ssv2_duplicate_entries(tmp_path, caplog):
    make_ssv2(tmp_path, train=[entry(1, 0), entry(2, 1), entry(1, 0), entry(1, 0)])
    with caplog.at_level("WARNING", logger="motionprobe.data"):
        train = build_dataset(video_cfg("ssv2", tmp_path).data, "train")
    assert train.ids == ["1.webm#0", "2.webm#0"] and train.metadata["duplicates"] == 2
    assert [r.getMessage() for r in caplog.records if "repeated" in r.getMessage()] == [
        f"ssv2 train: 2 repeated annotation entries are left out, each video is used once (first: 1.webm at "
        f"{tmp_path / 'something-something-v2-train.json'}: entry 3)"]
    (tmp_path / "something-something-v2-train.json").write_text(json.dumps([entry(1, 0), entry(2, 1), entry(1, 2)]))
    with pytest.raises(UserError, match=r"train.json: entry 3: '1.webm' is listed again with label 2 \(Holding "
                                        r"something next to something\); .*train.json: entry 1 gives label 0"):
        build_dataset(video_cfg("ssv2", tmp_path).data, "train")
