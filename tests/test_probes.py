"""The temporal probes' table (motionprobe/probes.py): every probe's frame indices, its severity, and what the
analysis' fingerprint records of it; the graded summaries' pure parts (relative robustness, area over k)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionprobe.analysis import Plan
from motionprobe.analysis.perclip import area_weights
from motionprobe.analysis.temporal import robustness_values
from motionprobe.data.synthetic import SyntheticMotionDataset
from motionprobe.errors import ConfigError
from motionprobe.probes import PROBE, PROBES, TABLE, check_probes, family_members, probe_order, variants


@pytest.mark.parametrize("t", [8, 16, 32])
def test_every_probe_shows_t_frames_of_its_source(t):
    for probe in TABLE:
        for variant in range(3):
            order = probe.order(t, clip_key=5, variant=variant, seed=1)
            assert order.shape == (t,) and order.min() >= 0 and order.max() < t, probe.name
        if probe.random:  # a permutation, drawn afresh per draw and clip, the same in every run
            assert sorted(order.tolist()) == list(range(t))
            assert not np.array_equal(probe.order(t, 5, 0, 1), probe.order(t, 5, 1, 1))
            assert np.array_equal(probe.order(t, 5, 2, 1), probe.order(t, 5, 2, 1))


def test_shuffle_and_local_shuffle_draw_the_permutations_they_drew_before_grading():
    """Analyses made before the probes were graded keep their numbers: the same seeded draws."""
    for key, variant, seed in [(0, 0, 0), (7, 3, 2)]:
        rng = np.random.default_rng([seed, 7, key, variant])
        assert probe_order("shuffle", 16, key, variant, seed).tolist() == rng.permutation(16).tolist()
        rng = np.random.default_rng([seed, 7, key, variant])
        old = np.concatenate([lo + rng.permutation(4) for lo in range(0, 16, 4)])
        assert probe_order("local_shuffle", 16, key, variant, seed).tolist() == old.tolist()


@pytest.mark.parametrize("name, window", [("shuffle_w2", 2), ("local_shuffle", 4), ("shuffle_w8", 8), ("shuffle", 16)])
def test_shuffle_keeps_the_order_between_its_windows(name, window):
    order = probe_order(name, 16, clip_key=3, variant=1, seed=0)
    for lo in range(0, 16, window):
        assert sorted(order[lo:lo + window].tolist()) == list(range(lo, lo + window))


@pytest.mark.parametrize("name, held", [("freeze_25", 4), ("freeze_50", 8), ("freeze", 16)])
def test_freeze_holds_the_last_share_of_the_clip(name, held):
    order = probe_order(name, 16).tolist()
    playing = 16 - held
    assert order[:playing] == list(range(playing))  # the clip plays until the frozen share begins …
    assert order[playing:] == [max(0, playing - 1)] * held  # … then holds the frame before it (100 %: the first)


def test_speed_slows_on_the_clip_and_speeds_up_by_reading_the_video_at_a_larger_stride():
    assert probe_order("speed_x0.25", 16).tolist() == [i // 4 for i in range(16)]
    assert probe_order("slow", 16).tolist() == [i // 2 for i in range(16)]
    for name, factor in [("fast", 2), ("speed_x4", 4), ("speed_x8", 8), ("speed_x16", 16)]:
        assert PROBE[name].read == factor and probe_order(name, 16).tolist() == list(range(16))
    assert {p.name: p.read for p in TABLE if p.read == 1} == {p.name: 1 for p in TABLE if p.name not in
                                                              ("fast", "speed_x4", "speed_x8", "speed_x16")}


def test_families_list_their_severities_mildest_first_and_names_are_checked():
    assert [p.name for p in family_members(PROBES, "shuffle")] == ["shuffle_w2", "local_shuffle", "shuffle_w8", "shuffle"]
    assert [p.severity for p in family_members(PROBES, "freeze")] == [0.25, 0.5, 1.0]
    assert [p.severity for p in family_members(PROBES, "speed")] == [0.25, 0.5, 2, 4, 8, 16]
    assert variants("shuffle_w8", 3) == 3 and variants("freeze_25", 3) == 1
    with pytest.raises(ConfigError, match="unknown probe 'warp'"):
        check_probes(("shuffle", "warp"))
    with pytest.raises(ConfigError, match="named twice"):
        check_probes(("fast", "fast"))


def test_a_changed_probe_definition_changes_the_plan_a_resumed_analysis_checks(monkeypatch):
    def plan():
        return Plan.build(num_frames=16, ks=(1,), pools={1: [(3,)]}, num_clips=4, shard_size=2,
                          probes=[("shuffle_w8", 2), ("speed_x4", 1)])

    before = plan().fingerprint()
    assert plan().fingerprint() == before
    monkeypatch.setitem(PROBE, "shuffle_w8", PROBE["local_shuffle"].__class__(
        "shuffle_w8", "shuffle", 6, "window of 6", "…", random=True))
    assert plan().fingerprint() != before


def test_the_benchmark_reads_a_longer_drawing_at_a_larger_stride():
    test = SyntheticMotionDataset("test", per_class=1)
    for i in (0, 9):  # at factor 1 the read is the clip itself; at 2 it is the `fast` probe's clip
        assert torch.equal(test.read_clip(i, 1).clip, test[i]["clip"])
        assert torch.equal(test.read_clip(i, 2).clip, test.fast_clip(i)) and not test.read_clip(i, 16).past_end
    # A key-frame clip's flash lasts 2 frames of the drawing: every clip shows both, the reads at stride ≥ 4 at
    # most one (a read at stride 2 always keeps one), and at stride 16 some clip steps over it altogether.
    keyframe = [i for i in range(len(test)) if test.info(i).kind == "keyframe"]

    def flashes(clip: torch.Tensor) -> int:  # frames whose saturated pixels (the flash square) cover > 15 %
        saturation = (clip.max(dim=0).values.int() - clip.min(dim=0).values.int()) > 128
        return int((saturation.float().mean(dim=(1, 2)) > 0.15).sum())

    assert [flashes(test[i]["clip"]) for i in keyframe] == [2, 2, 2]
    assert all(flashes(test.read_clip(i, 2).clip) >= 1 for i in keyframe)
    assert all(flashes(test.read_clip(i, f).clip) <= 1 for i in keyframe for f in (4, 8, 16))
    assert min(flashes(test.read_clip(i, 16).clip) for i in keyframe) == 0


def test_relative_robustness_is_probe_over_original_averaged_by_family_then_overall():
    original = np.array([1, 1, 1, 1, 0.0])
    correct = {"a": np.array([1, 0, 1, 0, 1.0]),   # 3/5 right against the original's 4/5: 0.75
               "b": np.array([1, 1, 1, 1, 0.0]),   # 1.0
               "c": np.array([0, 0, 0, 1, np.nan])}  # 1/4 right on the 4 clips it ran on, the original 4/4: 0.25
    values = robustness_values(original, correct, {"f": ["a", "b"], "g": ["c"]}, np.ones((1, 5)))
    assert values["f"][0] == pytest.approx(0.875) and values["g"][0] == pytest.approx(0.25)
    assert values["overall"][0] == pytest.approx(0.5625)  # each family weighs the same
    # A resample holding only the clips no probe got right but the original did: 0 for every family.
    only = np.array([[0, 2, 0, 0, 0.0]])
    assert robustness_values(original, correct, {"f": ["a"]}, only)["f"][0] == 0.0


def test_area_weights_are_a_trapezoid_over_log2_k():
    w = area_weights([1, 2, 4, 8])
    assert w.sum() == pytest.approx(1.0) and w.tolist() == pytest.approx([1 / 6, 1 / 3, 1 / 3, 1 / 6])
    assert area_weights([1, 4]).tolist() == [0.5, 0.5]
