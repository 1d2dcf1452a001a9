"""Which frames of a video make a clip: pure functions of the frame count, no hidden state.

A clip is `num_frames` frames taken every `stride` frames from a start index; it spans
`(num_frames - 1) * stride + 1` frames of the video. Training draws the start at random; evaluation
takes the centered clip (`clips_per_video=1`) or N evenly spaced ones.

Videos shorter than a clip follow a policy:

- ``loop`` (default): the video repeats from its first frame, i.e. frame `i` is `i mod n`;
- ``pad``: the last frame repeats;
- ``skip``: the video is not used (the dataset skips and counts it).

Worked example: a 10-frame video (frames 0..9), 16-frame clips, stride 1. The span is 16 > 10, so
every sampler starts at 0 and the clip is

    loop: 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
    pad:  0 1 2 3 4 5 6 7 8 9 9 9 9 9 9 9
    skip: None

With stride 2 the same video gives loop 0 2 4 6 8 0 2 4 6 8 0 2 4 6 8 0 (position 2·j mod 10) and
pad 0 2 4 6 8 9 9 … 9. A 40-frame video with 16-frame clips has 25 possible starts (0..24): the
centered clip starts at 12 (frames 12..27); three evenly spaced clips start at 0, 12 and 24.
A 20-frame video has 5 distinct 16-frame clips (starts 0..4): asking it for 8 clips per video repeats
some of them (`distinct_clips` says how many there are).

An annotation may restrict a video to a range of frames (Diving48's start_frame/end_frame): clips
are then cut from inside the range as if it were the whole video, and frame numbers are shifted
back at the end. `frame_range(10, 29, 100)` is the 20 frames 10..29; a range running past the
video's end is cut at its last frame (`frame_range(90, 120, 100)` → frames 90..99), and one that
starts after it is empty (ValueError).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

POLICIES = ("loop", "pad", "skip")  # what a video shorter than a clip gives: the choices of data.short_video_policy
MAX_FRAMES = 1024  # the longest clip accepted (data.num_frames): a clip no machine holds is refused before any work


class TooShort(Exception):
    """A video shorter than one clip under the ``skip`` policy."""


@dataclass(frozen=True)
class ClipSampling:
    """How clips are cut from a video (the sampling half of the data config)."""

    num_frames: int = 16
    stride: int = 1
    clips_per_video: int = 1
    policy: str = "loop"

    def __post_init__(self) -> None:
        if self.num_frames < 1 or self.stride < 1 or self.clips_per_video < 1:
            raise ValueError(f"num_frames, stride and clips_per_video must be >= 1, got {self}")
        if self.policy not in POLICIES:
            raise ValueError(f"short-video policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")

    @property
    def span(self) -> int:
        return clip_span(self.num_frames, self.stride)


def clip_span(num_frames: int, stride: int = 1) -> int:
    """Frames of the video a clip covers, first to last: 16 frames at stride 2 span 31."""
    return (num_frames - 1) * stride + 1


def random_start(video_frames: int, span: int, generator: torch.Generator | None = None) -> int:
    """A uniformly random start in [0, video_frames - span]; 0 when the video is shorter than the span."""
    last = video_frames - span
    if last <= 0:
        return 0
    return int(torch.randint(0, last + 1, (1,), generator=generator).item())


def centered_start(video_frames: int, span: int) -> int:
    """The start that centers the clip (rounding toward the beginning); 0 for short videos."""
    return max(0, (video_frames - span) // 2)


def spaced_starts(video_frames: int, span: int, count: int) -> list[int]:
    """`count` starts evenly spaced from the first possible start to the last, both included.

    count=1 is the centered clip. Short videos get `count` starts of 0 (the same clip repeated), so
    every video contributes the same number of items.
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if count == 1:
        return [centered_start(video_frames, span)]
    last = max(0, video_frames - span)
    return [round(j * last / (count - 1)) for j in range(count)]


def distinct_clips(video_frames: int, span: int) -> int:
    """How many different clips a video holds: one per possible start (one for a short video)."""
    return max(1, video_frames - span + 1)


def frame_range(first: int, last: int | None, video_frames: int) -> tuple[int, int]:
    """(first frame, frame count) of the annotated frames `first..last` (both included) of a video.

    `last=None` means the video's last frame; a `last` past the end is cut there. Raises ValueError
    when nothing is left (the range starts after the video ends)."""
    end = video_frames - 1 if last is None else min(last, video_frames - 1)
    if first < 0 or first > end:
        raise ValueError(f"annotated frames {first}..{'end' if last is None else last} are outside the video "
                         f"({video_frames} frames)")
    return first, end - first + 1


def clip_indices(start: int, video_frames: int, sampling: ClipSampling) -> list[int]:
    """Frame numbers of the clip starting at `start`, with the short-video policy applied.

    Raises TooShort under the ``skip`` policy when the clip runs past the last frame.
    """
    if video_frames < 1:
        raise ValueError("a video needs at least one frame")
    raw = [start + j * sampling.stride for j in range(sampling.num_frames)]
    if raw[-1] < video_frames:
        return raw
    if sampling.policy == "skip":
        raise TooShort(f"{video_frames} frames, shorter than one clip ({sampling.span} frames)")
    if sampling.policy == "loop":
        return [i % video_frames for i in raw]
    return [min(i, video_frames - 1) for i in raw]


def eval_clip_indices(video_frames: int, sampling: ClipSampling) -> list[list[int]]:
    """The evaluation clips of a video: `clips_per_video` evenly spaced (one: centered)."""
    return [clip_indices(s, video_frames, sampling)
            for s in spaced_starts(video_frames, sampling.span, sampling.clips_per_video)]
