"""Shared pieces of the reliability tests: tiny trained folders, a bad-input video corpus, subprocess runs
of the CLI that can be killed, and a check that every file a reader could open is complete.

Building a model and a generator takes a few seconds, so `tiny_folders` builds them once per test session
(under pytest's base temporary folder) and every module that asks gets the same folders.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from test_data_helpers import write_video

from motionprobe.analysis.table import read_shard
from motionprobe.cli import main
from motionprobe.io import load_tensors

REPO = Path(__file__).resolve().parent.parent

# The tiny synthetic setup every kill/determinism test analyses: 2 test clips per class (24 clips),
# k = 1 (replicated frames only) and k = 2 (a generator, 4 candidates), 2 clips per shard (12 shards).
ANALYZE_ARGS = ["--test-per-class", "2", "--frames", "1,2", "--candidates", "4", "--bootstrap", "30",
                "--shard-size", "2", "--no-progress"]


@dataclass(frozen=True)
class TinyFolders:
    model: Path  # C3D (tiny preset) trained for 1 epoch on 2 clips per class
    generator: Path  # k=2 perceptual generator trained for 3 steps against that model

    def analyze_argv(self, out: Path, *extra: str) -> list[str]:
        return ["analyze", "--model", str(self.model), "--generator", f"2={self.generator}", *ANALYZE_ARGS,
                "--out", str(out), *extra]


def tiny_folders(tmp_path_factory) -> TinyFolders:
    """Train (once per session) the model and the generator the reliability tests analyse."""
    root = tmp_path_factory.getbasetemp() / "reliability_tiny"
    folders = TinyFolders(root / "model", root / "generator_k2")
    if not (folders.generator / "meta.json").is_file():
        quiet(["train-model", "--out", str(folders.model), "--epochs", "1", "--train-per-class", "2",
               "--test-per-class", "1", "--batch-size", "8"])
        quiet(["train-generator", "--model", str(folders.model), "--frames", "2", "--epochs", "1",
               "--train-per-class", "1", "--batch-size", "4", "--out", str(folders.generator)])
    return folders


def error_line(err: str) -> str:
    """The one error line a failed verb prints (progress bars and notes may share stderr, never a traceback)."""
    assert "Traceback" not in err, err[-3000:]
    assert err.count("motionprobe: error: ") == 1, err[-3000:]
    return err[err.index("motionprobe: error: "):].split("\n")[0]


def cli(capsys, *argv) -> tuple[int, str, str]:
    """Run a verb in this process as a user types it: (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` and its bytes: equal before and after means nothing was written, moved or lost."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    path.write_text(json.dumps(change(data)))


def quiet(argv: list[str]) -> None:
    """Run a verb in this process, silently; it must succeed."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(argv)
    assert code == 0, f"motionprobe {' '.join(argv)} failed: {err.getvalue()[-2000:]}"


# -- the CLI in a killable subprocess -----------------------------------------------------------------

def _as_in_a_terminal() -> None:
    """Ctrl-C's default in the child: a suite started in the background (`cmd &` in a script) ignores SIGINT,
    every process it starts inherits that, and Python then installs no KeyboardInterrupt for it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(argv: list[str], log: Path) -> subprocess.Popen:
    """`python -m motionprobe ARGV` in its own process, stdout and stderr into `log`, SIGINT as a user's."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with log.open("ab") as f:
        return subprocess.Popen([sys.executable, "-m", "motionprobe", *argv], stdout=f, stderr=subprocess.STDOUT,
                                cwd=REPO, env=env, preexec_fn=_as_in_a_terminal)


def run(argv: list[str], log: Path, timeout: float = 300) -> float:
    """Run to completion; returns the wall time. Fails with the log's tail when the command fails."""
    started = time.monotonic()
    proc = start(argv, log)
    code = proc.wait(timeout=timeout)
    assert code == 0, f"motionprobe {' '.join(argv)} exited {code}: {log.read_text()[-3000:]}"
    return time.monotonic() - started


def wait_until(condition, proc: subprocess.Popen, timeout: float = 120, poll: float = 0.005) -> bool:
    """Poll `condition()` until it holds (True) or the process ends first (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return bool(condition())
        time.sleep(poll)
    raise AssertionError("timed out waiting for the run to reach its kill point")


def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> bool:
    """Send `sig` if the process still runs; True when it was sent before the process ended by itself."""
    if proc.poll() is not None:
        return False
    proc.send_signal(sig)
    proc.wait(timeout=60)
    return True


def written_since(path: Path, since_ns: int) -> bool:
    try:
        return path.stat().st_mtime_ns >= since_ns
    except FileNotFoundError:
        return False


def read_json_or_none(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


# -- no reader ever sees a partial file ---------------------------------------------------------------

def assert_readable(folder: Path) -> list[Path]:
    """Open every file under `folder` as a reader would; return the temporary files found.

    Final names must be complete: .json parses, .npz is a readable shard (or numpy archive), .safetensors
    loads, .csv.gz decompresses to the end, .csv is UTF-8. Temporary files may be left by a kill, but
    only under the hidden `.NAME.*.tmp` names the atomic writers use, never under a final name.
    """
    temporaries = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.name
        if name.startswith(".") and name.endswith(".tmp"):
            temporaries.append(path)
            continue
        if name.endswith(".json"):
            json.loads(path.read_text())
        elif name.endswith(".npz"):
            if path.parent.name == "table":
                read_shard(path)
            else:
                with np.load(path, allow_pickle=False) as z:
                    [z[k] for k in z.files]
        elif name.endswith(".safetensors"):
            load_tensors(path)
        elif name.endswith(".csv.gz"):
            with gzip.open(path, "rt") as f:
                f.read()
        elif name.endswith(".csv"):
            path.read_text(encoding="utf-8")
    return temporaries


def without_timestamps(path: Path) -> str:
    """results.json's text up to its last field, `timestamps` (the only part that differs between runs).

    The code version (package version + git commit) is masked: the checkout these tests run in may get a
    commit between two runs, which makes it other code, not another result."""
    text = path.read_text()
    data = json.loads(text)
    assert list(data)[-1] == "timestamps" and data["provenance"]["code_version"]
    return re.sub(r'"code_version": "[^"]*"', '"code_version": "…"', text[: text.rindex('"timestamps"')])


# -- a corpus of bad videos in UCF101's layout -------------------------------------------------------

@dataclass(frozen=True)
class Corpus:
    root: Path
    lists: Path
    test_ids: dict[str, str]  # role → clip id in the test split
    missing: str  # listed in testlist01.txt, absent on disk
    train_bad: str  # an unreadable training video


def make_corpus(root: Path) -> Corpus:
    """Two classes (Alpha, Beta) of good 40×30 videos, plus, in the test split, one of each bad kind.

    truncated_avi  an .avi cut at 60%: its first frames still decode (a short video, looped)
    truncated_mp4  an .mp4 cut in half: its index is lost (unreadable)
    zero_bytes     an empty file
    text_avi       a text file named .avi
    short          10 frames (shorter than a 16-frame clip)
    one_frame      a single frame
    and a video the test list names but the disk lacks, and an empty file in the training split.
    """
    videos, lists = root / "UCF-101", root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("1 Alpha\n2 Beta\n")
    train, test = [], []
    for label, cls in enumerate(["Alpha", "Beta"], start=1):
        for g in (1, 2, 8, 9, 10):
            name = f"v_{cls}_g{g:02d}_c01.avi"
            write_video(videos / cls / name, frames=20 + g)
            (train if g >= 8 else test).append(f"{cls}/{name} {label}" if g >= 8 else f"{cls}/{name}")
    alpha, beta = videos / "Alpha", videos / "Beta"
    good = (alpha / "v_Alpha_g01_c01.avi").read_bytes()
    (alpha / "v_Alpha_g03_c01.avi").write_bytes(good[: len(good) * 6 // 10])
    mp4 = write_video(root / "whole.mp4", frames=30)
    (alpha / "v_Alpha_g04_c01.mp4").write_bytes(mp4.read_bytes()[: mp4.stat().st_size // 2])
    mp4.unlink()
    (alpha / "v_Alpha_g05_c01.avi").write_bytes(b"")
    (alpha / "v_Alpha_g06_c01.avi").write_text("this is not a video\n")
    write_video(beta / "v_Beta_g03_c01.avi", frames=10)
    write_video(beta / "v_Beta_g04_c01.avi", frames=1)
    roles = {"truncated_avi": "Alpha/v_Alpha_g03_c01.avi", "truncated_mp4": "Alpha/v_Alpha_g04_c01.mp4",
             "zero_bytes": "Alpha/v_Alpha_g05_c01.avi", "text_avi": "Alpha/v_Alpha_g06_c01.avi",
             "short": "Beta/v_Beta_g03_c01.avi", "one_frame": "Beta/v_Beta_g04_c01.avi"}
    missing = "Beta/v_Beta_g07_c01.avi"
    test += [*roles.values(), missing]
    (alpha / "v_Alpha_g11_c01.avi").write_bytes(b"")
    train.append("Alpha/v_Alpha_g11_c01.avi 1")
    (lists / "trainlist01.txt").write_text("\n".join(train) + "\n")
    (lists / "testlist01.txt").write_text("\n".join(test) + "\n")
    return Corpus(root, lists, {role: f"{rel}#0" for role, rel in roles.items()}, missing,
                  "Alpha/v_Alpha_g11_c01.avi#0")
