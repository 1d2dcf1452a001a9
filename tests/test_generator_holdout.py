"""The held-out check: a generator is kept only in the state the model agrees with most on clips it never saw,
and only if a paired sign-flip test over the scored states says that state beats replication; otherwise it loads
as exact replication.

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


def test_the_test_counts_clips_not_agreement_and_pays_for_the_choice_among_unrelated_states():
    rep = np.array([1] * 12)
    twelve_wins = beats_replication(np.array([[2] * 12]), 0, rep)
    assert {key: twelve_wins[key] for key in ("wins", "losses", "states", "kept")} == {
        "wins": 12, "losses": 0, "states": 1, "kept": True}
    assert twelve_wins["p"] < 0.001  # exactly 1/4096 without the flips' grid
    # 7 wins of 7 is p = 1/128 for one state; the best of 12 unrelated states needs more
    seven = np.array([2] * 7 + [1] * 5)
    assert beats_replication(seven[None], 0, rep)["kept"]
    rng = np.random.default_rng(0)
    unrelated = np.vstack([seven, rng.integers(0, 3, size=(11, 12))])
    assert not beats_replication(unrelated, 0, rep)["kept"]
    # a larger lead in agreement on fewer clips is not a win: one clip gaining three subsets is one win
    assert not beats_replication(np.array([[4] + [1] * 11]), 0, rep)["kept"]
    assert beats_replication(np.array([[0] * 12]), 0, rep)["wins"] == 0
    assert not beats_replication(np.array([[0] * 12]), 0, rep)["kept"]


def test_correlated_states_cost_less_than_a_level_divided_by_their_number():
    """Twelve copies of one state are one test: 7 wins of 7 (p = 1/128 ≈ 0.008) passes, where the level divided
    by the number of states (0.05 / 12 ≈ 0.0042) would refuse it."""
    rep = np.array([1] * 10)
    seven = np.array([2] * 7 + [1] * 3)
    result = beats_replication(np.tile(seven, (12, 1)), 5, rep)
    assert result["kept"] and result["states"] == 12 and result["p"] < 0.05 / 4


def test_under_the_null_the_best_of_many_states_is_kept_at_most_about_one_time_in_twenty():
    """States that tie replication in distribution (each clip's signs as likely negated), 16 states sharing part
    of their signs as consecutive epochs do; the best state by wins − losses is tested, 400 times."""
    rng = np.random.default_rng(1)
    rep = np.full(32, 2)
    kept = 0
    for trial in range(400):
        shared = rng.integers(-1, 2, size=32)
        own = rng.integers(-1, 2, size=(16, 32))
        states = rep + np.where(rng.random((16, 32)) < 0.7, shared, own)
        best = int(np.argmax((np.sign(states - rep)).sum(1)))
        kept += beats_replication(states, best, rep, seed=trial)["kept"]
    assert kept / 400 <= 0.08  # the level is 0.05; 0.08 allows for 400 draws (sd 0.011)


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
    # Four held-out clips cannot show a lead (four wins of four is p = 1/16 even for one state): replication.
    assert check["test"]["kept"] is False and metrics["replicates"] is True
    generator, meta = GeneratorFolder(tmp_path / "g").load()
    assert isinstance(generator, Replicate) and meta["replicates"] is True
    frames, indices = torch.rand(2, 3, 1, 8, 8), torch.tensor([[3], [0]])
    t = cfg.data.num_frames
    assert torch.equal(generator(frames, indices), replicate_nearest(frames, indices, t))
