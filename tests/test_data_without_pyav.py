"""Without PyAV (a GPU machine's bare image) the embedded benchmark still builds, and a layout of video files
says in one line what is missing: the GPU check's planted-truth stage runs there."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
sys.modules["av"] = None  # `import av` now fails as it does where PyAV is not installed
from motionprobe.config import preset
from motionprobe.data import build_dataset
from motionprobe.errors import ConfigError
cfg = preset("paper").evolve(data={"dataset": "synthetic", "crop_size": 16, "resize": (16, 16), "test_per_class": 1})
data = build_dataset(cfg.data, "test")
print(len(data), tuple(data[0]["clip"].shape))
cfg = cfg.evolve(data={"dataset": "ucf101", "root": "."})
try:
    build_dataset(cfg.data, "test")
except ConfigError as e:
    print(e)
"""


def test_the_embedded_benchmark_builds_without_pyav_and_video_layouts_say_why_not():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "12 (3, 16, 16, 16)", "data.dataset: 'ucf101' reads video files with PyAV, which this Python lacks (pip install av)"]
