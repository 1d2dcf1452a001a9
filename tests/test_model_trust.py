"""A model factory named only by a saved config is never imported on its own: `build_model` and `ModelFolder.load`
refuse it in one line unless the caller trusts it, while `train-model --model-factory` (the user typing it) is
trusted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from fixtures_user_model import TinyVideoNet

from motionprobe.cli import main
from motionprobe.config import preset
from motionprobe.errors import ConfigError
from motionprobe.folders import ModelFolder
from motionprobe.models import build_model

PLANTED = '''
from pathlib import Path
Path({marker!r}).touch()  # importing this module is running its code

def build(num_classes):
    from motionprobe.config import preset
    from motionprobe.models import build_model
    tiny = preset("tiny")
    return build_model(tiny.model, tiny.data, num_classes)
'''


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """An importable module `planted_factory` that leaves a marker file when imported."""
    marker = tmp_path / "imported"
    (tmp_path / "planted_factory.py").write_text(PLANTED.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "planted_factory", raising=False)
    return marker


@pytest.fixture(autouse=True)
def _tests_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


def test_build_model_refuses_an_untrusted_factory_without_importing_it(planted):
    cfg = preset("tiny")
    cfg = cfg.evolve(model={"model_factory": "planted_factory:build"})
    with pytest.raises(ConfigError) as e:
        build_model(cfg.model, cfg.data, 3)
    assert e.value.path == "model.model_factory" and "\n" not in str(e.value)
    assert "'planted_factory:build' names code to import" in str(e.value) and "trust_model_code=True" in str(e.value)
    assert not planted.exists() and "planted_factory" not in sys.modules
    assert build_model(cfg.model, cfg.data, 3, trust_model_code=True)(torch.rand(1, 3, 16, 32, 32)).shape == (1, 3)
    assert planted.exists()


def test_a_model_folder_whose_config_names_a_factory_loads_only_when_trusted(tmp_path, planted):
    cfg = preset("tiny")
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.data, 4).eval()
    folder = ModelFolder(tmp_path / "model")
    folder.save(model, cfg, list("abcd"))
    saved = json.loads((folder.path / "config.json").read_text())
    saved["model"]["model_factory"] = "planted_factory:build"  # what a hostile folder's config could say
    (folder.path / "config.json").write_text(json.dumps(saved))

    with pytest.raises(ConfigError, match="names code to import"):
        folder.load()
    assert not planted.exists()
    again, _ = folder.load(trust_model_code=True)
    clip = torch.rand(2, 3, 16, 32, 32)
    with torch.no_grad():
        assert planted.exists() and torch.equal(again(clip), model(clip))


def test_the_cli_refuses_the_saved_factory_in_one_line_but_trains_the_typed_one(tmp_path, planted, capsys):
    out = tmp_path / "mine"
    assert main(["train-model", "--model-factory", "fixtures_user_model:bare", "--epochs", "1", "--train-per-class",
                 "1", "--test-per-class", "1", "--out", str(out)]) == 0
    net, _ = ModelFolder(out).load(trust_model_code=True)
    assert isinstance(net.net, TinyVideoNet)

    saved = json.loads((out / "config.json").read_text())
    saved["model"]["model_factory"] = "planted_factory:build"
    (out / "config.json").write_text(json.dumps(saved))
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("motionprobe: error: ") and "names code to import" in err and "\n" not in err
    assert not planted.exists()
