"""Decoding real-world files: H.264, HEVC, VP9, MPEG-4 at odd sizes, variable frame rate, non-square pixels, rotation.

Every file is encoded here with numbered frames (test_data_helpers); a read is right when the numbers
read back are the ones asked for. Rotated files carry a picture whose upright orientation is known:
the encoder is given the picture as a phone would store it (turned against its display matrix), and
the decoder must hand back the upright one.
"""

from __future__ import annotations

import fractions

import av
import numpy as np
import pytest
from test_data_helpers import frame_numbers, frame_pixels, write_video

from motionprobe.data.video import Orientation, VideoFile, probe

VFR_PTS = [0, 40, 80, 90, 200, 210, 220, 400, 410, 420, 430, 440, 600, 640, 680, 700, 720, 800, 810, 900]
FILES = {  # name: (file name, write_video keywords, (height, width), codec name as probed)
    "h264_qcif": ("a.mp4", {"width": 176, "height": 144}, (144, 176), "h264"),
    "hevc": ("b.mp4", {"codec": "libx265", "width": 96, "height": 64}, (64, 96), "hevc"),
    "hevc_vfr": ("c.mp4", {"codec": "libx265", "width": 64, "height": 48, "pts": VFR_PTS}, (48, 64), "hevc"),
    "vp9_odd": ("d.webm", {"width": 175, "height": 144}, (144, 175), "vp9"),
    "vp9_vfr": ("e.webm", {"width": 41, "height": 31, "pts": VFR_PTS}, (31, 41), "vp9"),
    "mpeg4_odd": ("f.avi", {"width": 175, "height": 143}, (143, 175), "mpeg4"),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("codecs")
    return {name: write_video(d / file, **kwargs) for name, (file, kwargs, _, _) in FILES.items()}


@pytest.mark.parametrize("name", list(FILES))
def test_every_frame_reads_exactly_on_each_codec(files, name, monkeypatch):
    _, _, size, codec = FILES[name]
    info = probe(files[name])
    assert (info.num_frames, (info.height, info.width), info.codec) == (20, size, codec)
    with VideoFile(files[name]) as v:
        everything = v.read_all()
        assert everything.shape == (20, *size, 3)
        assert frame_numbers(everything) == list(range(20))
        assert len(v._key_positions) > 1  # a keyframe every 5 frames: there is something to seek to
        monkeypatch.setattr(VideoFile, "_read_from_start", lambda self, wanted, size: pytest.fail("fell back"))
        for i in (19, 0, 7, 13, 4, 18):
            assert np.array_equal(v.read([i])[0], everything[i]), i
        assert frame_numbers(v.read([16, 2, 2, 11])) == [16, 2, 2, 11]


def test_variable_frame_rate_is_indexed_by_frames_not_time(files):
    for name in ("hevc_vfr", "vp9_vfr"):
        with av.open(str(files[name])) as c:  # the files really are variable-rate: gaps of 10 to 180 ms
            s = c.streams.video[0]
            times = sorted(round(float(p.pts * s.time_base) * 1000) for p in c.demux(s) if p.size)
        assert times == VFR_PTS
        assert probe(files[name]).num_frames == 20
        with VideoFile(files[name]) as v:
            assert frame_numbers(v.read([3, 4, 5, 6, 7])) == [3, 4, 5, 6, 7]  # across the 110 ms and 180 ms gaps


def test_non_square_pixels_are_reported_and_kept(tmp_path):
    """SAR 2:1 (each stored pixel twice as wide as high): frames keep the stored 40×30 grid, as
    torchvision, pytorchvideo and decord return them; the ratio is reported for whoever wants it."""
    path = write_video(tmp_path / "sar.mp4", width=40, height=30, sar=fractions.Fraction(2, 1))
    with av.open(str(path)) as c:
        assert c.streams.video[0].sample_aspect_ratio == 2  # the file really says so
    info = probe(path)
    assert info.sample_aspect_ratio == 2 and (info.height, info.width) == (30, 40)
    with VideoFile(path) as v:
        assert v.size == (30, 40)
        frames = v.read([0, 9])
    assert frames.shape == (2, 30, 40, 3) and frame_numbers(frames) == [0, 9]
    assert probe(write_video(tmp_path / "square.mp4")).sample_aspect_ratio in (None, 1)


# ---------------------------------------------------------------------------------------------- rotation

UPRIGHT_H, UPRIGHT_W = 48, 32  # a portrait picture, as the viewer should see it


def upright_picture(i: int, height: int, width: int) -> np.ndarray:
    """Frame i's numbered picture with two marks in blue only (red and green carry the number):
    top-left quarter blue 255, top-right quarter blue 0. Their two positions tell all 8 turns and
    mirrors apart."""
    picture = frame_pixels(i, height, width).copy()
    picture[: height // 2, : width // 2, 2] = 255
    picture[: height // 2, width // 2:, 2] = 0
    return picture


def marks(picture: np.ndarray) -> tuple[str, str]:
    """(quarter holding the bright mark, quarter holding the dark mark) of an (H, W, 3) picture."""
    h, w = picture.shape[0] // 2, picture.shape[1] // 2
    quarters = {"top-left": picture[:h, :w], "top-right": picture[:h, w:],
                "bottom-left": picture[h:, :w], "bottom-right": picture[h:, w:]}
    blue = {name: float(q[..., 2].mean()) for name, q in quarters.items()}
    return max(blue, key=blue.get), min(blue, key=blue.get)


def stored_from_upright(picture: np.ndarray, rotation: int, hflip: bool) -> np.ndarray:
    """What the camera stores for a picture meant to be seen upright, derived from PyAV's documented
    convention for `set_display_rotation(degrees, hflip)`: the display turns the stored picture
    `degrees` counter-clockwise, then mirrors it left-right. Undo both, in reverse order."""
    if hflip:
        picture = picture[:, ::-1]
    return np.ascontiguousarray(np.rot90(picture, k=-rotation // 90))


@pytest.mark.parametrize("rotation, hflip", [(-90, False), (90, False), (180, False), (90, True), (0, True),
                                             (-90, True)])
def test_rotated_videos_come_out_upright_and_frame_exact(tmp_path, rotation, hflip):
    turned = rotation % 180 != 0
    stored_h, stored_w = (UPRIGHT_W, UPRIGHT_H) if turned else (UPRIGHT_H, UPRIGHT_W)
    path = write_video(tmp_path / "phone.mp4", width=stored_w, height=stored_h, rotation=rotation, hflip=hflip,
                       pictures=lambda i: stored_from_upright(upright_picture(i, UPRIGHT_H, UPRIGHT_W), rotation, hflip))
    with av.open(str(path)) as c:  # the file stores the turned picture plus a display matrix
        first = next(c.decode(video=0))
        assert (first.height, first.width) == (stored_h, stored_w)
        assert marks(first.to_ndarray(format="rgb24")) != ("top-left", "top-right")
    info = probe(path)
    assert (info.height, info.width) == (UPRIGHT_H, UPRIGHT_W)
    if not hflip:  # the angle of a mirrored matrix is not the turn (a mirror alone reads as 180)
        assert info.rotation == rotation
    with VideoFile(path) as v:
        assert v.size == (UPRIGHT_H, UPRIGHT_W)
        everything = v.read_all()
        assert everything.shape == (20, UPRIGHT_H, UPRIGHT_W, 3)
        assert frame_numbers(everything) == list(range(20))
        assert all(marks(f) == ("top-left", "top-right") for f in everything)
        clip = v.read([17, 3, 9])
        assert np.array_equal(clip, everything[[17, 3, 9]])
        small = v.read([5], size=(24, 16))  # the resize is asked in upright terms
        assert small.shape == (1, 24, 16, 3) and marks(small[0]) == ("top-left", "top-right")
        assert np.array_equal(small, v.read_all(size=(24, 16))[[5]])


@pytest.mark.parametrize("matrix, expected", [
    ((65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30), Orientation()),
    ((0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30), Orientation(transpose=True, flip_cols=True)),  # ffmpeg: clock
    ((0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30), Orientation(transpose=True, flip_rows=True)),  # cclock
    ((-65536, 0, 0, 0, -65536, 0, 0, 0, 1 << 30), Orientation(flip_rows=True, flip_cols=True)),  # 180
    ((0, 65536, 0, 65536, 0, 0, 0, 0, 1 << 30), Orientation(transpose=True)),  # cclock_flip: a plain transpose
    ((46341, 46341, 0, -46341, 46341, 0, 0, 0, 1 << 30), Orientation()),  # 45°: left as stored
])
def test_orientation_of_display_matrices(matrix, expected):
    """FFmpeg's autorotate for the same matrices (fftools: transpose=clock, cclock, hflip+vflip, cclock_flip)."""
    assert Orientation.from_matrix(matrix) == expected
    stored = np.arange(2 * 3 * 3).reshape(2, 3, 3)
    turned = expected.apply(stored)
    assert turned.shape == ((3, 2, 3) if expected.transpose else (2, 3, 3))
    if expected == Orientation(transpose=True, flip_cols=True):
        assert np.array_equal(turned, np.rot90(stored, k=-1))  # clockwise quarter turn
