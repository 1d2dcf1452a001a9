"""The analysis engine on a tiny random-init C3D with a deterministic stand-in generator."""

from __future__ import annotations

import json
import shutil
from dataclasses import fields

import numpy as np
import pytest
import torch

from motionprobe.analysis import Plan, analyze, evaluate_clips
from motionprobe.analysis.engine import load_items
from motionprobe.analysis.methods import BOUND_CANDIDATES, METHOD
from motionprobe.analysis.table import GENERATOR, ORIGINAL, PIXEL_GENERATOR, PROBE, REPLICATE, read_table, shard_path
from motionprobe.config import AnalysisConfig, preset
from motionprobe.data.base import to_float
from motionprobe.data.synthetic import CLASSES, SyntheticMotionDataset
from motionprobe.errors import UserError
from motionprobe.generator import replicate_nearest
from motionprobe.models.registry import build_model
from motionprobe.models.wrapper import wrap
from motionprobe.probes import PROBES, probe_order, variants
from motionprobe.selection import candidates, subset_mask, uniform_subset


def model_of(cfg, num_classes, **kw):
    """The model a config describes: `build_model` takes its model and data sections."""
    return build_model(cfg.model, cfg.data, num_classes, **kw)

ANALYSIS_SETTINGS = {f.name for f in fields(AnalysisConfig)}


def tiny_c3d():
    """The tiny preset's model, re-initialised (Kaiming) so its outputs differ from clip to clip."""
    torch.manual_seed(0)
    model = model_of(preset("tiny"), len(CLASSES)).eval()
    with torch.no_grad():
        for m in model.net.modules():
            if isinstance(m, (torch.nn.Conv3d, torch.nn.Linear)):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                torch.nn.init.zeros_(m.bias)
    return model


def small_net():
    """A much cheaper video model for tests that need many candidates."""
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv3d(3, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool3d((4, 2, 2)),
                              torch.nn.Flatten(), torch.nn.Linear(96, len(CLASSES)))
    with torch.no_grad():
        net[-1].weight.mul_(20)
    return wrap(net, input_size=(32, 32)).eval()


class WaveGenerator:
    """Deterministic stand-in for a trained generator: it sees only the kept frames and their indices.

    Output frame t is the nearest kept frame modulated by a wave whose phase depends on the indices, so
    the clip depends on which frames were kept and where. `fail_after` simulates a crash.
    """

    def __init__(self, k: int, num_frames: int = 16, strength: float = 0.3):
        self.k, self.num_frames, self.strength = k, num_frames, strength
        self.calls, self.fail_after = 0, None

    def __call__(self, frames: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("simulated crash")
        clip = replicate_nearest(frames, indices, self.num_frames)
        t = torch.arange(self.num_frames, dtype=torch.float32).view(1, 1, -1, 1, 1)
        phase = indices.float().mean(dim=1).view(-1, 1, 1, 1, 1)
        return (clip * (1 - self.strength + self.strength * torch.cos(0.4 * t + phase))).clamp(0, 1)


class Wrapped(torch.utils.data.Dataset):
    """The first `n` items of a dataset; item `bad` raises as a corrupt video would; optional video-style ids."""

    def __init__(self, base, n=None, bad=None, videos=False):
        self.base, self.bad, self.n = base, bad, n or len(base)
        self.classes, self.metadata = base.classes, base.metadata
        self.ids = [f"v{i // 2}#{i % 2}" for i in range(self.n)] if videos else base.ids[: self.n]
        # Both clips of a video share the first clip's label.
        self.labels = [base.labels[i - i % 2] for i in range(self.n)] if videos else base.labels[: self.n]

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise OSError("truncated file")
        return {"clip": self.base[i]["clip"], "label": self.labels[i], "id": self.ids[i]}


@pytest.fixture(scope="module")
def dataset():
    return SyntheticMotionDataset("test", per_class=1, size=32)


@pytest.fixture(scope="module")
def c3d():
    return tiny_c3d()


@pytest.fixture(scope="module")
def model():
    return small_net()


def naive_rows(model, dataset, plan, generators, pixel_generators, seed=0):
    """The reference: every (clip, input) built one at a time in the most literal way, then scored.

    Inputs are generated one pair at a time; only the model's forward is batched (in order), because a
    C3D forward at batch 1 costs ~20x more per clip on a CPU than in a batch. Keys: (clip, source, k, mask,
    probe, variant); values: the row's probabilities and label."""
    keys, inputs, labels = [], [], []
    for i in range(len(dataset)):
        item = dataset[i]
        clip = to_float(item["clip"])[None]

        def add(x, key, label=item["label"]):
            keys.append(key)
            inputs.append(x)
            labels.append(label)

        add(clip, (i, ORIGINAL, 16, (1 << 16) - 1, -1, 0))
        for number, (name, draws) in enumerate(plan.probes):
            for variant in range(draws):
                order = list(probe_order(name, 16, i, variant, seed))
                add(clip[:, :, order], (i, PROBE, 16, (1 << 16) - 1, number, variant))
        for k in plan.ks:
            pool = sorted(set(plan.pools[k]) | {uniform_subset(k)})
            sources = [(REPLICATE, lambda f, s, k=k: replicate_nearest(f, s, 16), pool)]
            if k in plan.generator_ks:
                sources.append((GENERATOR, generators[k], pool))
            if k in plan.pixel_ks:
                sources.append((PIXEL_GENERATOR, pixel_generators[k], [uniform_subset(k)]))
            for source, gen, subsets in sources:
                for s in subsets:
                    with torch.inference_mode():
                        add(gen(clip[:, :, list(s)], torch.tensor([s])), (i, source, k, subset_mask(s), -1, 0))
    with torch.inference_mode():
        probs = torch.cat([torch.softmax(model(torch.cat(inputs[lo:lo + 32])).float(), dim=-1)
                           for lo in range(0, len(inputs), 32)])
    return {key: (p, label) for key, p, label in zip(keys, probs, labels, strict=True)}


def test_table_equals_a_naive_loop(c3d):
    dataset = Wrapped(SyntheticMotionDataset("test", per_class=1, size=32), n=5)
    gens = {1: WaveGenerator(1), 2: WaveGenerator(2)}
    pixel = {1: WaveGenerator(1, strength=0.1)}
    pools = {1: candidates(1, 6, 16, seed=0), 2: candidates(2, 4, 16, seed=0), 4: candidates(4, 3, 16, seed=0)}
    plan = Plan.build(num_frames=16, ks=(1, 2, 4), pools=pools, generator_ks=(1, 2), pixel_ks=(1,),
                      num_clips=len(dataset), shard_size=64, probes=[("shuffle", 2), ("reverse", 1)])
    pos, _ids, labels, clips, _ = load_items(dataset, range(len(dataset)))
    table, sums = evaluate_clips(c3d, torch.stack(clips), labels, pos, plan, gens, pixel, batch_size=16)
    reference = naive_rows(c3d, dataset, plan, gens, pixel)

    got = {(int(table.clip[r]), int(table.source[r]), int(table.k[r]), int(table.mask[r]), int(table.probe[r]),
            int(table.variant[r])): r for r in range(len(table))}
    assert set(got) == set(reference)  # every (clip, input) once, nothing else
    assert len(got) == len(table) == len(dataset) * plan.inputs_per_clip()
    original = {key[0]: p for key, (p, _) in reference.items() if key[1] == ORIGINAL}
    preds = set()
    for key, (p, label) in reference.items():
        r = got[key]
        top = torch.topk(p, 5)
        assert table.max_prob[r] == pytest.approx(float(top.values[0]), abs=2e-5)
        assert table.true_prob[r] == pytest.approx(float(p[label]), abs=2e-5)
        assert table.agree_prob[r] == pytest.approx(float(p[int(original[key[0]].argmax())]), abs=2e-5)
        assert np.allclose(table.top_prob[r], top.values.numpy(), atol=2e-5)
        if float(top.values[0] - top.values[1]) > 1e-4:
            assert table.pred[r] == int(p.argmax()) == table.top_class[r, 0]
        assert table.label[r] == dataset.labels[key[0]]
        preds.add(int(p.argmax()))
    assert len(preds) > 1  # the model's outputs vary, so the comparison means something
    for source, k, size in ((GENERATOR, 1, 6), (GENERATOR, 2, 4), (REPLICATE, 4, 3)):
        assert (table.in_pool & (table.source == source) & (table.k == k)).sum() == size * len(dataset)
        # the pool sums: per clip, the mean probabilities of its pool candidates (the uniform subset is not one)
        in_pool = {subset_mask(s) for s in plan.pools[k]}
        clips_, means = sums.means(source, k)
        for c, mean in zip(clips_, means, strict=True):
            pooled = [p for key, (p, _) in reference.items() if key[:3] == (c, source, k) and key[3] in in_pool]
            assert len(pooled) == size and np.allclose(mean, torch.stack(pooled).mean(0).numpy(), atol=1e-5)


def test_a_candidates_score_ignores_frames_it_does_not_contain(c3d, dataset):
    clip = dataset[3]["clip"]
    subset = (2, 11)
    changed = clip.clone()
    others = [t for t in range(16) if t not in subset]
    changed[:, others] = torch.randint(0, 256, changed[:, others].shape, dtype=torch.uint8)
    plan = Plan.build(num_frames=16, ks=(2,), pools={2: [subset, (0, 1)]}, generator_ks=(2,), num_clips=2, shard_size=8)
    table, _ = evaluate_clips(c3d, torch.stack([clip, changed]), [3, 3], [0, 1], plan, {2: WaveGenerator(2)},
                              batch_size=3)

    def row(clip_index, source, mask):
        r = np.flatnonzero((table.clip == clip_index) & (table.source == source) & (table.mask == mask))
        assert len(r) == 1
        return table.max_prob[r[0]], table.true_prob[r[0]], table.pred[r[0]]

    a, b = row(0, GENERATOR, subset_mask(subset)), row(1, GENERATOR, subset_mask(subset))
    assert a[2] == b[2] and a[0] == pytest.approx(b[0], abs=1e-6) and a[1] == pytest.approx(b[1], abs=1e-6)
    # The frames did change what the model sees elsewhere: the original clips and the other candidate differ.
    assert row(0, ORIGINAL, (1 << 16) - 1)[0] != pytest.approx(row(1, ORIGINAL, (1 << 16) - 1)[0], abs=1e-6)
    assert row(0, GENERATOR, subset_mask((0, 1)))[0] != pytest.approx(row(1, GENERATOR, subset_mask((0, 1)))[0], abs=1e-6)


def run(model, dataset, out, **kw):
    args = dict(generators={1: WaveGenerator(1), 2: WaveGenerator(2)}, pixel_generators={1: WaveGenerator(1, strength=0.1)},
                ks=(1, 2), candidates=4, replicate_candidates=4, shard_size=3, bootstrap=200, batch_size=32,
                progress=False, probes=())
    args.update(kw)
    settings = AnalysisConfig(**{name: args.pop(name) for name in list(args) if name in ANALYSIS_SETTINGS})
    return analyze(model, dataset, out, settings, **args).to_json()  # the numbers as results.json holds them


def without_timestamps(results):
    return {k: v for k, v in results.items() if k != "timestamps"}


def test_outputs_and_schema(model, dataset, tmp_path):
    results = run(model, dataset, tmp_path / "a", probes=PROBES)
    out = tmp_path / "a"
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk["schema"] == "motionprobe.results/1" and on_disk == json.loads(json.dumps(results))
    assert results["num_clips"] == len(dataset) and results["frames"] == [1, 2]
    assert set(results["accuracy"]) == {"original", "best", *METHOD}
    assert set(results["accuracy"]["pixel_generator"]) == {"1"} and set(results["motion_bound"]) == {"1", "2"}
    assert results["candidates"] == results["replicate_candidates"] == {"1": 4, "2": 4} and results["target"] == "label"
    for k in ("1", "2"):
        acc, orig = results["accuracy"], results["accuracy"]["original"]
        bound, paper = results["motion_bound"][k], results["paper_bound"][k]
        assert bound["value"] == pytest.approx(orig["value"] - acc["best"][k]["value"], abs=1e-6)
        assert paper["value"] == pytest.approx(orig["value"] - acc["full"][k]["value"], abs=1e-6)
        for est in (bound, paper):
            assert est["ci"][0] <= est["value"] <= est["ci"][1]
        # The oracle is right whenever max response is: it can only be better.
        assert acc["oracle"][k]["value"] >= acc["full"][k]["value"]
        choice = results["bound_method"][k]
        assert set(choice["chosen_per_fold"]) <= set(choice["candidates"]) and "oracle" not in choice["candidates"]
        assert set(choice["candidates"]) == set(BOUND_CANDIDATES) - ({"pixel_generator"} if k == "2" else set())
    assert set(results["per_class"]) == set(dataset.classes)
    assert results["per_kind"]["motion"]["n"] == 4 and results["planted_truth"]["positive_kind"] == "motion"
    assert set(results["probes"]["accuracy"]) == set(PROBES)
    header = (out / "per_class.csv").read_text().splitlines()[0].split(",")
    assert header[:5] == ["class", "kind", "n", "analysable", "original"] and "full@1" in header
    assert "motion_bound@2_hi" in header and "paper_bound@1" in header and "best@2" in header
    rows, ids = read_table(out / "table", 4)
    probe_rows = sum(variants(name) for name in PROBES)
    assert ids == dataset.ids and len(rows) == len(dataset) * (1 + probe_rows + 5 + 5 + 1 + 5 + 5)


def test_resume_after_losing_a_shard_or_a_crash_is_exact(model, dataset, tmp_path):
    reference = run(model, dataset, tmp_path / "ref")
    ref_table = read_table(tmp_path / "ref" / "table", 4)[0]

    # A lost shard is recomputed; the others are kept.
    shard_path(tmp_path / "ref" / "table", 1).unlink()
    kept = shard_path(tmp_path / "ref" / "table", 2).stat().st_mtime_ns
    again = run(model, dataset, tmp_path / "ref", resume=True)
    assert without_timestamps(again) == without_timestamps(reference)
    assert shard_path(tmp_path / "ref" / "table", 2).stat().st_mtime_ns == kept

    # A crash mid-run (the generator raises on its 3rd call, in the third shard), then --resume with a working one.
    crashing = WaveGenerator(2)
    crashing.fail_after = 2
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(model, dataset, tmp_path / "crash", generators={1: WaveGenerator(1), 2: crashing})
    assert not (tmp_path / "crash" / "results.json").exists()
    done = sorted(p.name for p in (tmp_path / "crash" / "table").glob("shard-*.npz"))
    assert 0 < len(done) < 4
    resumed = run(model, dataset, tmp_path / "crash", resume=True)
    assert without_timestamps(resumed) == without_timestamps(reference)
    table = read_table(tmp_path / "crash" / "table", 4)[0]
    for name in ("clip", "source", "k", "mask", "in_pool", "pred", "max_prob", "true_prob"):
        assert np.array_equal(getattr(table, name), getattr(ref_table, name))


def test_existing_folder_needs_resume_and_the_same_plan(model, dataset, tmp_path):
    run(model, dataset, tmp_path / "a")
    with pytest.raises(UserError, match="already holds an analysis.*pass resume=True"):
        run(model, dataset, tmp_path / "a")
    with pytest.raises(UserError, match="different"):
        run(model, dataset, tmp_path / "a", resume=True, candidates=5)
    with pytest.raises(UserError, match="different"):
        run(model, dataset, tmp_path / "a", resume=True, seed=1)


def test_fresh_runs_are_deterministic(model, dataset, tmp_path):
    a = run(model, dataset, tmp_path / "a")
    b = run(model, dataset, tmp_path / "b")
    assert without_timestamps(a) == without_timestamps(b)
    assert (tmp_path / "a" / "candidates.csv.gz").read_bytes() == (tmp_path / "b" / "candidates.csv.gz").read_bytes()
    assert (tmp_path / "a" / "per_class.csv").read_bytes() == (tmp_path / "b" / "per_class.csv").read_bytes()


def test_a_bad_item_is_skipped_and_counted(model, dataset, tmp_path):
    results = run(model, Wrapped(dataset, bad=4), tmp_path / "a")
    assert results["num_clips"] == len(dataset) - 1
    assert results["skipped"] == {"count": 1, "items": [{"id": dataset.ids[4], "reason": "OSError: truncated file"}]}
    assert results["per_class"][dataset.classes[4]]["n"] == 0
    assert results["per_class"][dataset.classes[4]]["original"] is None


def test_video_level_majority_vote(tmp_path):
    data = Wrapped(SyntheticMotionDataset("test", per_class=1, size=32), videos=True)
    results = run(small_net(), data, tmp_path / "v", pixel_generators={})
    lines = (tmp_path / "v" / "per_clip.csv").read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("uniform@2")
    preds = [int(line.split(",")[col]) for line in lines[1:]]
    expected = []
    for v in range(len(data) // 2):
        a, b = preds[2 * v], preds[2 * v + 1]
        vote = a if a == b else min(a, b)  # two clips that disagree: a tie, the lower class wins
        expected.append(vote == data.labels[2 * v])
    assert results["video"]["num_videos"] == len(data) // 2
    assert results["video"]["accuracy"]["uniform"]["2"]["value"] == pytest.approx(np.mean(expected))


def test_all_candidates_contain_the_48_candidate_run(tmp_path):
    data = Wrapped(SyntheticMotionDataset("test", per_class=1, size=32), n=6)
    net = small_net()
    kw = dict(generators={2: WaveGenerator(2)}, pixel_generators={}, ks=(2,), shard_size=4)
    everything = run(net, data, tmp_path / "all", candidates="all", **kw)
    sampled = run(net, data, tmp_path / "48", candidates=48, **kw)
    gap = everything["candidate_gap"]["2"]
    assert everything["candidates"]["2"] == 120 and sampled["candidates"]["2"] == 48
    assert gap["sampled"] == sampled["accuracy"]["full"]["2"]["value"]
    assert gap["all"] == everything["accuracy"]["full"]["2"]["value"]
    assert gap["gap"]["value"] == pytest.approx(gap["all"] - gap["sampled"], abs=1e-6)
    assert everything["accuracy"]["oracle"]["2"]["value"] >= sampled["accuracy"]["oracle"]["2"]["value"]
    assert sampled["candidate_gap"] == {}
    shutil.rmtree(tmp_path / "all")


def test_generators_must_match_the_ks(model, dataset, tmp_path):
    with pytest.raises(UserError, match="not among"):
        run(model, dataset, tmp_path / "a", generators={4: WaveGenerator(4)}, pixel_generators={}, ks=(1,))
    with pytest.raises(UserError, match="trained for k=2"):
        run(model, dataset, tmp_path / "b", generators={1: WaveGenerator(2)}, pixel_generators={}, ks=(1,))


def test_pool_order_does_not_change_the_plan():
    pool = candidates(2, 6, 16, seed=0)
    plans = [Plan.build(num_frames=16, ks=(2,), pools={2: p}, generator_ks=(2,), num_clips=5, shard_size=4)
             for p in (pool, pool[::-1], [pool[i] for i in np.random.default_rng(0).permutation(6)])]
    assert len({p.fingerprint() for p in plans}) == 1
    subsets, in_pool = plans[0].pool_inputs(2)
    assert subsets == sorted(set(pool) | {uniform_subset(2)}) and in_pool.sum() == 6


def test_the_replicated_pool_has_its_own_size(model, dataset, tmp_path):
    results = run(model, dataset, tmp_path / "a", candidates=4, replicate_candidates=7)
    assert results["candidates"] == {"1": 4, "2": 4} and results["replicate_candidates"] == {"1": 7, "2": 7}
    rows, _ = read_table(tmp_path / "a" / "table", 4)
    for source, size in ((REPLICATE, 7), (GENERATOR, 4)):
        assert (rows.in_pool & (rows.source == source) & (rows.k == 2)).sum() == size * len(dataset)


def test_progress_moves_within_a_clip_whose_pool_is_large():
    """A clip of 10 inputs (its candidate pools): 4 evaluated show 0.4 of it, not 0 (issue: stuck at 0/2)."""
    from motionprobe.analysis.engine import _ClipProgress

    bar = _ClipProgress(total=2, inputs_per_clip=10, enabled=True)
    bar.inputs_done(4)
    assert bar.bar.n == pytest.approx(0.4) and "0.4/2 clips" in str(bar.bar)
    bar.inputs_done(6)
    bar.finish_shard(1)
    assert bar.bar.n == 1 and "1.0/2 clips" in str(bar.bar)
    bar.close()
