"""`motionprobe predict` and predict_video: clips spread over a video encoded here, decoded by the shared reader,
cropped as the model's preprocessing says and averaged; text and JSON output; unreadable videos reported one line
each while the others are still predicted; pretrained I3D weights in the Flax pickle by --arch/--weights."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from i3d_layout import random_flax_tree
from test_data_helpers import write_video

from motionprobe.cli import main
from motionprobe.config import preset
from motionprobe.data.video import read_frames
from motionprobe.folders import ModelFolder
from motionprobe.models import build_model
from motionprobe.predict import clip_transform, load_classifier, predict_video
from motionprobe.weights.registry import kinetics400_classes

CLASSES = ["archery", "bowling", "cartwheeling", "dribbling basketball", "juggling balls"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 40-frame 48×64 video and a tiny random-weight I3D model folder (5 classes, 32×32 clips of 16 frames)."""
    d = tmp_path_factory.mktemp("predict")
    video = write_video(d / "clip.avi", frames=40, width=64, height=48)
    cfg = preset("tiny")
    cfg = cfg.evolve(model={"arch": "i3d", "width": 0.125})
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.data, len(CLASSES))
    with torch.no_grad():
        model.net.Logits.Conv3d_0c_1x1.conv.weight.mul_(50)  # spread the probabilities, so their order is clear
    ModelFolder(d / "model").save(model.eval(), cfg, CLASSES)
    return {"video": video, "model": d / "model", "dir": d}


def test_clips_are_spread_and_their_probabilities_averaged(files):
    classifier = load_classifier(model_dir=files["model"])
    pred = predict_video(classifier.model, files["video"], classifier.classes, clips=3, top=5)
    # 40 frames, 16-frame clips: starts 0..24, three evenly spaced ones are 0, 12, 24
    assert (pred.clips, pred.num_frames, pred.starts) == (3, 16, [0, 12, 24])
    transform = clip_transform(classifier.model)
    assert (transform.crop, transform.target_size(48, 64)) == (32, (32, 43))  # short side 32, aspect kept
    probs = []
    for start in pred.starts:
        frames = read_frames(files["video"], range(start, start + 16), layout="CTHW", size=(32, 43))
        clip = frames[:, :, :, 5:37].float().div(255)  # center 32 of 43 columns: (43 - 32) // 2 = 5
        with torch.no_grad():
            probs.append(classifier.model(clip[None])[0].softmax(-1))
    expected = torch.stack(probs).mean(0)
    assert [s.name for s in pred.top] == [CLASSES[i] for i in expected.argsort(descending=True)]
    assert [s.probability for s in pred.top] == pytest.approx(expected.sort(descending=True).values.tolist(), abs=1e-6)
    assert sum(s.probability for s in pred.top) == pytest.approx(1.0, abs=1e-6)


def test_cli_text_output(files, capsys):
    assert main(["predict", "--model", str(files["model"]), str(files["video"]), "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{files['video']}  (1 clip of 16 frames)"
    assert len(lines) == 4 and all(line.split(maxsplit=1)[1] in CLASSES for line in lines[1:])
    values = [float(line.split()[0]) for line in lines[1:]]
    assert values == sorted(values, reverse=True) and all(0 <= v <= 1 for v in values)


def test_cli_json_reports_bad_videos_and_predicts_the_others(files, capsys, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 10)
    argv = ["predict", "--model", str(files["model"]), str(broken), str(files["video"]), str(tmp_path / "none.avi"),
            "--clips", "2", "--top", "2", "--json"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert [v["video"] for v in doc["videos"]] == [str(files["video"])]
    (video,) = doc["videos"]
    assert video["clips"] == 2 and video["starts"] == [0, 24] and len(video["top"]) == 2
    assert {"index", "name", "probability"} == set(video["top"][0]) and video["top"][0]["name"] in CLASSES
    assert [e["video"] for e in doc["errors"]] == [str(broken), str(tmp_path / "none.avi")]
    assert doc["errors"][1]["error"] == "file not found"
    assert captured.err.count("\n") == 2 and all(line.startswith("motionprobe: error: ")
                                                 for line in captured.err.splitlines())


def test_a_bad_video_path_is_one_line_exit_2(files, capsys, tmp_path):
    assert main(["predict", "--model", str(files["model"]), str(tmp_path / "missing.mp4")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"motionprobe: error: {tmp_path / 'missing.mp4'}: file not found\n"


@pytest.mark.parametrize("argv, expected", [
    (["--clips", "0"], "--clips: expected a number of clips per video in 1..1000, got 0"),
    (["--weights", "i3d-kinetics400"], "give --model DIR or --weights FILE"),
])
def test_bad_options_are_one_line(files, capsys, argv, expected):
    assert main(["predict", "--model", str(files["model"]), str(files["video"]), *argv]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


def test_named_weights_not_yet_fetched_say_how_to_get_them(files, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("MOTIONPROBE_CACHE", str(tmp_path / "empty-cache"))
    assert main(["predict", "--weights", "i3d-kinetics400", str(files["video"])]) == 2
    assert "run 'motionprobe weights get i3d-kinetics400'" in capsys.readouterr().err


def test_pretrained_i3d_pickle_by_arch_and_weights(files, capsys, tmp_path):
    """The full network at 224×224 from a random-weight checkpoint in the real pickle format, Kinetics-400 names."""
    ckpt = tmp_path / "random-i3d.ckpt"
    ckpt.write_bytes(pickle.dumps(random_flax_tree(1.0, 400, seed=3), protocol=4))
    assert main(["predict", "--arch", "i3d", "--weights", str(ckpt), str(files["video"]), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    top = doc["videos"][0]["top"]
    names = kinetics400_classes()
    assert len(top) == 5 and all(names[s["index"]] == s["name"] for s in top)
    classifier = load_classifier(arch="i3d", weights=ckpt)
    assert classifier.model.preprocessing.crop == (224, 224) and clip_transform(classifier.model).resize == (256, 256)
