"""Decoding: frame counts from what files hold, frame-exact reads after seeking, clear failures."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch
from test_data_helpers import frame_numbers, write_video

from motionprobe.data import video as video_mod
from motionprobe.data.video import VideoError, VideoFile, probe, read_frames

VFR_PTS = [0, 40, 80, 90, 200, 210, 220, 400, 410, 420, 430, 440, 600, 640, 680, 700, 720, 800, 810, 900]


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("videos")
    return {
        "mpeg4_avi": write_video(d / "a.avi"),
        "h264_mp4": write_video(d / "b.mp4"),
        "vfr_mp4": write_video(d / "vfr.mp4", pts=VFR_PTS),
        "odd_avi": write_video(d / "odd.avi", width=41, height=31),
        "mkv": write_video(d / "c.mkv"),
    }


@pytest.mark.parametrize("name", ["mpeg4_avi", "h264_mp4", "vfr_mp4", "odd_avi", "mkv"])
def test_every_frame_reads_exactly_after_seeking(videos, name, monkeypatch):
    with VideoFile(videos[name]) as v:
        assert v.num_frames == 20
        everything = v.read_all()
        assert frame_numbers(everything) == list(range(20))
        assert len(v._key_positions) > 1  # there is something to seek to
        # Every read must be served by seeking, not by the decode-from-start fallback.
        monkeypatch.setattr(VideoFile, "_read_from_start", lambda self, wanted: pytest.fail("fell back"))
        for i in range(20):
            assert np.array_equal(v.read([i])[0], everything[i])
        out_of_order = [17, 3, 3, 11, 0, 19]
        assert frame_numbers(v.read(out_of_order)) == out_of_order
        assert np.array_equal(v.read(out_of_order), everything[out_of_order])


def test_probe_reports_size_and_counts_frames_without_metadata(videos):
    info = probe(videos["odd_avi"])
    assert (info.num_frames, info.height, info.width, info.codec) == (20, 31, 41, "mpeg4")
    with av.open(str(videos["mkv"])) as c:
        assert c.streams.video[0].frames == 0  # Matroska does not store a frame count
    assert probe(videos["mkv"]).num_frames == 20
    vfr = probe(videos["vfr_mp4"])
    assert vfr.num_frames == 20 and vfr.fps != 25.0


def test_read_frames_layouts(videos):
    thwc = read_frames(videos["h264_mp4"], [2, 4, 6])
    cthw = read_frames(videos["h264_mp4"], [2, 4, 6], layout="CTHW")
    assert thwc.dtype == torch.uint8 and thwc.shape == (3, 30, 40, 3)
    assert cthw.shape == (3, 3, 30, 40)
    assert torch.equal(cthw.permute(1, 2, 3, 0), thwc)
    assert frame_numbers(cthw, layout="CTHW") == [2, 4, 6]


def test_missing_timestamps_fall_back_to_counting_decoded_frames(videos, monkeypatch):
    """A muxer without packet timestamps: frames are counted and read by decoding from the start."""
    def no_pts(self):
        self._count = self._count_by_decoding()
        return None, []

    monkeypatch.setattr(video_mod.VideoFile, "_index_packets", no_pts)
    with VideoFile(videos["mpeg4_avi"]) as v:
        assert v.num_frames == 20
        assert frame_numbers(v.read([15, 2])) == [15, 2]


def test_one_frame_video(tmp_path):
    path = write_video(tmp_path / "one.avi", frames=1)
    with VideoFile(path) as v:
        assert v.num_frames == 1
        assert frame_numbers(v.read([0, 0, 0])) == [0, 0, 0]
        with pytest.raises(IndexError):
            v.read([1])


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_text("this is not a video\n"), "not a readable video"),
    (lambda p: None, "file not found"),
])
def test_unreadable_files_raise_video_error(tmp_path, make, reason):
    path = tmp_path / "bad.avi"
    make(path)
    with pytest.raises(VideoError, match=reason) as err:
        probe(path)
    assert err.value.path == str(path)


def test_truncated_files(tmp_path):
    """An .mp4 cut short loses its index (unreadable); an .avi cut short keeps the frames before the cut."""
    mp4 = write_video(tmp_path / "full.mp4", frames=40)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(mp4.read_bytes()[: mp4.stat().st_size // 2])
    with pytest.raises(VideoError, match="not a readable video"):
        probe(cut)
    avi = write_video(tmp_path / "full.avi", frames=40)
    cut_avi = tmp_path / "cut.avi"
    cut_avi.write_bytes(avi.read_bytes()[: avi.stat().st_size * 6 // 10])
    with VideoFile(cut_avi) as v:
        assert 0 < v.num_frames < 40
        assert frame_numbers(v.read([0, 5])) == [0, 5]


@pytest.mark.parametrize("undecoded, ok", [(1, True), (2, True), (3, False)])
def test_listed_tail_frames_that_never_decode_repeat_the_last_decoded_one(tmp_path, monkeypatch, undecoded, ok):
    # OpenCV's box.mp4 lists 456 packets and decodes 455 frames. Here the decoder is made to stop `undecoded`
    # frames early: up to UNDECODED_TAIL (2) the clip's tail repeats the last decoded frame; more is damage.
    from motionprobe.data.export import encode_avi

    assert video_mod.UNDECODED_TAIL == 2
    frames = np.stack([np.full((16, 16, 3), 10 * i, np.uint8) for i in range(12)])
    path = tmp_path / "short_tail.avi"
    path.write_bytes(encode_avi(frames))
    real_decode = VideoFile._decode

    def decode_fewer(self):
        return (frame for i, frame in enumerate(real_decode(self)) if i < 12 - undecoded)

    monkeypatch.setattr(VideoFile, "_decode", decode_fewer)
    monkeypatch.setattr(VideoFile, "_read_by_seeking", lambda self, wanted, size: None)
    with VideoFile(path) as video:
        assert video.num_frames == 12  # what the packets list
        if not ok:
            with pytest.raises(VideoError, match="frame 9 is listed but does not decode"):
                video.read(list(range(8, 12)))
            return
        clip = video.read(list(range(8, 12)))
    levels = [round(float(f.mean()) / 10) for f in clip]
    last = 11 - undecoded
    assert levels == [min(i, last) for i in range(8, 12)]
