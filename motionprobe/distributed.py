"""Scale-out on torch.distributed: one process per device, launched by torchrun.

    torchrun --standalone --nproc_per_node=8 -m motionprobe analyze ...   (one process per GPU)

torchrun sets RANK, LOCAL_RANK and WORLD_SIZE (and the rendezvous address) in each process. `init`
joins the process group when WORLD_SIZE > 1 — gloo for CPU tensors, nccl for CUDA tensors — and pins
the process to GPU LOCAL_RANK, so "cuda" everywhere else means this process's own GPU. Without
torchrun every helper answers as the only process: rank 0 of 1, barriers return at once, nothing is
wrapped, so single-process code paths are unchanged.

How the verbs use it:
- train-model / train-generator: DDP; each rank takes every N-th clip of each global batch (so the N
  ranks' batches together are the single-process batch), gradients are averaged, rank 0 alone writes
  checkpoints, logs and samples.
- analyze: rank r evaluates shards r, r + N, r + 2N, ... of the candidate table; after a barrier rank 0
  merges them into results.json, which is the single-process file (timestamps aside).

Every rank must see the same output folder (one machine, or a shared filesystem).

Nothing here pickles: the few values ranks exchange (an error message, skipped-clip lists) travel as
JSON in uint8 tensors.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from .errors import ConfigError, UserError

T = TypeVar("T")

# Ranks wait at barriers while others finish their last shard or rank 0 merges an analysis; with
# paper-size shards that can take far longer than torch's default 10-30 minutes.
TIMEOUT = timedelta(hours=3)
_joined = False  # whether `init` created the process group (and `shutdown` should destroy it)


@dataclass(frozen=True)
class World:
    """This process's place among the processes of one run."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def launched() -> World:
    """The world torchrun describes in the environment (rank 0 of 1 when not launched by it)."""
    env = os.environ
    return World(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))


def world() -> World:
    """The current world: the process group's when one is initialized, else the environment's."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), launched().local_rank)
    return launched()


def init(device: str | torch.device = "cpu") -> World:
    """Join the process group torchrun set up (idempotent; a no-op for a single process).

    On CUDA the process is pinned to GPU LOCAL_RANK first, so models and tensors sent to "cuda" land
    on this rank's own device.
    """
    env = launched()
    if not env.distributed or not dist.is_available():
        return env
    cuda = torch.device(device).type == "cuda"
    if cuda:
        count = torch.cuda.device_count()
        if env.local_rank >= count:
            raise ConfigError("device", f"process {env.local_rank} on this machine needs GPU {env.local_rank}, but "
                                        f"{count} are visible; start {count} processes per machine or fewer")
        torch.cuda.set_device(env.local_rank)
    if not dist.is_initialized():
        global _joined
        # "cpu:gloo,cuda:nccl": CPU tensors (barriers, small exchanges) over gloo, CUDA tensors over nccl.
        dist.init_process_group("cpu:gloo,cuda:nccl" if cuda else "gloo", timeout=TIMEOUT)
        _joined = True
        # Left at exit, not after each verb: `pipeline` runs several verbs in one process group.
        atexit.register(shutdown)
        if env.is_main:
            print(f"motionprobe: {env.size} processes (torch.distributed, {dist.get_backend()})", file=sys.stderr)
    return world()


def shutdown() -> None:
    """Leave the process group `init` joined (registered to run at exit); a group the caller made is left alone."""
    global _joined
    if _joined and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    _joined = False


def barrier() -> None:
    """Wait until every rank gets here (returns at once for a single process)."""
    if world().distributed:
        dist.barrier()


@contextlib.contextmanager
def quiet_unless_main() -> Iterator[None]:
    """Silence stdout on ranks other than 0, so a command prints its report once; stderr stays."""
    if launched().is_main:
        yield
        return
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


# -- dividing work ------------------------------------------------------------------------------

def owned_shards(num_shards: int, w: World | None = None) -> range:
    """The shards rank r evaluates: r, r + N, r + 2N, ... (disjoint across ranks, together all of them).

    Interleaved rather than in blocks so that ranks finish together when shards cost alike.
    """
    w = w or world()
    return range(w.rank, num_shards, w.size)


def batch_positions(batch_len: int, w: World | None = None) -> list[int]:
    """Positions of a global batch this rank trains on: every N-th, starting at its rank.

    Together the ranks cover the batch exactly once. A rank left without a clip (a last batch smaller
    than N) repeats one, because every rank must take part in each step:

    >>> batch_positions(5, World(1, 2)), batch_positions(1, World(1, 2))
    ([1, 3], [0])
    """
    w = w or world()
    if batch_len <= 0:
        return []
    return list(range(w.rank, batch_len, w.size)) or [w.rank % batch_len]


def wrap_ddp(module: nn.Module) -> nn.Module:
    """`module` in DistributedDataParallel when distributed (gradients averaged over ranks), else itself.

    Train through the returned module; save, sample and evaluate the original one.
    """
    if not world().distributed:
        return module
    from torch.nn.parallel import DistributedDataParallel

    device = next(module.parameters()).device
    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


# -- exchanging values ----------------------------------------------------------------------------

def _group_device() -> torch.device:
    """Where tensors for a collective live: CPU (gloo) unless the group is nccl-only."""
    backend = dist.get_backend()
    if backend == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_sum(values: Sequence[float]) -> list[float]:
    """Element-wise sums over ranks (the values themselves for a single process)."""
    if not world().distributed:
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=_group_device())
    dist.all_reduce(t)
    return t.cpu().tolist()


def any_rank(flag: bool) -> bool:
    """True when `flag` is true on at least one rank: lets every rank take the same branch."""
    return all_reduce_sum([1.0 if flag else 0.0])[0] > 0


def all_gather_json(value: Any) -> list[Any]:
    """Every rank's JSON-serializable `value`, in rank order ([value] for a single process)."""
    if not world().distributed:
        return [value]
    device = _group_device()
    data = torch.tensor(list(json.dumps(value, sort_keys=True).encode()), dtype=torch.uint8, device=device)
    sizes = [torch.zeros(1, dtype=torch.int64, device=device) for _ in range(world().size)]
    dist.all_gather(sizes, torch.tensor([len(data)], dtype=torch.int64, device=device))
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros(longest, dtype=torch.uint8, device=device)
    padded[: len(data)] = data
    parts = [torch.zeros(longest, dtype=torch.uint8, device=device) for _ in sizes]
    dist.all_gather(parts, padded)
    return [json.loads(bytes(p[: int(s.item())].cpu().tolist()).decode()) for p, s in zip(parts, sizes, strict=True)]


def merged(mapping: dict[str, Any]) -> dict[str, Any]:
    """The union of every rank's dict (e.g. the clips each rank skipped), keys sorted."""
    out: dict[str, Any] = {}
    for part in all_gather_json(mapping):
        out.update(part)
    return dict(sorted(out.items()))


def run_on_main(fn: Callable[[], T]) -> T | None:
    """Run `fn` on rank 0 only; every rank returns once it is done (with its result on rank 0, None elsewhere).

    A failure on rank 0 is raised on every rank — a UserError with the same one-line message — instead
    of leaving the other ranks waiting at the next barrier.
    """
    w = world()
    if not w.distributed:
        return fn()
    result, failure, error = None, None, None
    if w.is_main:
        try:
            result = fn()
        except Exception as e:
            failure = e
            error = {"user": isinstance(e, UserError),
                     "message": str(e) if isinstance(e, UserError) else f"{type(e).__name__}: {e}"}
    error = all_gather_json(error)[0]
    if failure is not None:
        raise failure
    if error is not None:
        if error["user"]:
            raise UserError(error["message"])
        raise RuntimeError(f"rank 0 failed: {error['message']}")
    return result
