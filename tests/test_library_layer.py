"""The library layer under the CLI: workflows are plain Python calls, and the library never names a flag."""

import ast
import re
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

import motionprobe
from motionprobe import config as config_mod
from motionprobe import workflows
from motionprobe.cli import build_parser, main
from motionprobe.cli.options import CONFIG_OPTIONS, flag_for
from motionprobe.config import resolve
from motionprobe.errors import ConfigError
from motionprobe.folders import AnalysisFolder, ModelFolder, prepare

PACKAGE = Path(motionprobe.__file__).parent
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")


def strings_outside_cli() -> list[tuple[str, int, str]]:
    """Every string constant (docstrings and f-string parts included) of the package outside cli/."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append((str(path.relative_to(PACKAGE)), node.lineno, node.value))
    return found


def motionprobe_flags() -> set[str]:
    """Every option string of every verb and command of the motionprobe CLI."""
    flags, todo = set(), [build_parser()]
    while todo:
        parser = todo.pop()
        for action in parser._actions:
            flags.update(s for s in action.option_strings if s.startswith("--"))
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                todo += [p for p in action.choices.values() if hasattr(p, "_actions")]
    return flags - {"--help"}


def test_no_flag_name_appears_in_any_string_outside_the_cli():
    strings, flags = strings_outside_cli(), motionprobe_flags()
    assert len(strings) > 500 and {"--frames", "--root", "--resume", "--weights"} <= flags  # the walks really read
    offenders = [f"{file}:{line}: {flag}" for file, line, text in strings for flag in FLAG.findall(text) if flag in flags]
    assert offenders == []  # (other tools' flags, e.g. pip's --no-deps in a subprocess call, are not ours)


def test_the_flag_pattern_finds_flags_and_not_prose():
    assert FLAG.search("pass --resume to continue") and FLAG.search("(--frames 1,2)")
    assert not FLAG.search("a long—dash") and not FLAG.search("x --") and not FLAG.search("k-- 3")


def test_every_config_option_names_a_real_config_path():
    cfg = resolve("tiny")
    for dest, path in CONFIG_OPTIONS.items():
        node = cfg
        for part in path.split("."):
            assert hasattr(node, part), (dest, path)
            node = getattr(node, part)


def test_a_config_error_becomes_the_flag_of_the_verb_at_hand(capsys):
    parser = build_parser()
    verbs = {a.dest: a for a in parser._actions if a.dest == "verb"}["verb"].choices
    assert flag_for(verbs["train-generator"], "generator.lr") == "--lr"
    assert flag_for(verbs["train-model"], "train.lr") == "--lr"
    assert flag_for(verbs["train-model"], "generator.lr") is None  # not settable by a flag there
    assert flag_for(verbs["analyze"], "analysis.ks") == "--frames"
    assert main(["train-generator", "--model", "nowhere", "--frames", "1", "--lr", "-1"]) == 2
    assert "--model: nowhere is not a trained model folder" in capsys.readouterr().err
    assert main(["analyze", "--model", "nowhere", "--candidates", "all", "--bootstrap", "0"]) == 2
    assert capsys.readouterr().err.startswith("motionprobe: error: --model: nowhere")


def test_a_config_error_names_the_config_path_from_python():
    with pytest.raises(ConfigError) as e:
        resolve("tiny", overrides={"generator.lr": float("nan")})
    assert e.value.path == "generator.lr" and "expected a positive learning rate" in e.value.message


def test_a_run_folder_refuses_another_kind_of_run(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / ModelFolder.WEIGHTS).write_bytes(b"")
    with pytest.raises(ConfigError, match="holds a model run; write the analysis into another folder"):
        prepare(model, "analysis")
    assert prepare(tmp_path / "new" / "analysis", "analysis").is_dir()


def test_the_pipeline_runs_from_python_without_argv_and_checks_its_config_once(tmp_path, monkeypatch):
    checked = []
    validate = config_mod.validate
    monkeypatch.setattr(config_mod, "validate", lambda cfg: (checked.append(cfg), validate(cfg))[1])
    resolved = resolve("tiny", overrides={"analysis.ks": [1]})
    assert len(checked) == 1
    cfg = workflows.smoke(resolved)  # a copy with changes: not checked yet
    with pytest.raises(FrozenInstanceError):
        cfg.train.epochs = 2  # a config cannot change under a run: only copies are made
    messages = []
    run = workflows.pipeline(cfg, tmp_path / "demo", log=messages.append, progress=False)
    assert checked == [resolved, cfg]  # the copy once, by the pipeline; never again by its stages
    assert run.report.is_file() and run.report == tmp_path / "demo" / "analysis" / "report.html"
    assert set(run.results.accuracy.of("full")) == {"1"} and run.results.config["train"]["epochs"] == 1
    assert AnalysisFolder(run.analysis).results() == run.results
    assert ModelFolder(run.model).epochs_done() == 1 and set(run.generators) == {1} and set(run.pixel_generators) == {1}
    assert any("4/4 report" in m for m in messages) and set(run.timings) == {"model", "generators", "analysis", "report"}
