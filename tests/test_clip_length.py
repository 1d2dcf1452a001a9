"""Any clip length through the whole pipeline: the embedded benchmark drawn at T = 32 for a C3D and at T = 8 for a
video ResNet (which pools time less), each run end to end with `--fast`. At T = 8 the k's are T's default (the powers of
two below it), at T = 32 they include k = 16, which a 16-frame clip cannot have; every method, probe and
generator works at T, and results.json says which T."""

from __future__ import annotations

import json

import pytest

from motionprobe.cli import main
from motionprobe.config import default_ks
from motionprobe.io import read_json
from motionprobe.selection import uniform_subset

# T: (architecture, the k's named: None for T's own default, the powers of two below it)
RUNS = {32: ("c3d", (1, 16)), 8: ("mc3_18", None)}


@pytest.mark.parametrize("frames", sorted(RUNS))
def test_the_pipeline_runs_at_any_clip_length(frames, tmp_path):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({
        "data": {"num_frames": frames}, "model": {"arch": RUNS[frames][0], "width": 0.125},
        "generator": {"ngf": 4, "n_blocks": 1},
        "analysis": {"candidates": 3, "replicate_candidates": 3, "probes": ["shuffle", "reverse", "freeze"],
                     "probe_draws": 1}}))
    out = tmp_path / "run"
    named = RUNS[frames][1]
    frames_flag = ["--frames", *map(str, named)] if named else []
    assert main(["pipeline", "--dataset", "synthetic", "--fast", *frames_flag, "--config", str(config),
                 "--out", str(out)]) == 0

    ks = named or default_ks(frames)
    assert ks == (named or tuple(2 ** i for i in range(frames.bit_length() - 1)))  # default: 1 … T/2
    results = read_json(out / "analysis" / "results.json")
    assert results["num_frames"] == frames and results["frames"] == list(ks)
    for method in ("uniform", "generator", "full", "oracle", "best"):
        assert set(results["accuracy"][method]) == {str(k) for k in ks}, method
    assert set(results["motion_bound"]) == {str(k) for k in ks}
    assert set(results["probes"]["accuracy"]) == {"shuffle", "reverse", "freeze"}
    for k in ks:
        meta = read_json(out / f"generator_k{k}_perceptual" / "meta.json")
        assert (meta["num_frames"], meta["k"]) == (frames, k)
    # the uniform subset spreads over the whole clip, whatever its length
    assert uniform_subset(1, frames) == (frames // 2,) and uniform_subset(ks[-1], frames)[-1] == frames - 1
    assert (out / "analysis" / "report.html").stat().st_size > 0
