"""Clip sampling: the worked examples of data/sampling.py, checked."""

from __future__ import annotations

import pytest
import torch

from motionprobe.data.sampling import (
    ClipSampling,
    TooShort,
    centered_start,
    clip_indices,
    clip_span,
    distinct_clips,
    eval_clip_indices,
    frame_range,
    random_start,
    spaced_starts,
)


def test_span():
    assert clip_span(16, 1) == 16
    assert clip_span(16, 2) == 31


@pytest.mark.parametrize("policy, stride, expected", [
    ("loop", 1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5]),
    ("pad", 1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9]),
    ("loop", 2, [0, 2, 4, 6, 8, 0, 2, 4, 6, 8, 0, 2, 4, 6, 8, 0]),
    ("pad", 2, [0, 2, 4, 6, 8] + [9] * 11),
])
def test_short_video_policies(policy, stride, expected):
    sampling = ClipSampling(num_frames=16, stride=stride, policy=policy)
    assert clip_indices(0, 10, sampling) == expected


def test_skip_policy_raises_only_for_short_videos():
    sampling = ClipSampling(num_frames=16, policy="skip")
    with pytest.raises(TooShort, match="10 frames"):
        clip_indices(0, 10, sampling)
    assert clip_indices(0, 16, sampling) == list(range(16))


def test_long_videos_are_never_touched_by_the_policy():
    for policy in ("loop", "pad", "skip"):
        assert clip_indices(24, 40, ClipSampling(policy=policy)) == list(range(24, 40))


def test_centered_and_spaced_starts():
    assert centered_start(40, 16) == 12
    assert centered_start(41, 16) == 12  # rounds toward the beginning
    assert centered_start(10, 16) == 0
    assert spaced_starts(40, 16, 1) == [12]
    assert spaced_starts(40, 16, 3) == [0, 12, 24]
    assert spaced_starts(10, 16, 3) == [0, 0, 0]
    assert eval_clip_indices(40, ClipSampling(clips_per_video=2)) == [list(range(0, 16)), list(range(24, 40))]


def test_random_start_covers_every_start_and_no_other():
    g = torch.Generator().manual_seed(0)
    starts = {random_start(20, 16, g) for _ in range(400)}
    assert starts == {0, 1, 2, 3, 4}
    assert random_start(10, 16, g) == 0
    a = [random_start(100, 16, torch.Generator().manual_seed(3)) for _ in range(2)]
    assert a[0] == a[1]  # a pure function of the generator state


def test_bad_sampling_settings():
    with pytest.raises(ValueError, match="policy"):
        ClipSampling(policy="wrap")
    with pytest.raises(ValueError):
        ClipSampling(stride=0)


def test_distinct_clips_and_frame_ranges():
    assert distinct_clips(20, 16) == 5  # starts 0..4
    assert distinct_clips(16, 16) == 1 and distinct_clips(10, 16) == 1
    assert len(set(spaced_starts(20, 16, 8))) == 5  # asking for 8 repeats some of the 5
    assert frame_range(10, 29, 100) == (10, 20)
    assert frame_range(90, 120, 100) == (90, 10)  # cut at the last frame
    assert frame_range(0, None, 100) == (0, 100)
    with pytest.raises(ValueError, match="outside the video"):
        frame_range(100, 120, 100)
