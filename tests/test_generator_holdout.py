"""The held-out check: a generator is kept only in the state the model agrees with most on clips it never saw,
and only if a paired sign test says that state beats replication; otherwise it loads as exact replication.

Agreement is scored against the model's own prediction on the real clip (no label), from several subsets per
clip; replication is scored the same way.
"""

import numpy as np
import torch
from test_generator_training import model_dir, small_cfg  # noqa: F401  (the module-scoped model folder fixture)

from motionprobe.folders import GeneratorFolder
from motionprobe.generator import Replicate, replicate_nearest
from motionprobe.io import load_tensors
from motionprobe.training.generator import SELECTED, train_generator
from motionprobe.training.holdout import beats_replication, build_holdout, clip_hits, holdout_positions, share


def bright_or_dark(clip: torch.Tensor) -> torch.Tensor:
    """A 'model' that reads a clip's brightness: class 1 when its mean is above one half."""
    mean = clip.mean(dim=(1, 2, 3, 4))
    return torch.stack([0.5 - mean, mean - 0.5], dim=1)


def _clips(n: int = 6) -> list[dict]:
    levels = torch.linspace(0.1, 0.9, n)
    return [{"clip": (torch.full((3, 8, 8, 8), float(v)) * 255).round().to(torch.uint8), "id": f"c{i}", "label": -1}
            for i, v in enumerate(levels)]


def test_replication_keeps_a_still_clip_s_class_and_a_generator_that_inverts_it_loses_it():
    data = _clips()
    holdout = build_holdout(data, holdout_positions(len(data) * 5, 0, 6)[:6] % len(data), bright_or_dark, k=2,
                            num_frames=8, seed=0, device="cpu", batch_size=8)
    assert holdout.replication == 1.0 and holdout.indices.shape[1:] == (4, 2)

    def inverted(frames, indices):  # every slot the negative of the first kept frame
        return (1 - frames[:, :, :1]).expand(-1, -1, 8, -1, -1)

    hits = clip_hits(inverted, bright_or_dark, holdout, "cpu", 8)
    assert hits.tolist() == [0] * 6 and share(hits, 4) == 0.0
    assert holdout.replication_hits.tolist() == [4] * 6


def test_the_sign_test_counts_clips_and_divides_its_level_by_the_states_it_chose_from():
    rep = np.array([1] * 12)
    twelve_wins = beats_replication(np.array([2] * 12), rep, states=1)
    assert twelve_wins == {"wins": 12, "losses": 0, "alpha": 0.05, "kept": True}
    # 6 wins of 6 is p = 1/64 = 0.016: enough at 0.05, not at 0.05 / 4 = 0.0125 (the best of four states)
    six = np.array([2] * 6 + [1] * 6)
    assert beats_replication(six, rep, states=3)["kept"] and not beats_replication(six, rep, states=4)["kept"]
    # a larger lead in agreement on fewer clips is not a win: one clip gaining three subsets is one win
    assert not beats_replication(np.array([4] + [1] * 11), rep, states=1)["kept"]
    assert beats_replication(np.array([0] * 12), rep, states=1) == {"wins": 0, "losses": 12, "alpha": 0.05,
                                                                     "kept": False}


def test_holdout_positions_are_a_seeded_fifth_at_most():
    assert holdout_positions(10, 0, 64).tolist() == holdout_positions(10, 0, 64).tolist()
    assert len(holdout_positions(10, 0, 64)) == 2 and len(holdout_positions(4, 0, 64)) == 0
    assert holdout_positions(100, 0, 5).tolist() != holdout_positions(100, 1, 5).tolist()


def test_a_run_records_its_check_and_keeps_the_selected_state(model_dir, tmp_path):  # noqa: F811
    cfg = small_cfg()
    cfg = cfg.evolve(data={"train_per_class": 2}, generator={"epochs": 3, "holdout_clips": 4})
    metrics = train_generator(cfg, model_dir, 1, tmp_path / "g", progress=False)
    check = metrics["holdout"]
    assert check["clips"] == 4 and [step for step, _ in check["curve"]][0] == 0 and len(check["curve"]) == 4
    trained = [(step, score) for step, score in check["curve"] if step > 0]  # the start is not a candidate
    best = max(score for _, score in trained)
    assert check["selected_agreement"] == best
    assert check["selected_step"] == next(step for step, score in trained if score == best)  # ties: earliest
    saved, selected = load_tensors(tmp_path / "g" / "generator.safetensors"), load_tensors(tmp_path / "g" / SELECTED)
    assert saved.keys() == selected.keys() and all(torch.equal(saved[n], selected[n]) for n in saved)
    assert GeneratorFolder(tmp_path / "g").meta()["metrics"]["holdout"] == check
    # Four held-out clips cannot show a lead at 0.05 / 3 (four wins of four is p = 1/16): the folder replicates.
    assert check["test"]["kept"] is False and metrics["replicates"] is True
    generator, meta = GeneratorFolder(tmp_path / "g").load()
    assert isinstance(generator, Replicate) and meta["replicates"] is True
    frames, indices = torch.rand(2, 3, 1, 8, 8), torch.tensor([[3], [0]])
    t = cfg.data.num_frames
    assert torch.equal(generator(frames, indices), replicate_nearest(frames, indices, t))
