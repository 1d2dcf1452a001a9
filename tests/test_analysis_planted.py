"""The analysis recovers the planted truth of the embedded benchmark (a CI-sized run).

A small 3D-conv video model is trained for three epochs on the synthetic benchmark (it reaches ~100%
test accuracy), then analysed at k = 1 over all 16 single-frame candidates. The generator here is the
replicate baseline itself, so `full` = max response over replicated frames: what this test checks is
the engine, the selectors and the statistics, not the generator's quality (the generator's own
benchmark does that). Planted truth: motion classes need motion (large per-class bound), appearance
classes do not, and key-frame classes are rescued by choosing the right frame. The implied-motion
kind is left out: with replication as the generator its classes are *meant* to look as if they need
motion (the naive analysis' error that a trained generator corrects), which is the generator
benchmark's subject, not the engine's.

A known limit of the per-class bound in accuracy (the paper's): without motion, a model often sends
the motionless clips of the whole motion group to one default class, whose accuracy then stays high
for the wrong reason, and whose bound looks like an appearance class's. With some training seeds
this small model does that (seeds 2 and 3: one motion class keeps its accuracy, AUROC 0.875; seeds 0
and 1: 1.0). The F1-based bound, which also counts the other classes' clips sent to the default class,
separates the kinds for every seed tried (0 to 3: AUROC 1.0); this test uses seed 1 and asserts both.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from motionprobe.analysis import analyze
from motionprobe.config import AnalysisConfig
from motionprobe.data.base import to_float
from motionprobe.data.synthetic import SyntheticMotionDataset
from motionprobe.generator import Replicate
from motionprobe.models.wrapper import wrap
from motionprobe.probes import DEFAULT_PROBES, family_members


def train_small_model(dataset, epochs=3, seed=1):
    """A 3-layer 3D conv net, max-pooled over space and time, trained with Adam (seconds on 2 cores)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv3d(3, 16, (3, 5, 5), stride=(1, 2, 2), padding=(1, 2, 2)), nn.ReLU(),
                        nn.Conv3d(16, 32, 3, stride=(1, 2, 2), padding=1), nn.ReLU(),
                        nn.Conv3d(32, 32, 3, stride=(1, 2, 2), padding=1), nn.ReLU(),
                        nn.AdaptiveMaxPool3d(1), nn.Flatten(), nn.Linear(32, len(dataset.classes)))
    model = wrap(net, normalize=([0.45] * 3, [0.225] * 3), input_size=(32, 32))
    clips = torch.stack([dataset[i]["clip"] for i in range(len(dataset))])
    labels = torch.tensor(dataset.labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(clips), generator=generator)
        for lo in range(0, len(clips), 24):
            batch = order[lo:lo + 24]
            loss = nn.functional.cross_entropy(model(to_float(clips[batch])), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


KINDS = ("appearance", "motion", "keyframe")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The small model trained on the benchmark, and its analysis at k = 1 with every probe."""
    model = train_small_model(SyntheticMotionDataset("train", per_class=24, size=32, kinds=KINDS))
    test = SyntheticMotionDataset("test", per_class=6, size=32, kinds=KINDS)
    # 2 draws of each random probe: the graded ones keep the test's time
    settings = AnalysisConfig(ks=(1,), candidates="all", bootstrap=300, batch_size=128, shard_size=40, probe_draws=2)
    results = analyze(model, test, tmp_path_factory.mktemp("planted"), settings, generators={1: Replicate(1)},
                      progress=False).to_json()
    return test, results


@pytest.mark.slow
def test_the_analysis_recovers_the_planted_truth(planted):
    test, results = planted
    kinds = test.metadata["kinds"]
    acc = results["accuracy"]
    assert acc["original"]["value"] >= 0.85  # the model learned all three kinds

    # The per-class motion bound at k = 1 separates the motion classes from the others.
    truth = results["planted_truth"]
    assert truth["motion_bound_auroc"]["1"] >= 0.95
    assert truth["motion_bound_f1_auroc"]["1"] >= 0.95
    bounds = {c: results["per_class"][c]["motion_bound"]["1"] for c in test.classes}
    by_kind = {kind: [bounds[c] for c in test.classes if kinds[c] == kind] for kind in set(kinds.values())}
    assert min(by_kind["motion"]) > max(by_kind["appearance"] + by_kind["keyframe"])
    assert np.mean(by_kind["motion"]) >= 0.4 and np.mean(by_kind["appearance"]) <= 0.1

    # Key-frame classes: max response finds the key frame that the middle frame usually misses.
    gain = truth["keyframe_full_minus_uniform"]["1"]
    assert gain["value"] >= 0.20 and gain["ci"][0] > 0
    per_kind = results["per_kind"]
    keyframe = per_kind["keyframe"]["accuracy"]
    assert keyframe["full"]["1"]["value"] >= keyframe["uniform"]["1"]["value"] + 0.2
    # The oracle is right whenever any single frame is: for appearance and key-frame classes, nearly always.
    assert per_kind["appearance"]["accuracy"]["oracle"]["1"]["value"] >= 0.9


@pytest.mark.slow
def test_the_probes_measure_what_was_planted(planted):
    """Reverse is a clean probe here: appearance and key-frame classes keep their accuracy, and the drifts are
    taken for their opposite direction. Shuffle makes the motion classes lose most of theirs."""
    test, results = planted
    probes, kinds = results["probes"], test.metadata["kinds"]
    original = results["per_kind"]
    for kind in ("appearance", "keyframe"):
        reverse = probes["per_kind"][kind]["reverse"]["accuracy"]["value"]
        assert reverse >= original[kind]["accuracy"]["original"]["value"] - 0.10
    opposite = {"drift_right": "drift_left", "drift_left": "drift_right", "drift_up": "drift_down",
                "drift_down": "drift_up"}
    confusion = probes["confusion"]["reverse"]
    flipped = sum(confusion[c].get(opposite[c], 0) for c in opposite)
    assert flipped >= 0.75 * sum(sum(confusion[c].values()) for c in opposite)  # most drifts read backwards
    motion = probes["per_kind"]["motion"]["shuffle"]["accuracy"]["value"]
    assert motion <= 0.5 * original["motion"]["accuracy"]["original"]["value"]
    assert set(probes["accuracy"]) == set(DEFAULT_PROBES)
    assert {c for c in kinds if kinds[c] == "motion"} <= set(probes["per_class"])
    # A frozen clip is the first frame replicated: on motion classes it is as blind as one replicated frame.
    assert probes["per_kind"]["motion"]["freeze"]["accuracy"]["value"] <= 0.5


@pytest.mark.slow
def test_graded_probes_and_the_stride_curve_behave_as_planted(planted):
    """Appearance classes keep their accuracy at every severity and stride (any frame shows the colour); motion
    classes fall as more of the order is lost (wider shuffles, longer freezes, reversal); key-frame classes fall
    with the stride once a read can step over the 2-frame flash (stride ≥ 4), and with longer freezes."""
    test, results = planted
    probes, sampling, graded = results["probes"]["per_kind"], results["sampling"], results["graded"]
    original = {kind: results["per_kind"][kind]["accuracy"]["original"]["value"] for kind in KINDS}

    def acc(kind, name):
        return probes[kind][name]["accuracy"]["value"]

    assert all(acc("appearance", name) >= original["appearance"] - 0.1 for name in DEFAULT_PROBES)
    assert graded["per_kind"]["appearance"]["overall"]["value"] >= 0.95

    shuffles = [acc("motion", p.name) for p in family_members(DEFAULT_PROBES, "shuffle")]  # windows 2, 4, 8, all
    assert all(later <= earlier + 0.05 for earlier, later in zip(shuffles, shuffles[1:], strict=False))
    assert shuffles[0] >= original["motion"] - 0.1 and shuffles[-1] <= shuffles[0] - 0.4
    assert acc("motion", "freeze") <= acc("motion", "freeze_25") - 0.4 and acc("motion", "reverse") <= 0.2
    for family in ("shuffle", "reverse", "freeze"):
        assert graded["per_kind"]["motion"][family]["ci"][1] < graded["per_kind"]["appearance"][family]["ci"][0]

    # One of the two flash frames is in every read at stride 2, in at most one of 4, 8 or 16 read frames after.
    assert acc("keyframe", "fast") >= original["keyframe"] - 0.15
    assert all(acc("keyframe", name) <= acc("keyframe", "fast") - 0.4 for name in ("speed_x4", "speed_x8", "speed_x16"))
    assert acc("keyframe", "freeze") <= 0.2 and acc("keyframe", "freeze_25") >= acc("keyframe", "freeze") + 0.4
    demand = {c: e["temporal_demand"]["value"] for c, e in sampling["per_class"].items()}
    kinds = test.metadata["kinds"]
    assert min(demand[c] for c in demand if kinds[c] == "keyframe") >= 0.5
    assert np.mean([demand[c] for c in demand if kinds[c] == "appearance"]) <= 0.1
    assert sampling["reads"]["16"] == {"clips": len(test), "past_end": 0, "left_out": 0}  # drawn, never past an end
