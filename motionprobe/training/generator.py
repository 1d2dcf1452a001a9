"""Label-free training of the temporal generator, in one explicit loop.

Each step: a batch of clips (clips only — the loader's collate drops labels and ids, so no label can
reach the generator or its loss), k random distinct sorted positions per clip (drawn as the analysis
draws candidates; with `distinct_share`, some hold the clip's most distinct frame), the frames at those
positions through the generator, the loss against the real clip, an Adam step (CycleGAN's optimizer;
learning rate and betas from `cfg.generator`).

Randomness is keyed, not carried: epoch e shuffles with a generator seeded by (seed, e) and batch b of
it draws its subsets from (seed, e, b). A run resumed from any checkpoint (written every
`checkpoint_every` steps and at every epoch's end) therefore ends exactly where an uninterrupted one
does.

Under torchrun (motionprobe/distributed.py) the generator trains in DDP: each rank takes every N-th
clip of each global batch and the matching rows of that batch's subsets, so the ranks together train
on exactly the single-process batches; rank 0 alone writes checkpoints, logs and samples. The loss
stays fp32 on every device: it is a small difference of two feature maps, which bf16 rounding (~0.4%
per value) would swamp once the generator is good.

With `holdout_clips`, a few training clips are held out, and the run keeps the state (epoch ends and the
untrained start) that the model agrees with most on them (training/holdout.py): a generator that only
removes evidence ends where it started, near replication.

Writes into `out`: generator.safetensors + config.json + meta.json (a `GeneratorFolder`; refreshed at
every epoch's end), train_state.* (for resume), selected.safetensors (the held-out check's best state so
far), losses.csv (one row per `log_every` steps, per-layer terms included), samples/step_NNNNNN.png
(given / generated / real).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from .. import distributed
from ..data import ClipDataset, build_dataset, clips_only, to_float
from ..errors import ConfigError, UserError
from ..folders import GeneratorFolder, ModelFolder
from ..generator import build_generator, build_loss, take_frames, training_subsets
from ..generator.losses import LOSSES
from ..generator.strips import strip_image
from ..generator.subsets import distinct_draw, with_distinct_frames
from ..io import atomic_write_bytes, load_tensors, png_bytes, save_tensors
from .holdout import Holdout, beats_replication, build_holdout, clip_hits, holdout_positions, share
from .schedule import GENERATOR_STREAM, epoch_batches, generator_epochs, generator_lr_factor, rank_share, set_learning_rate
from .state import (
    MetricsLog,
    TrainState,
    check_finite,
    load_train_state,
    optimizer_step,
    refuse_fewer_epochs,
    refuse_started_run,
    save_train_state,
    seed_everything,
    train_state_extra,
)

if TYPE_CHECKING:
    from ..config import Config

SAMPLE_CLIPS = 4
SELECTED = "selected.safetensors"


def batch_subsets(k: int, n: int, seed: int, epoch: int, batch: int, num_frames: int) -> torch.Tensor:
    """The k-frame subsets given to the generator in one batch, a pure function of (seed, epoch, batch)."""
    return training_subsets(k, n, np.random.default_rng([seed, 2, epoch, batch]), num_frames)


def batch_distinct_draw(k: int, n: int, share: float, seed: int, epoch: int, batch: int,
                        num_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Which rows of one batch hold their clip's most distinct frame, keyed as `batch_subsets` is."""
    return distinct_draw(k, n, share, np.random.default_rng([seed, 4, epoch, batch]), num_frames)


def clip_loader(dataset: ClipDataset, batches: list[list[int]]) -> DataLoader:
    """Yields uint8 clip tensors (B, 3, T, H, W) and nothing else: labels never leave the dataset."""
    return DataLoader(dataset, batch_sampler=batches, collate_fn=clips_only, num_workers=0)


@dataclass
class LossWindow:
    """Sums of the logged loss terms between two rows of losses.csv. It travels in checkpoints, so a run
    resumed mid-window logs the same row an uninterrupted one does."""

    sums: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    clips: int = 0
    start: float = field(default_factory=time.perf_counter)

    def add(self, terms: dict[str, torch.Tensor], clips: int) -> None:
        for name, value in terms.items():
            self.sums[name] = self.sums.get(name, 0.0) + float(value.detach())
        self.steps, self.clips = self.steps + 1, self.clips + clips

    def row(self, world: distributed.World, step: int, epoch_progress: float, seconds: float) -> dict[str, Any]:
        """The averaged row (losses averaged over ranks, clips summed); the window starts afresh."""
        names = list(self.sums)
        totals = distributed.all_reduce_sum([self.sums[name] for name in names] + [self.clips])
        means = {name: v / world.size for name, v in zip(names, totals, strict=False)}
        row = {"step": step, "epoch_progress": epoch_progress, **{name: v / self.steps for name, v in means.items()},
               "clips_per_s": totals[-1] / max(1e-9, time.perf_counter() - self.start), "seconds": seconds}
        self.sums, self.steps, self.clips, self.start = {}, 0, 0, time.perf_counter()
        return row

    def to_dict(self) -> dict[str, Any]:
        return {"sums": dict(self.sums), "steps": self.steps, "clips": self.clips}


def train_generator(cfg: Config, model_dir: str | Path | None, k: int, out: str | Path, loss: str = "perceptual",
                    resume: bool = False, *, dataset: ClipDataset | None = None, trust_model_code: bool = False,
                    progress: bool = True) -> dict[str, Any]:
    """Train one generator for `k` given frames; returns its metrics.

    `model_dir` is the trained video model whose features define the perceptual loss (the pixel loss
    does not use it; it may then be None); the sha256 of its weights goes into the checkpoints and
    meta.json, binding the generator to it. `dataset` (default: `cfg.data`'s training split) may differ
    from the one the model was trained on. `trust_model_code` lets a model factory in the model folder's
    config be imported.
    """
    run = _Run.start(cfg, model_dir, k, Path(out), loss, resume, dataset, progress, trust_model_code)
    g, world = run.cfg.generator, run.world
    if run.step == 0:
        run.score_holdout()  # the untrained start is a candidate too: near replication
    for epoch in range(run.state.epoch, run.epochs):
        for b, clips, indices in run.batches(epoch):
            stepped = not distributed.any_rank(clips.numel() == 0)  # all of a batch unreadable: no step, on any rank
            if stepped:
                tick = time.perf_counter()
                set_learning_rate(run.optimizer, g.lr * generator_lr_factor(epoch * run.steps_per_epoch + b,
                                                                            run.steps_per_epoch, g))
                generated = run.trained(take_frames(clips, indices), indices)
                terms = run.criterion.terms(generated, clips)
                total = run.criterion.combine(terms)
                if not torch.isfinite(total):
                    raise UserError(run.diverged(f"loss {total.item()}"))
                run.optimizer.zero_grad(set_to_none=True)
                total.backward()
                optimizer_step(run.optimizer, run.diverged("the update overflowed float32"))
                run.step += 1
                run.seconds += time.perf_counter() - tick
                run.window.add({"loss": total, **terms}, clips.shape[0])
                run.bar.set_postfix(loss=f"{float(total.detach()):.4g}")
            run.bar.update(1)
            end_of_epoch = b == run.steps_per_epoch - 1
            if run.window.steps and (run.step % g.log_every == 0 or end_of_epoch):
                progress_in_epochs = round(epoch + (b + 1) / run.steps_per_epoch, 4)
                run.state.history.append(run.window.row(world, run.step, progress_in_epochs, run.seconds))
            if world.is_main and stepped and run.step % g.sample_every == 0:
                run.write_samples()
            if end_of_epoch:
                run.score_holdout()
            if end_of_epoch or (stepped and run.step % g.checkpoint_every == 0):
                run.checkpoint(epoch, b, end_of_epoch)
    return run.finish()


@dataclass
class _Run:
    """One generator training run: what the loop reads and updates, and how it checkpoints and logs."""

    cfg: Config  # the caller's config with the loss this run trains (what config.json records)
    k: int
    out: Path
    world: distributed.World
    data: ClipDataset
    generator: torch.nn.Module  # what is saved and sampled
    trained: torch.nn.Module  # what the loop steps: the generator, wrapped by DDP under torchrun
    optimizer: torch.optim.Optimizer
    model: Any  # the video model of the perceptual loss and the held-out check (None for the pixel loss)
    holdout: Holdout | None
    train_positions: np.ndarray  # the training clips the generator learns from (the held-out ones left out)
    criterion: torch.nn.Module
    state: TrainState
    identity: dict[str, Any]  # what the checkpoints are of: k, loss and the model's hash
    skipped: dict[str, str]  # unreadable clips: id → reason
    window: LossWindow
    bar: Any  # tqdm progress bar
    meta: dict[str, Any]  # meta.json's fields besides the metrics
    steps_per_epoch: int
    epochs: int
    samples: tuple[torch.Tensor, torch.Tensor] | None  # the sample clips and subsets drawn in samples/
    step: int
    seconds: float
    log: MetricsLog | None  # losses.csv, written by rank 0

    @classmethod
    def start(cls, cfg: Config, model_dir: str | Path | None, k: int, out: Path, loss: str, resume: bool,
              dataset: ClipDataset | None, progress: bool, trust_model_code: bool = False) -> _Run:
        t = cfg.data.num_frames
        if not (isinstance(k, int) and 1 <= k <= t):
            raise ConfigError("k", f"expected a number of given frames in 1..{t}, got {k!r}")
        if loss not in LOSSES:
            raise ConfigError("generator.loss", f"expected one of {', '.join(LOSSES)}, got {loss!r}")
        world = distributed.init(cfg.device)  # a no-op unless launched by torchrun
        refuse_started_run(out, resume, "generator")
        distributed.barrier()  # every rank has looked at the folder before rank 0 writes into it
        cfg = cfg.evolve(generator={"loss": loss})  # recorded in config.json: the loss it was trained with
        g = cfg.generator
        out.mkdir(parents=True, exist_ok=True)
        seed_everything(cfg.seed)

        model, model_sha256 = None, None
        if model_dir is not None and loss == "perceptual":
            model_folder = ModelFolder(model_dir)
            model = model_folder.load(cfg.device, trust_model_code=trust_model_code)[0]
            model_sha256 = model_folder.sha256()
        criterion = build_loss(loss, model, cfg.generator)
        data = dataset if dataset is not None else build_dataset(cfg.data, "train", training=True, seed=cfg.seed)
        if len(data) == 0:
            raise ConfigError("data.dataset", f"the training split of {cfg.data.dataset!r} holds no clips")
        generator = build_generator(k, cfg.generator, cfg.data.num_frames).to(cfg.device)
        optimizer = torch.optim.Adam(generator.parameters(), lr=g.lr, betas=(g.beta1, g.beta2))
        # What the checkpoints are of: a resumed run must not change it (the perceptual loss: nor its model).
        identity = {"k": k, "loss": loss, **({"model_sha256": model_sha256} if model_sha256 else {})}
        state = TrainState(epoch=0, history=[], extra={"batch": 0, "step": 0, "seconds": 0.0, **identity})
        if resume:
            _check_same_run(out, train_state_extra(out), identity)  # before the weights: shapes may differ by k
            state = load_train_state(out, generator, optimizer)
        held = holdout_positions(len(data), cfg.seed, g.holdout_clips if model is not None else 0)
        train_positions = np.setdiff1d(np.arange(len(data)), held)
        steps_per_epoch = math.ceil(len(train_positions) / g.batch_size)
        epochs = generator_epochs(g, steps_per_epoch)
        refuse_fewer_epochs(out, state.epoch, epochs, "generator.epochs")
        if world.is_main:
            cfg.save(out / "config.json")
        skipped = getattr(data, "skipped", {})  # unreadable clips (id → reason); carried in checkpoints across resumes
        skipped.update(state.extra.get("skipped", {}))
        window = LossWindow(**state.extra.get("window", {}))
        bar = tqdm(total=epochs * steps_per_epoch, initial=int(state.extra["step"]), desc=f"generator k={k} {loss}",
                   unit="step", disable=not (progress and world.is_main))
        meta = {"k": k, "loss": loss, "model": None if model_dir is None else str(Path(model_dir).resolve()),
                **({"model_sha256": model_sha256} if model_sha256 else {}), "dataset": dict(data.metadata)}
        holdout = build_holdout(data, held, model, k, t, cfg.seed, cfg.device, g.batch_size) if len(held) else None
        return cls(cfg=cfg, k=k, out=out, world=world, data=data, generator=generator, optimizer=optimizer,
                   model=model, holdout=holdout, train_positions=train_positions,
                   trained=distributed.wrap_ddp(generator),  # DDP under torchrun; `generator` is saved and sampled
                   criterion=criterion, state=state, identity=identity, skipped=skipped, window=window, bar=bar,
                   meta=meta, steps_per_epoch=steps_per_epoch, epochs=epochs, samples=_sample_batch(data, k, cfg),
                   step=int(state.extra["step"]), seconds=float(state.extra["seconds"]),
                   log=MetricsLog(out, "losses.csv") if world.is_main else None)

    def batches(self, epoch: int) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        """(batch number, this rank's clips in [0, 1], their subsets) for the rest of one epoch.

        The global batch's subsets are drawn one row at a time and this rank takes its rows, so the first
        rows are what a draw for fewer clips (some unreadable) would give."""
        first = int(self.state.extra["batch"]) if epoch == self.state.epoch else 0
        batches = [[int(self.train_positions[i]) for i in batch] for batch in epoch_batches(
            len(self.train_positions), self.cfg.generator.batch_size, self.cfg.seed, epoch, stream=GENERATOR_STREAM,
            first=first)]
        positions, mine = rank_share(batches, self.world)
        for b, (clips, pos) in enumerate(zip(clip_loader(self.data, mine), positions, strict=True), start=first):
            clips = to_float(clips).to(self.cfg.device)
            n, t, share = len(batches[b - first]), self.cfg.data.num_frames, self.cfg.generator.distinct_share
            indices = batch_subsets(self.k, n, self.cfg.seed, epoch, b, t)[pos][: clips.shape[0]].to(self.cfg.device)
            if share > 0:
                marked, others = batch_distinct_draw(self.k, n, share, self.cfg.seed, epoch, b, t)
                indices = with_distinct_frames(indices, clips, (marked[pos], others[pos]))
            yield b, clips, indices

    def diverged(self, why: str) -> str:
        return (f"generator training diverged at step {self.step + 1} ({why}); lower generator.lr "
                f"(now {self.cfg.generator.lr}); the last checkpoint in {self.out} is intact")

    def checkpoint(self, epoch: int, batch: int, end_of_epoch: bool) -> None:
        """Refuse non-finite weights, then write the resumable state (and at an epoch's end the generator folder)."""
        check_finite(self.generator, f"generator training diverged at step {self.step} (non-finite weights after "
                                     f"it); lower generator.lr (now {self.cfg.generator.lr}); the last checkpoint in "
                                     f"{self.out} is intact")
        self.skipped.update(distributed.merged(self.skipped))  # every rank's unreadable clips
        position = (epoch + 1, 0) if end_of_epoch else (epoch, batch + 1)
        self.state = TrainState(position[0], self.state.history, {
            "batch": position[1], "step": self.step, "seconds": self.seconds,
            "skipped": dict(sorted(self.skipped.items())), "window": self.window.to_dict(), **self.identity,
            **({"selection": self.state.extra["selection"]} if "selection" in self.state.extra else {})})
        if not self.world.is_main:
            return
        self.log.write(self.state.history)
        save_train_state(self.out, self.generator, self.optimizer, self.state)
        if end_of_epoch:  # loadable, but not complete until finish() has run
            GeneratorFolder(self.out).save(self.generator, self.cfg, **self.meta,
                                           metrics=self.metrics(epoch + 1), complete=False)

    def score_holdout(self) -> None:
        """The held-out agreement of the generator now (before the first step, and at every epoch's end); the
        best trained state so far is kept in selected.safetensors. Ties keep the earlier state. The untrained
        start is scored for the curve only: what a generator that does not pass the check falls back to is
        exact replication, not its start."""
        if self.holdout is None:
            return
        selection = self.state.extra.setdefault("selection", {"curve": [], "step": None, "agreement": -1.0})
        hits = clip_hits(self.generator, self.model, self.holdout, self.cfg.device, self.cfg.generator.batch_size)
        score = share(hits, self.holdout.indices.shape[1])
        selection["curve"].append([self.step, round(score, 6)])
        if self.step == 0:
            return
        selection.setdefault("state_hits", []).append(hits.tolist())  # the test compares the best with all of them
        if score > selection["agreement"] + 1e-12:
            selection.update(step=self.step, agreement=score)
            if self.world.is_main:
                save_tensors(self.out / SELECTED, {n: p.detach().cpu() for n, p in self.generator.state_dict().items()})

    def select(self) -> dict[str, Any]:
        """Load the selected state and test it against replication on the held-out clips (training/holdout.py):
        the test's outcome, which says whether the generator is kept or replaced by replication."""
        chosen = self.state.extra["selection"]
        if chosen["step"] != self.step:  # the held-out check preferred an earlier state
            self.generator.load_state_dict(load_tensors(self.out / SELECTED))
        steps = [step for step, _ in chosen["curve"] if step > 0]
        return beats_replication(np.asarray(chosen["state_hits"]), steps.index(chosen["step"]),
                                 self.holdout.replication_hits, self.cfg.seed)

    def selection_metrics(self) -> dict[str, Any]:
        if self.holdout is None or "selection" not in self.state.extra:
            return {}
        chosen = self.state.extra["selection"]
        return {"holdout": {**self.holdout.to_dict(), "curve": chosen["curve"], "selected_step": chosen["step"],
                            "selected_agreement": round(chosen["agreement"], 6),
                            **({"test": chosen["test"]} if "test" in chosen else {})}}

    def metrics(self, epochs: int) -> dict[str, Any]:
        return {**_metrics(self.state.history, self.step, self.seconds, epochs, self.skipped),
                "planned_epochs": self.epochs, **self.selection_metrics()}

    @torch.no_grad()
    def write_samples(self) -> None:
        if self.samples is None:  # every sample clip was unreadable
            return
        clips, indices = self.samples
        given = take_frames(clips, indices)
        image = strip_image(given, indices, self.generator(given, indices), clips)
        atomic_write_bytes(self.out / "samples" / f"step_{self.step:06d}.png", png_bytes(image))

    def finish(self) -> dict[str, Any]:
        self.bar.close()
        replicates = False
        if self.holdout is not None and self.state.extra.get("selection", {}).get("step") is not None:
            test = self.select()
            self.state.extra["selection"]["test"] = test
            replicates = not test["kept"]
        metrics = self.metrics(self.epochs)
        if self.world.is_main:
            self.write_samples()
            GeneratorFolder(self.out).save(self.generator, self.cfg, **self.meta, metrics=metrics, complete=True,
                                           **({"replicates": True} if replicates else {}))
        distributed.barrier()  # when any rank returns, the generator folder is complete
        return {"out": str(self.out), "k": self.k, "loss": self.meta["loss"], **metrics,
                **({"replicates": True} if replicates else {})}


def _check_same_run(out: Path, extra: dict[str, Any], run: dict[str, Any]) -> None:
    """With slot indices the generator has the same weights for every k, so only the checkpoint can tell a
    k=1 run from a k=4 one: resuming it with another k (or loss) would silently mix the two."""
    for key, value in run.items():
        saved = extra.get(key)
        if saved != value and key == "model_sha256":
            raise ConfigError("resume", f"{out} holds a generator run against another model (weights sha256 "
                                        f"{str(saved)[:12]}…, not {value[:12]}…); resume it with the model it was "
                                        "started with or choose another folder")
        if saved != value:
            raise ConfigError("resume", f"{out} holds a generator run for {key}={saved}, not {key}={value}; resume "
                                        f"it with {key}={saved} or choose another folder")


def _metrics(history: list[dict[str, Any]], steps: int, seconds: float, epochs: int,
             skipped: dict[str, str]) -> dict[str, Any]:
    """First logged loss, mean loss over the last epoch's rows, steps, epochs, training seconds, unreadable clips."""
    last_epoch = [row["loss"] for row in history if row["epoch_progress"] > epochs - 1]
    return {"loss_first": history[0]["loss"] if history else None,
            "loss_last_epoch": float(np.mean(last_epoch)) if last_epoch else None,
            "steps": steps, "epochs": epochs, "train_seconds": round(seconds, 2), "skipped_clips": len(skipped)}


def _sample_batch(data: ClipDataset, k: int, cfg: Config) -> tuple[torch.Tensor, torch.Tensor] | None:
    """A fixed batch of clips spread over the dataset and fixed subsets, so strips compare across steps."""
    # Spread over the dataset, nudged by 3·i so that class-interleaved layouts show different classes.
    ids = sorted({(i * len(data) // SAMPLE_CLIPS + 3 * i) % len(data) for i in range(min(SAMPLE_CLIPS, len(data)))})
    clips = to_float(clips_only([data[i] for i in ids])).to(cfg.device)  # unreadable clips drop out
    if clips.numel() == 0:
        return None
    indices = training_subsets(k, clips.shape[0], np.random.default_rng([cfg.seed, 3]), cfg.data.num_frames)
    return clips, indices.to(cfg.device)
