"""A stand-in for `python -m pip download`, so fetching through pip is tested without a network: a script
that logs each call (its arguments and the requirements file) and copies a prepared archive into `-d`,
or fails like pip when FAKE_PIP_FAIL is set."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

SCRIPT = """
import json, os, shutil, sys
args = sys.argv[1:]
with open(os.environ["FAKE_PIP_LOG"], "a") as log:
    requirements = open(args[args.index("-r") + 1]).read()
    log.write(json.dumps({"args": args, "requirements": requirements}) + "\\n")
if os.environ.get("FAKE_PIP_FAIL"):
    print("ERROR: " + os.environ["FAKE_PIP_FAIL"], file=sys.stderr)
    sys.exit(1)
shutil.copy(os.environ["FAKE_ARCHIVE"], args[args.index("-d") + 1])
"""


def install(tmp_path: Path, monkeypatch, archive: Path) -> Callable[[], list[dict]]:
    """Serve `archive` to every pip call, the cache in tmp_path/cache, the working folder `archive`'s (a relative
    member path that climbs out would land in tmp_path). Returns what lists the calls made so far."""
    (tmp_path / "fake_pip.py").write_text(SCRIPT)
    monkeypatch.setenv("FAKE_ARCHIVE", str(archive))
    monkeypatch.setenv("FAKE_PIP_LOG", str(tmp_path / "pip.log"))
    monkeypatch.setenv("MOTIONPROBE_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(archive.parent)

    def calls() -> list[dict]:
        log = tmp_path / "pip.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return calls


def command(tmp_path: Path) -> list[str]:
    """The command that runs the stand-in pip `install` wrote."""
    return [sys.executable, str(tmp_path / "fake_pip.py")]
