"""Sample videos from a Debian package, without the network: a .deb built here (an ar archive whose data.tar.xz
holds two videos, one gzip-compressed, beside files that must never be written), a stand-in apt-get that hands
it over, every sha256 enforced before and after gunzip, nothing written when one is wrong, and the folder that
links every set's videos."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
import tarfile

import pytest

from motionprobe import samples
from motionprobe.debian import AR_MAGIC, ar_members
from motionprobe.errors import UserError
from motionprobe.samples import SampleSet, SampleVideo, fetch_all, fetch_samples

PLAIN, PACKED = b"\x00\x00\x00\x18ftypmp42 a plain video", b"RIFF....AVI a compressed one" * 20
DEB = "fake-doc_1%3a1.0-1_all.deb"

FAKE_APT = """
import json, os, shutil, sys
with open(os.environ["FAKE_APT_LOG"], "a") as log:
    log.write(json.dumps({"args": sys.argv[1:], "cwd": os.getcwd()}) + "\\n")
if os.environ.get("FAKE_APT_FAIL"):
    print("E: " + os.environ["FAKE_APT_FAIL"], file=sys.stderr)
    sys.exit(100)
shutil.copy(os.environ["FAKE_DEB"], os.getcwd())
"""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ar(members: dict[str, bytes]) -> bytes:
    out = AR_MAGIC
    for name, data in members.items():
        out += f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode() + data
        out += b"\n" if len(data) % 2 else b""
    return out


def _deb() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for name, data in (("./usr/share/doc/fake/plain.avi", PLAIN), ("./usr/share/doc/fake/packed.mp4.gz",
                           gzip.compress(PACKED)), ("./usr/bin/fake", b"#!/bin/sh\nexit 1\n"), ("../escaped.avi", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return _ar({"debian-binary": b"2.0\n", "control.tar.xz": b"", "data.tar.xz": buf.getvalue()})


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A registered Debian sample set the stand-in apt-get serves; returns (entry, apt command, calls())."""
    deb = _deb()
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / DEB).write_bytes(deb)
    (tmp_path / "fake_apt.py").write_text(FAKE_APT)
    monkeypatch.setenv("FAKE_DEB", str(tmp_path / "dist" / DEB))
    monkeypatch.setenv("FAKE_APT_LOG", str(tmp_path / "apt.log"))
    monkeypatch.setenv("MOTIONPROBE_CACHE", str(tmp_path / "cache"))
    packed = gzip.compress(PACKED)
    entry = SampleSet(name="fakedeb", description="test videos", package="fake-doc", version="1:1.0-1", archive=DEB,
                      archive_sha256=_sha(deb), source="debian", videos=(
                          SampleVideo("./usr/share/doc/fake/plain.avi", _sha(PLAIN), len(PLAIN), "plain"),
                          SampleVideo("./usr/share/doc/fake/packed.mp4.gz", _sha(PACKED), len(PACKED), "packed",
                                      packed=(len(packed), _sha(packed)))))
    monkeypatch.setitem(samples.SAMPLES, "fakedeb", entry)

    def calls() -> list[dict]:
        log = tmp_path / "apt.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return entry, [sys.executable, str(tmp_path / "fake_apt.py")], calls


def test_ar_members_reads_a_deb_and_refuses_other_files():
    assert list(ar_members(_deb())) == ["debian-binary", "control.tar.xz", "data.tar.xz"]
    assert ar_members(_ar({"odd": b"abc", "next": b"d"})) == {"odd": b"abc", "next": b"d"}  # padding to even offsets
    with pytest.raises(ValueError, match="not an ar archive"):
        ar_members(b"PK\x03\x04 a zip")


def test_only_the_named_videos_are_written_gunzipped_and_apt_gets_the_pinned_version(fake, tmp_path):
    entry, apt, calls = fake
    folder = fetch_samples("fakedeb", apt=apt)
    assert sorted(p.name for p in folder.iterdir()) == ["packed.mp4", "plain.avi"]
    assert (folder / "plain.avi").read_bytes() == PLAIN and (folder / "packed.mp4").read_bytes() == PACKED
    assert not (tmp_path / "escaped.avi").exists() and not (tmp_path / "cache" / "escaped.avi").exists()
    (call,) = calls()
    assert call["args"] == ["download", "fake-doc=1:1.0-1"]
    assert fetch_samples("fakedeb", apt=apt) == folder and len(calls()) == 1  # cached: apt-get not run again


@pytest.mark.parametrize("wrong, expected", [("archive_sha256", f"{DEB}: sha256"),
                                             ("packed", "packed.mp4.gz has sha256"),
                                             ("sha256", "packed.mp4 has sha256")])
def test_a_wrong_checksum_before_or_after_gunzip_writes_nothing(fake, monkeypatch, wrong, expected):
    entry, apt, _ = fake
    if wrong == "archive_sha256":
        bad = SampleSet(**{**entry.__dict__, "archive_sha256": "0" * 64})
    else:
        second = entry.videos[1]
        value = (second.packed[0], "f" * 64) if wrong == "packed" else "f" * 64
        bad = SampleSet(**{**entry.__dict__, "videos": (entry.videos[0], SampleVideo(**{**second.__dict__, wrong: value}))})
    monkeypatch.setitem(samples.SAMPLES, "fakedeb", bad)
    with pytest.raises(UserError, match=expected) as e:
        fetch_samples("fakedeb", apt=apt)
    assert "\n" not in str(e.value)
    assert not list((samples.samples_folder("fakedeb")).parent.glob("*/*"))


def test_apt_failures_are_one_line(fake, monkeypatch, tmp_path):
    _, apt, _ = fake
    monkeypatch.setenv("FAKE_APT_FAIL", "Version '1:1.0-1' for 'fake-doc' was not found")
    with pytest.raises(UserError, match="apt-get download fake-doc=1:1.0-1 failed .*was not found"):
        fetch_samples("fakedeb", apt=apt)
    with pytest.raises(UserError, match="cannot run apt-get to download fake-doc=1:1.0-1"):
        fetch_samples("fakedeb", apt=[str(tmp_path / "no-such-apt-get")])


def test_fetch_all_links_every_set_into_one_unlabelled_folder(fake, monkeypatch):
    entry, apt, _ = fake
    monkeypatch.setattr(samples, "ALL", ("fakedeb",))
    folder = fetch_all(("fakedeb",), apt=apt)
    assert sorted(p.name for p in folder.iterdir()) == ["fakedeb_packed.mp4", "fakedeb_plain.avi"]
    assert (folder / "fakedeb_plain.avi").read_bytes() == PLAIN
    (folder / "fakedeb_stale.avi").symlink_to(folder / "fakedeb_plain.avi")  # a video a set no longer lists
    assert fetch_all(("fakedeb",), apt=apt) == folder and not (folder / "fakedeb_stale.avi").exists()


def test_the_registry_lists_thirteen_videos_each_once():
    videos = [f"{name}_{v.filename}" for name in samples.ALL for v in samples.sample_set(name).videos]
    assert len(videos) == len(set(videos)) == 13
    assert {samples.sample_set(n).source for n in samples.ALL} == {"pypi", "debian"}
