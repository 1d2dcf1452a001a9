"""Random configs and option values through every verb: the outcome is success, or one line on stderr and exit
status 2, never a traceback.

Each example calls `motionprobe.cli.main([...])` with a config file of drawn content (values of every type,
nested garbage, unknown keys, known config paths with wrong values) and drawn values for a few of the verb's
options. What runs is everything up to the verb's heavy stage: parsing, the config file, `config.validate`,
the workflow's own checks, loading the tiny model folder made once per session, building the dataset. The
heavy stage itself (training, the analysis engine, evaluation, drawing the report, inversion, exporting or
caching videos, pip) is replaced by a stand-in that stops the run, so an example takes milliseconds; reaching
it counts as success.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import itertools
import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import quiet, tiny_folders

from motionprobe import config as config_mod
from motionprobe.cli import build_parser, main

EXAMPLES_PER_VERB = 12


class Reached(Exception):
    """Raised by the stand-ins: the run got through validation to its heavy stage."""


HEAVY_STAGES = ["motionprobe.training.model.train_model", "motionprobe.training.generator.train_generator",
                "motionprobe.analysis.run.analyze", "motionprobe.evaluation.evaluate",
                "motionprobe.report.build.write_report", "motionprobe.report.inversion.invert_features",
                "motionprobe.data.export.export_synthetic", "motionprobe.data.cache.build_cache",
                "motionprobe.weights.fetch.fetch_weights", "motionprobe.predict.predict_video"]


def _stand_in(*args, **kwargs):
    raise Reached


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The tiny model, an analysis of it, and a working folder (relative paths drawn land in it)."""
    folders = tiny_folders(tmp_path_factory)
    analysis = tmp_path_factory.mktemp("properties_analysis") / "analysis"
    quiet(["analyze", "--model", str(folders.model), "--test-per-class", "1", "--frames", "1", "--bootstrap", "20",
           "--no-progress", "--out", str(analysis)])
    cwd = tmp_path_factory.mktemp("properties_cwd")
    (cwd / "list").mkdir()  # a dataset on disk for `data cache`: one class, one (unread) video
    (cwd / "list" / "a.avi").write_bytes(b"")
    (cwd / "list" / "classes.txt").write_text("a\n")
    for split in ("train", "test"):
        (cwd / "list" / f"{split}.txt").write_text("a.avi 0\n")
    (cwd / "videos").mkdir()  # what the sample videos' fetch gives demo-real: a folder of (unread) videos
    (cwd / "videos" / "a.mp4").write_bytes(b"")
    with pytest.MonkeyPatch.context() as mp:
        for target in HEAVY_STAGES:
            mp.setattr(target, _stand_in)
        mp.setattr("motionprobe.samples.fetch_samples", lambda *args, **kwargs: cwd / "videos")
        mp.setenv("MOTIONPROBE_CACHE", str(cwd / "cache"))  # nothing drawn reaches the user's cache
        mp.chdir(cwd)
        yield {"model": str(folders.model), "analysis": str(analysis), "runs": itertools.count()}


# -- what is drawn ---------------------------------------------------------------------------------------------

# Words a user might type, and words that mean something to a parser; no "/" and no "..": a drawn root must not
# make the folder layout walk the file system.
WORDS = st.sampled_from(["", " ", "all", "ALL", "none", "cpu", "cuda", "tpu", "1,2", "a:b", "os:system", "{x}", "%s",
                         "nan", "-inf", "1e999", "0x10", "16", "0", "-1", "true", "synthetic", "ucf101", "folder",
                         ".", "c3d", "r3d_18", "perceptual", "pixel", "sgd", "loop", "fixed", "über", "\t"])
TEXT = WORDS | st.text(alphabet="abc01-_.:, =", max_size=6)
# Counts past every bound (10⁵ frames or clips, 10²⁰ resamples, a 40-digit seed) beside the small ones.
NUMBERS = (st.integers(min_value=-3, max_value=300) | st.sampled_from([2**31, 2**63, -(2**63), 100_000, 10**20, 10**40])
           | st.floats(allow_nan=True, allow_infinity=True, width=32) | st.sampled_from([1e20, 1e5]))
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=2),
                      max_leaves=4)


def config_paths() -> list[str]:
    """Every config path (`seed`, `data.crop_size`, ...) and every section name."""
    paths = []
    for f in dataclasses.fields(config_mod.Config):
        if dataclasses.is_dataclass(f.default_factory):
            paths.append(f.name)
            paths += [f"{f.name}.{g.name}" for g in dataclasses.fields(f.default_factory)
                      if (f.name, g.name) != ("model", "hf_model")]  # a hub id would be looked up on the network
        else:
            paths.append(f.name)
    return paths


KEYS = st.sampled_from(config_paths() + ["out", "resume", "model", "frames", "candidates", "bootstrap", "generator",
                                         "data.colour", "colour", "train.lr.x"]) | TEXT


@st.composite
def config_files(draw) -> dict:
    """A config file's content: drawn values at drawn paths, nested the way a YAML file nests them."""
    tree: dict = {}
    for key, value in draw(st.lists(st.tuples(KEYS, VALUES), max_size=4)):
        node, parts = tree, key.split(".") if key.count(".") == 1 else [key]
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
        node[parts[-1]] = value
    return tree


VERBS = {  # what each verb needs to get past its required arguments
    "train-model": [], "evaluate": ["--model", "{model}"], "train-generator": ["--model", "{model}", "--frames", "1"],
    "analyze": ["--model", "{model}"], "report": ["{analysis}"], "report --model": ["{analysis}", "--model", "{model}"],
    "invert": ["--model", "{model}"], "pipeline": [], "pipeline --model": ["--model", "{model}"], "demo": [],
    "data info": [], "data cache": ["--dataset", "list", "--root", "list"], "data export-synthetic": [],
    "data samples": [], "demo-real": [], "predict": ["--model", "{model}", "missing.avi"],
    "predict --weights": ["--weights", "missing.pth", "--arch", "i3d", "missing.avi"],
    "weights get": ["i3d-kinetics400"], "weights list": [],
}
FIXED = {"--help", "--config", "--out", "--model", "--hf-model"}  # set by the test, or a network lookup


# Resource bounds among the drawn values: a config file may also draw one of these whole (every key of it known).
BOUNDS = [{"data": {"num_frames": 100000}}, {"analysis": {"bootstrap": 10**20}}, {"train": {"batch_size": 1e20}},
          {"data": {"crop_size": 4096, "resize": [4096, 4096], "num_frames": 1024}}, {"seed": -(10**40)},
          {"analysis": {"candidates": "all", "ks": [16]}, "data": {"num_frames": 32}}, {"device": "cuda:99"}]


def verb_parser(words: list[str]):
    parser = build_parser()
    for word in words:
        parser = next(a for a in parser._actions if a.dest in ("verb", "data_command", "weights_action")).choices[word]
    return parser


@st.composite
def option_values(draw, verb: str) -> list[str]:
    """A few of the verb's options, each with a drawn value (a switch is given or not)."""
    actions = [a for a in verb_parser(verb.split(" --")[0].split())._actions
               if a.option_strings and not FIXED & set(a.option_strings)]
    argv = []
    for action in draw(st.lists(st.sampled_from(actions), max_size=3, unique_by=id)) if actions else []:
        flag = action.option_strings[0]
        # --flag=VALUE: a value like '-inf' would otherwise be read as an option
        argv.append(flag if action.nargs == 0 else f"{flag}={draw(TEXT | NUMBERS.map(str))}")
    return argv


def outcome_is_clean(argv: list[str]) -> None:
    """Run the CLI: success, the heavy stage reached, or one error line last on stderr with exit status 2."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            code = main(argv)
        except Reached:
            return
    text = err.getvalue()
    assert "Traceback" not in text, (argv, text[-3000:])
    if code == 0:
        return
    lines = [line for line in text.splitlines() if line.strip()]
    assert code == 2 and lines and lines[-1].startswith("motionprobe: error: "), (argv, code, text[-3000:])
    assert sum(line.startswith("motionprobe: error: ") for line in lines) == 1, (argv, text[-3000:])


@pytest.mark.parametrize("verb", list(VERBS))
def test_no_drawn_config_or_option_value_ends_in_a_traceback(world, tmp_path, verb):
    @settings(max_examples=EXAMPLES_PER_VERB, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(config=config_files() | st.sampled_from(BOUNDS), options=option_values(verb))
    def check(config, options):
        run = tmp_path / f"run{next(world['runs'])}"
        run.mkdir()
        (run / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
        fixed = [w.format(**world) for w in VERBS[verb]]
        outcome_is_clean([*words, *fixed, *options, *(["--config", str(run / "config.yaml")] if "--config" in flags else []),
                          *(["--out", str(run / "out")] if "--out" in flags else [])])

    words = verb.split(" --")[0].split()
    flags = {s for a in verb_parser(words)._actions for s in a.option_strings}
    check()


def test_the_drawn_values_reach_every_kind_of_outcome(world, tmp_path):
    """The property is not vacuous: among fixed examples some succeed, some reach the heavy stage, some are refused."""
    model = world["model"]
    outcomes = []
    for argv in (["weights", "list"], ["train-model", "--out", str(tmp_path / "a")],
                 ["analyze", "--model", model, "--bootstrap", "0", "--out", str(tmp_path / "b")]):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                outcomes.append(main(argv))
            except Reached:
                outcomes.append("reached")
    assert outcomes == [0, "reached", 2]
    assert math.isnan(yaml.safe_load(yaml.safe_dump({"v": float("nan")}))["v"])  # NaN survives the YAML file
