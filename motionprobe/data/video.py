"""Frame-exact video decoding with PyAV.

Frame `i` of a video is the `i`-th frame its decoder outputs when the file is decoded from the start,
in presentation order. That definition is the ground truth; reading seeks only to go faster:

1. Demux the packets once (no decoding: cheap) and sort their presentation timestamps: the `i`-th
   smallest timestamp is frame `i`, and the packets flagged as keyframes are where decoding may start.
   This is how the frame count is probed too, so containers that lie about (or omit) their frame
   count, or whose frame rate varies, are counted by what they hold.
2. To read frames [i..j], seek backward to the last keyframe at or before frame `i`, decode forward,
   and keep the frames whose timestamps are wanted.
3. Where timestamps are missing or do not match what the decoder outputs (unusual muxers), fall back
   to decoding from the start and counting frames.

Colour conversion to RGB is the slow part of PyAV decoding, so only wanted frames are converted,
through one reused `VideoReformatter` per thread. Resizing happens in the same swscale call (area
averaging, antialiased when shrinking): about 0.4 ms per 320×240 frame here, against ~8 ms for a
torch resize of the full-size frame afterwards.

Frames come out **upright**. A phone stores a portrait video as landscape pictures plus a display
matrix (rotation, maybe a mirror) that players apply. PyAV 18 has no reader for a stream's side
data (`Stream.set_display_matrix` only writes it); FFmpeg's decoder copies the stream's matrix onto
every decoded frame, where PyAV exposes it as `frame.side_data` (type DISPLAYMATRIX: nine int32,
16.16 fixed point) and its angle as `frame.rotation`. The matrix of the first frame is read when the
file is opened and applied to every frame as FFmpeg's command-line tool does (`autorotate`):
right-angle rotations and mirrors exactly (`Orientation`); any other angle (very rare) leaves the
frames as stored. `size` is the upright size.

The **sample aspect ratio** (non-square pixels, e.g. 720×480 DVD video with SAR 32:27) is reported
(`VideoInfo.sample_aspect_ratio`) but not corrected: frames keep the stored pixel grid, as
torchvision's `read_video`, pytorchvideo's PyAV decoder and decord return them, so a model trained
through those readers sees the same pixels here. The C3D resize (`fixed`: every frame to 128×171)
makes every aspect ratio the same anyway; with `short_side` the stored grid's aspect is kept.

H.264, HEVC, VP9 (.webm) and MPEG-4 part 2 files are read frame-exactly, whatever their size (odd
widths such as 175 included) or frame rate (variable rates are indexed by timestamp, not by time).

Every failure to read a file (empty, truncated, not a video, no video stream, undecodable) raises
`VideoError`, which datasets turn into skip-and-count.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
from av.sidedata.sidedata import Type as SideDataType
from av.video.reformatter import Interpolation, VideoReformatter

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv", ".3gp", ".ogv")
# What decoded frames are, beyond their pixels: stored with the frame cache, so arrays decoded under
# other conventions (before rotation was applied) are not used.
UNDECODED_TAIL = 2  # listed frames at a video's end that may fail to decode (see VideoFile._read_from_start)
DECODING = "upright/1: display-matrix orientation applied, sample aspect ratio kept"
_DECODE_ERRORS = (av.error.FFmpegError, OSError, EOFError, ValueError)
_local = threading.local()


class VideoError(Exception):
    """A file that cannot be read as a video; `reason` says why in a few words."""

    def __init__(self, path: str | Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class VideoInfo:
    """What probing a file finds. `num_frames` is counted from the packets, not read from metadata."""

    num_frames: int
    height: int  # upright, as frames come out of `read`
    width: int
    fps: float | None  # average rate; None when the container does not say
    codec: str
    rotation: int = 0  # the display matrix's angle, counter-clockwise in (-180, 180] (applied; a mirror reads as 180)
    sample_aspect_ratio: Fraction | None = None  # width / height of a pixel; None when unknown (not corrected)


@dataclass(frozen=True)
class Orientation:
    """How to turn a stored (H, W, 3) picture upright: transpose, then flip rows, then flip columns.

    From a display matrix [a b 0; c d 0; x y 1], which maps a stored pixel (p, q) (column, row) to
    (a·p + c·q + x, b·p + d·q + y) on screen. For the usual portrait phone video (a, b, c, d) =
    (0, 1, -1, 0): the display column is -q and the row is p, i.e. transpose and flip columns — a
    clockwise quarter turn, what `ffmpeg` does for "rotation of -90 degrees".
    """

    transpose: bool = False
    flip_rows: bool = False
    flip_cols: bool = False

    @property
    def swaps_sides(self) -> bool:
        return self.transpose

    def apply(self, picture: np.ndarray) -> np.ndarray:
        if self.transpose:
            picture = picture.transpose(1, 0, 2)
        if self.flip_rows:
            picture = picture[::-1]
        if self.flip_cols:
            picture = picture[:, ::-1]
        return np.ascontiguousarray(picture)

    @classmethod
    def from_matrix(cls, matrix: Sequence[int]) -> Orientation:
        """The orientation of a display matrix (nine int32); identity unless it is a right-angle one."""
        a, b, c, d = (matrix[i] / 65536.0 for i in (0, 1, 3, 4))
        scale = max(abs(a), abs(b), abs(c), abs(d))
        if scale == 0:
            return cls()
        a, b, c, d = (v if abs(v) > 1e-3 * scale else 0.0 for v in (a, b, c, d))
        if b == 0 and c == 0 and a != 0 and d != 0:  # no quarter turn: mirrors only
            return cls(flip_rows=d < 0, flip_cols=a < 0)
        if a == 0 and d == 0 and b != 0 and c != 0:  # a quarter turn: display row from p, column from q
            return cls(transpose=True, flip_rows=b < 0, flip_cols=c < 0)
        return cls()


UPRIGHT = Orientation()


def orientation_of(frame: av.VideoFrame) -> Orientation:
    """The orientation the DISPLAYMATRIX side data of a decoded frame asks for (identity without one)."""
    for item in frame.side_data:
        # Iterating yields the side data itself up to PyAV 18.0, and its type (a mapping's key) from 18.1 on.
        side_data = item if hasattr(item, "type") else frame.side_data[item]
        if side_data.type == SideDataType.DISPLAYMATRIX:
            raw = bytes(side_data)
            if len(raw) >= 36:
                return Orientation.from_matrix(struct.unpack("=9i", raw[:36]))
    return UPRIGHT


def _reformatter() -> VideoReformatter:
    if not hasattr(_local, "reformatter"):
        _local.reformatter = VideoReformatter()
    return _local.reformatter


def _to_rgb(frame: av.VideoFrame, size: tuple[int, int] | None = None,
            orientation: Orientation = UPRIGHT) -> np.ndarray:
    """Upright RGB uint8 (H, W, 3) of a decoded frame, resized to `size` (upright H, W) when given.

    The resize happens before turning (in swscale, on the stored picture), so a quarter turn asks
    swscale for the sides swapped."""
    if size is not None and orientation.swaps_sides:
        size = (size[1], size[0])
    if size is None or (frame.height, frame.width) == tuple(size):
        rgb = _reformatter().reformat(frame, format="rgb24").to_ndarray()
    else:
        rgb = _reformatter().reformat(frame, width=size[1], height=size[0], format="rgb24",
                                      interpolation=Interpolation.AREA).to_ndarray()
    return rgb if orientation == UPRIGHT else orientation.apply(rgb)


@dataclass(frozen=True)
class _FirstFrame:
    height: int  # stored
    width: int
    orientation: Orientation
    rotation: int


class VideoFile:
    """An open video: `num_frames`, `info`, and `read(indices)`. Use as a context manager.

    A 10-frame video whose frame t is grey level 20·t, written by the benchmark's exporter:

    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from motionprobe.data.export import encode_avi
    >>> path = Path(tempfile.mkdtemp()) / "ramp.avi"
    >>> _ = path.write_bytes(encode_avi(np.stack([np.full((24, 32, 3), 20 * t, np.uint8) for t in range(10)])))
    >>> with VideoFile(path) as v:
    ...     clip = v.read([4, 5, 6, 7])                  # uint8 (4, H, W, 3), frames 4..7 exactly
    ...     v.num_frames, v.size
    (10, (24, 32))
    >>> clip.shape, [round(float(frame.mean()) / 20) for frame in clip]
    ((4, 24, 32, 3), [4, 5, 6, 7])
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise VideoError(self.path, _not_a_file(self.path))
        if self.path.stat().st_size == 0:
            raise VideoError(self.path, "empty file (0 bytes)")
        try:
            self._container = av.open(str(self.path), mode="r")
        except _DECODE_ERRORS as e:
            raise VideoError(self.path, f"not a readable video ({_short(e)})") from None
        try:
            if not self._container.streams.video:
                raise VideoError(self.path, "no video stream")
            self._stream = self._container.streams.video[0]
            self._pts, self._key_positions = self._index_packets()
        except VideoError:
            self.close()
            raise
        except _DECODE_ERRORS as e:
            self.close()
            raise VideoError(self.path, f"cannot demux ({_short(e)})") from None
        if self.num_frames == 0:
            self.close()
            raise VideoError(self.path, "no frames")
        try:
            self._first = self._first_frame()
        except VideoError:
            self.close()
            raise
        except _DECODE_ERRORS as e:
            self.close()
            raise VideoError(self.path, f"decoding failed ({_short(e)})") from None

    # -- probing --------------------------------------------------------------------------------
    def _index_packets(self) -> tuple[list[int] | None, list[int]]:
        """Sorted packet timestamps (one per frame) and the frame positions of keyframes.

        Returns (None, []) with `_count` set when timestamps are missing: frames are then counted by
        decoding, and reads decode from the start.
        """
        pts, key_pts = [], []
        missing = False
        for packet in self._container.demux(self._stream):
            if packet.size == 0:  # the demuxer's end-of-stream marker
                continue
            if packet.pts is None:
                missing = True
                continue
            pts.append(packet.pts)
            if packet.is_keyframe:
                key_pts.append(packet.pts)
        if missing or len(set(pts)) != len(pts):
            self._count = self._count_by_decoding()
            return None, []
        pts.sort()
        position = {p: i for i, p in enumerate(pts)}
        self._count = len(pts)
        return pts, sorted(position[p] for p in key_pts)

    def _count_by_decoding(self) -> int:
        self._rewind()
        return sum(1 for _ in self._decode())

    def _first_frame(self) -> _FirstFrame:
        """Stored size, orientation and rotation of the first decoded frame (what every frame is taken to have)."""
        self._rewind()
        for frame in self._decode():
            angle = int(frame.rotation)
            return _FirstFrame(frame.height, frame.width, orientation_of(frame), 180 if angle == -180 else angle)
        raise VideoError(self.path, "no decodable frames")

    @property
    def num_frames(self) -> int:
        return self._count

    @property
    def orientation(self) -> Orientation:
        return self._first.orientation

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the frames `read` returns: upright, before any resize."""
        h, w = self._first.height, self._first.width
        return (w, h) if self._first.orientation.swaps_sides else (h, w)

    @property
    def info(self) -> VideoInfo:
        ctx = self._stream.codec_context
        rate = self._stream.average_rate
        sar = self._stream.sample_aspect_ratio
        height, width = self.size
        return VideoInfo(num_frames=self.num_frames, height=height, width=width, fps=float(rate) if rate else None,
                         codec=ctx.name, rotation=self._first.rotation,
                         sample_aspect_ratio=Fraction(sar) if sar else None)

    # -- reading --------------------------------------------------------------------------------
    def read(self, indices: Sequence[int], size: tuple[int, int] | None = None) -> np.ndarray:
        """Frames at `indices` (any order, repeats allowed) as uint8 (len(indices), H, W, 3) RGB.

        `size` (H, W) resizes while converting; each frame's result does not depend on which others
        are read with it, so a clip read here equals the same frames taken from `read_all(size)`.
        Without `size`, frames come at `self.size` (a stream that changes resolution midway is
        brought back to its first frame's)."""
        if len(indices) == 0:
            raise ValueError("read() needs at least one frame index")
        wanted = sorted(set(int(i) for i in indices))
        size = size or self.size
        if wanted[0] < 0 or wanted[-1] >= self.num_frames:
            raise IndexError(f"{self.path}: frames {wanted[0]}..{wanted[-1]} requested, video has {self.num_frames}")
        try:
            got = self._read_by_seeking(wanted, size) if self._pts is not None else None
            if got is None:
                got = self._read_from_start(wanted, size)
        except _DECODE_ERRORS as e:
            raise VideoError(self.path, f"decoding failed ({_short(e)})") from None
        return np.stack([got[i] for i in indices])

    def read_all(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """Every frame, decoded from the start, as uint8 (T, H, W, 3), resized to `size` (default `self.size`)."""
        size = size or self.size
        try:
            self._rewind()
            frames = [_to_rgb(f, size, self.orientation) for f in self._decode()]
        except _DECODE_ERRORS as e:
            raise VideoError(self.path, f"decoding failed ({_short(e)})") from None
        if not frames:
            raise VideoError(self.path, "no decodable frames")
        return np.stack(frames)

    def _read_by_seeking(self, wanted: list[int], size: tuple[int, int] | None) -> dict[int, np.ndarray] | None:
        """Seek to the keyframe at or before the first wanted frame and decode forward.

        Returns None when the decoder's timestamps do not match the packet index (the caller then
        decodes from the start)."""
        assert self._pts is not None
        position = {p: i for i, p in enumerate(self._pts)}
        keys = [k for k in self._key_positions if k <= wanted[0]]
        start = keys[-1] if keys else 0
        self._container.seek(self._pts[start], backward=True, any_frame=False, stream=self._stream)
        todo, got = set(wanted), {}
        for frame in self._decode():
            i = position.get(frame.pts) if frame.pts is not None else None
            if i is None:
                return None
            if i in todo:
                got[i] = _to_rgb(frame, size, self.orientation)
                todo.discard(i)
                if not todo:
                    return got
            elif i > wanted[-1]:
                break
        if todo:
            return None
        return got

    def _read_from_start(self, wanted: list[int], size: tuple[int, int] | None) -> dict[int, np.ndarray]:
        self._rewind()
        todo, got = set(wanted), {}
        decoded, last = 0, None
        for i, frame in enumerate(self._decode()):
            decoded, last = i + 1, frame
            if i in todo:
                got[i] = _to_rgb(frame, size, self.orientation)
                todo.discard(i)
                if not todo:
                    return got
        # Some files list a last packet or two that decode to nothing (OpenCV's box.mp4: 456 packets, 455 frames).
        # Those tail frames repeat the last one decoded, as a clip past a video's end is padded; a gap any
        # earlier is damage.
        if last is not None and min(todo) >= decoded and self.num_frames - decoded <= UNDECODED_TAIL:
            return {**got, **dict.fromkeys(todo, _to_rgb(last, size, self.orientation))}
        raise VideoError(self.path, f"truncated or corrupt: frame {min(todo)} is listed but does not decode")

    def _rewind(self) -> None:
        self._container.seek(0, backward=True, any_frame=False, stream=self._stream)

    def _decode(self):
        return self._container.decode(self._stream)

    # -- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        container = getattr(self, "_container", None)
        if container is not None:
            container.close()
            self._container = None

    def __enter__(self) -> VideoFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def probe(path: str | Path) -> VideoInfo:
    """Frame count, size, rate and codec of a file; raises VideoError for anything unreadable."""
    with VideoFile(path) as v:
        return v.info


def read_frames(path: str | Path, indices: Sequence[int], layout: str = "THWC",
                size: tuple[int, int] | None = None) -> torch.Tensor:
    """uint8 frames at `indices`: (T, H, W, 3) for layout "THWC", (3, T, H, W) for "CTHW"; `size` (H, W) resizes."""
    if layout not in ("THWC", "CTHW"):
        raise ValueError(f"layout must be 'THWC' or 'CTHW', got {layout!r}")
    with VideoFile(path) as v:
        frames = torch.from_numpy(v.read(indices, size))
    return frames.permute(3, 0, 1, 2).contiguous() if layout == "CTHW" else frames


def _not_a_file(path: Path) -> str:
    """Why `path` is no video file, in a few words: opening a pipe would block, a device never end."""
    if path.is_dir():
        return "a folder, not a video file"
    if path.exists():
        return "not a regular file (a pipe, socket or device)"
    return "file not found" if not path.is_symlink() else "a link to nothing (file not found)"


def _short(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:160]
