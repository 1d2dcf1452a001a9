"""No file motionprobe reads can run code or reach outside the dataset root; names from files are escaped in HTML.

Every payload here would create a marker file if it ran; the tests pass only when the marker never appears.
"""

from __future__ import annotations

import json
import pathlib
import pickle
import shutil

import numpy as np
import pytest
import torch
from reliability_helpers import assert_readable, make_corpus, quiet, tiny_folders, without_timestamps
from test_data_helpers import write_video

from motionprobe.cli import main


class Payload:
    """Unpickling this calls Path.touch(marker): a stand-in for any code a downloaded file could ask to run."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def error_line(err: str) -> str:
    assert "Traceback" not in err and err.count("motionprobe: error: ") == 1, err[-3000:]
    return err[err.index("motionprobe: error: "):].split("\n")[0]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return tiny_folders(tmp_path_factory)


@pytest.mark.parametrize("form", ["torch.save", "pickle protocol 2"])
def test_malicious_weights_pickle_is_refused_through_the_cli(tmp_path, capsys, form):
    marker = tmp_path / "payload-ran"
    evil = tmp_path / "c3d.pickle"
    state = {"conv1.weight": Payload(marker), "conv1.bias": torch.zeros(8)}
    if form == "torch.save":
        torch.save(state, evil)
    else:
        with evil.open("wb") as f:
            pickle.dump(state, f, protocol=2)
    code = main(["train-model", "--weights", str(evil), "--epochs", "1", "--train-per-class", "1", "--test-per-class",
                 "1", "--out", str(tmp_path / "run")])
    line = error_line(capsys.readouterr().err)
    assert code == 2 and "refused" in line and "never runs code from a weights file" in line
    assert not marker.exists()
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_pickles_disguised_as_our_own_files_are_not_unpickled(folders, tmp_path, capsys):
    """A pickle named model.safetensors, a shard holding a pickled object array, a YAML config asking for a call."""
    marker = tmp_path / "payload-ran"
    payload = pickle.dumps(Payload(marker), protocol=2)
    # model.safetensors in a model folder
    model = tmp_path / "model"
    shutil.copytree(folders.model, model)
    (model / "model.safetensors").write_bytes(payload)
    code = main(["analyze", "--model", str(model), "--test-per-class", "1", "--frames", "1", "--no-progress",
                 "--out", str(tmp_path / "a")])
    assert code == 2 and "not a readable safetensors file" in error_line(capsys.readouterr().err)
    # a shard of the candidate table replaced by one holding an object array: --resume recomputes it
    straight = tmp_path / "straight"
    quiet(folders.analyze_argv(straight))
    resumed = tmp_path / "resumed"
    shutil.copytree(straight, resumed)
    (resumed / "results.json").unlink()
    shard = resumed / "table" / "shard-00000.npz"
    with shard.open("wb") as f:
        np.savez(f, clip=np.array([Payload(marker)], dtype=object))
    quiet(folders.analyze_argv(resumed, "--resume"))
    assert without_timestamps(resumed / "results.json") == without_timestamps(straight / "results.json")
    assert_readable(resumed)  # shard 0 was recomputed into a plain-array shard
    # a config file using YAML's python tags
    (tmp_path / "evil.yaml").write_text(f"seed: !!python/object/apply:pathlib.Path.touch ['{marker}']\n")
    code = main(["train-model", "--config", str(tmp_path / "evil.yaml"), "--out", str(tmp_path / "t")])
    assert code == 2 and "is not valid YAML" in error_line(capsys.readouterr().err)
    assert not marker.exists()


def test_annotation_paths_never_reach_outside_the_root(tmp_path, capsys, monkeypatch):
    """A list file naming ../ paths is refused before any video is opened, though the file it names exists."""
    import motionprobe.data.video as video

    root = tmp_path / "root"
    for cls in ("a", "b"):
        for i in range(2):
            write_video(root / cls / f"{i}.avi", frames=16)
    secret = write_video(tmp_path / "secret.avi", frames=16)
    (root / "classes.txt").write_text("a\nb\n")
    (root / "train.txt").write_text("a/0.avi 0\nb/0.avi 1\n")
    (root / "test.txt").write_text("a/1.avi 0\nb/1.avi 1\n")
    model = tmp_path / "model"
    quiet(["train-model", "--dataset", "list", "--root", str(root), "--preset", "tiny", "--epochs", "1", "--out",
           str(model)])
    opened = []
    real_open = video.av.open
    monkeypatch.setattr(video.av, "open", lambda path, *a, **k: opened.append(str(path)) or real_open(path, *a, **k))
    for bad in ("../secret.avi", "a/../../secret.avi", str(secret)):
        (root / "test.txt").write_text(f"a/1.avi 0\n{bad} 1\n")
        code = main(["evaluate", "--model", str(model), "--dataset", "list", "--root", str(root), "--out",
                     str(tmp_path / "ev")])
        line = error_line(capsys.readouterr().err)
        assert code == 2 and "test.txt:2: path" in line and "leaves the dataset root" in line
    assert not any("secret" in p for p in opened) and not (tmp_path / "ev" / "eval.json").exists()


def test_class_names_and_paths_are_escaped_in_the_html_report(tmp_path, capsys):
    pytest.importorskip("motionprobe.report.html")  # the report verb is being built alongside
    corpus = make_corpus(tmp_path / "corpus <i>root</i>")  # a dataset path with markup in it, too
    names = ['<script>alert("class")</script>', "Beta & <b>bold</b>"]
    lists = corpus.root / "lists"
    lists.mkdir()
    (lists / "classes.txt").write_text("\n".join(names) + "\n")

    def listing(groups):
        return "".join(f"UCF-101/{c}/v_{c}_g{g:02d}_c01.avi {label}\n" for label, c in enumerate(("Alpha", "Beta"))
                       for g in groups)

    (lists / "train.txt").write_text(listing((8, 9, 10)))
    (lists / "test.txt").write_text(listing((1, 2)))
    model, analysis = tmp_path / "model", tmp_path / "analysis"
    data = ["--dataset", "list", "--root", str(corpus.root), "--annotations", str(lists), "--preset", "tiny"]
    quiet(["train-model", *data, "--epochs", "1", "--out", str(model)])
    quiet(["analyze", "--model", str(model), *data, "--frames", "1", "--bootstrap", "20", "--no-progress", "--out",
           str(analysis)])
    assert json.loads((analysis / "results.json").read_text())["classes"] == names
    quiet(["report", str(analysis)])
    page = (analysis / "report.html").read_text()
    for name in names:
        assert name not in page
    assert "&lt;script&gt;alert(&quot;class&quot;)&lt;/script&gt;" in page
    assert "Beta &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "<i>root</i>" not in page and "corpus &lt;i&gt;root&lt;/i&gt;" in page  # provenance shows the root
