"""Reads of a clip at a multiple of its stride (the sped-up probes, the stride curve) from real video files: which
frames, what the short-video policy does past a video's end, and how results.json counts it."""

from __future__ import annotations

import pytest
from report_fixtures import motion_detector
from test_data_helpers import frame_numbers, video_cfg
from test_data_layouts import make_ucf

from motionprobe.analysis import analyze
from motionprobe.analysis.run import read_identity
from motionprobe.config import AnalysisConfig
from motionprobe.data import build_dataset
from motionprobe.errors import ConfigError


@pytest.mark.parametrize("policy, past_end", [
    ("loop", [0, 4, 8, 12, 16, 20, 3, 7]),   # 21 frames read every 4th over a 29-frame window: wraps to the start
    ("pad", [0, 4, 8, 12, 16, 20, 20, 20]),  # … or holds the last frame
    ("skip", None),                          # … or has no such read
])
def test_a_read_running_past_a_short_video_follows_the_short_video_policy(tmp_path, policy, past_end):
    make_ucf(tmp_path)
    test = build_dataset(video_cfg("ucf101", tmp_path, short_video_policy=policy).data, "test")
    i = test.ids.index("ApplyLipstick/v_ApplyLipstick_g01_c01.avi#0")  # 21 frames; its 8-frame clip is 6..13
    inside = test.read_clip(i, 2)  # a 15-frame window centred on the clip
    assert frame_numbers(inside.clip, "CTHW") == [2, 4, 6, 8, 10, 12, 14, 16] and not inside.past_end
    assert frame_numbers(test.fast_clip(i), "CTHW") == [2, 4, 6, 8, 10, 12, 14, 16]
    read = test.read_clip(i, 4)
    if past_end is None:
        assert read is None
    else:
        assert frame_numbers(read.clip, "CTHW") == past_end and read.past_end


@pytest.mark.parametrize("policy", ["loop", "skip"])
def test_results_count_the_reads_the_policy_filled_or_left_out(tmp_path, policy):
    make_ucf(tmp_path)
    test = build_dataset(video_cfg("ucf101", tmp_path, short_video_policy=policy).data, "test")
    settings = AnalysisConfig(ks=(1,), candidates=2, replicate_candidates=2, bootstrap=50,
                              probes=("fast", "speed_x4", "slow"))
    results = analyze(motion_detector, test, tmp_path / "analysis", settings, num_frames=8, progress=False).to_json()
    reads, stride = results["sampling"]["reads"], results["sampling"]["stride"]
    assert reads["2"] == {"clips": 4, "past_end": 0, "left_out": 0}  # every test video (21, 22 frames) holds 15
    if policy == "loop":
        assert reads["4"] == {"clips": 4, "past_end": 4, "left_out": 0} and stride["4"]["n"] == 4
    else:
        assert reads["4"] == {"clips": 0, "past_end": 0, "left_out": 4} and stride["4"]["value"] is None
        assert results["probes"]["accuracy"]["speed_x4"]["value"] is None
    assert list(results["sampling"]["coverage"]) == ["1", "0.5"]  # the slowed probe is the 50 % coverage point
    # the temporal demand is read at the largest stride any clip could be read at
    demand = results["sampling"]["temporal_demand"]
    assert (demand["from_stride"], demand["to_stride"], demand["n"]) == (1, 4 if policy == "loop" else 2, 4)


def test_a_resumed_analysis_checks_the_sampling_its_reads_depend_on(tmp_path):
    """A read past a short video depends on the short-video policy: another policy is another plan."""
    make_ucf(tmp_path)
    loop, pad = (build_dataset(video_cfg("ucf101", tmp_path, short_video_policy=p).data, "test") for p in ("loop", "pad"))
    assert read_identity(loop) == {"stride": 1, "policy": "loop"} and read_identity(pad)["policy"] == "pad"
    settings = AnalysisConfig(ks=(1,), candidates=2, replicate_candidates=2, bootstrap=20, probes=("speed_x4",))
    analyze(motion_detector, loop, tmp_path / "a", settings, num_frames=8, progress=False)
    with pytest.raises(ConfigError, match="different inputs or settings"):
        analyze(motion_detector, pad, tmp_path / "a", settings, num_frames=8, progress=False, resume=True)
