"""Presets, config files, precedence (preset < file < flag), and the CLI's error path."""

import json
import subprocess
import sys

import pytest

from motionprobe import config as config_mod
from motionprobe.cli import VERBS, build_parser, main
from motionprobe.errors import UserError


def test_presets_are_typed_and_differ():
    tiny, paper = config_mod.preset("tiny"), config_mod.preset("paper")
    assert isinstance(tiny.data, config_mod.DataConfig)
    assert (paper.data.crop_size, paper.data.num_frames, paper.model.width) == (112, 16, 1.0)
    assert (paper.generator.ngf, paper.generator.n_blocks, paper.analysis.candidates) == (64, 9, 48)
    assert tiny.data.crop_size < paper.data.crop_size and tiny.model.width < 1
    with pytest.raises(UserError, match="preset: unknown preset 'huge'"):
        config_mod.preset("huge")


def test_config_round_trips_through_json(tmp_path):
    cfg = config_mod.preset("tiny")
    cfg = cfg.evolve(train={"lr": 0.123})
    cfg.save(tmp_path / "config.json")
    again = config_mod.from_dict(json.loads((tmp_path / "config.json").read_text()))
    assert again == cfg


@pytest.mark.parametrize("suffix, text", [(".yaml", "train:\n  lr: 0.5\nseed: 7\n"),
                                          (".toml", "seed = 7\n[train]\nlr = 0.5\n")])
def test_yaml_and_toml_files(tmp_path, suffix, text):
    path = tmp_path / f"c{suffix}"
    path.write_text(text)
    cfg = config_mod.apply_overrides(config_mod.preset("tiny"), config_mod.load_file(path))
    assert (cfg.seed, cfg.train.lr) == (7, 0.5)


def test_unknown_and_mistyped_options_are_named():
    with pytest.raises(UserError, match="train.lrr: unknown option"):
        config_mod.apply_overrides(config_mod.preset("tiny"), {"train": {"lrr": 1}})
    with pytest.raises(UserError, match="train.epochs: expects an integer"):
        config_mod.apply_overrides(config_mod.preset("tiny"), {"train.epochs": "many"})


def test_flags_win_over_the_file_which_wins_over_the_preset(tmp_path):
    from motionprobe.cli.options import resolve_config

    path = tmp_path / "opts.yaml"
    path.write_text("seed: 5\nepochs: 3\ntrain:\n  lr: 0.25\n")
    parser = build_parser()
    argv = ["train-model", "--config", str(path), "--seed", "9"]
    from motionprobe.cli.options import apply_config_file

    apply_config_file(parser, argv)
    cfg = resolve_config(parser.parse_args(argv))
    assert cfg.seed == 9  # flag
    assert cfg.train.epochs == 3 and cfg.train.lr == 0.25  # file, as a CLI option and as a config path
    assert cfg.data.crop_size == config_mod.preset("tiny").data.crop_size  # preset


def test_every_verb_explains_itself(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert len(sub.choices) >= 3
    for name, p in sub.choices.items():
        text = p.format_help()
        assert p.description and len(text) > 200, name
    assert set(VERBS) >= {"train_model", "evaluate"}


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "--model", "/no/such/model"], "--model: /no/such/model is not a trained model folder"),
    (["train-model", "--preset", "huge"], "--preset: unknown preset 'huge'"),
    (["train-model", "--dataset", "ucf101"], "--root: dataset 'ucf101' needs the path of its files"),
    (["train-model", "--dataset", "folder", "--root", "/no/such/dir"], "--root: /no/such/dir does not exist"),
    (["train-model", "--config", "/no/such.yaml"], "--config: /no/such.yaml is not a file"),
])
def test_user_errors_are_one_line_with_status_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_config_file_is_reported(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    assert main(["train-model", "--config", str(bad)]) == 2
    assert "is not valid YAML" in capsys.readouterr().err


def test_console_script_exit_status_without_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "motionprobe", "evaluate", "--model", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("motionprobe: error: --model:") and "Traceback" not in r.stderr
