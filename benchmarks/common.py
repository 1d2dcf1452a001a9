"""What every benchmark shares: side-by-side timing and the record of one figure.

Absolute times on a shared machine are noise (other processes come and go), so every figure is a
ratio of two things measured in the same run, alternately (A B A B ...), several times; the figure
is the ratio of the medians, and the spread of the per-round ratios is kept beside it.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

RULES = ("at_least", "at_most", "within", "none")


@dataclass
class Figure:
    """One benchmark figure: a ratio, its target and whether it is met.

    `rule` is "at_least" (ratio ≥ target), "at_most" (ratio ≤ target), "within" (|ratio / target − 1| ≤
    tolerance) or "none" (reported, no target). A `gpu_target` is a goal for a GPU: measured and printed on a
    CPU, it is not judged there (`met` is None). A figure that could not be measured has `ratio` None and
    says why in `status`, e.g. "not measured: feature not present".
    """

    key: str
    title: str
    ratio: float | None
    target: float | None
    rule: str
    tolerance: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)
    gpu_target: bool = False
    device: str = "cpu"
    status: str = "measured"

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {', '.join(RULES)}, got {self.rule!r}")
        if (self.ratio is None) != (self.status != "measured"):
            raise ValueError(f"{self.key}: a measured figure has a ratio and an unmeasured one says why ({self.status!r})")

    @property
    def met(self) -> bool | None:
        if self.ratio is None or self.rule == "none" or (self.gpu_target and self.device != "cuda"):
            return None
        if self.rule == "at_least":
            return self.ratio >= self.target
        if self.rule == "at_most":
            return self.ratio <= self.target
        return abs(self.ratio / self.target - 1) <= self.tolerance

    @property
    def target_text(self) -> str:
        if self.rule == "none":
            return "(no target)"
        text = {"at_least": f">= {self.target:g}", "at_most": f"<= {self.target:g}",
                "within": f"{self.target:.2f} ± {self.tolerance:.0%}"}[self.rule]
        return text + (" on GPU" if self.gpu_target else "")

    @property
    def verdict(self) -> str:
        """What the table prints in its last column."""
        if self.ratio is None:
            return self.status
        if self.met is None:
            return "GPU target: not judged on a CPU" if self.gpu_target and self.rule != "none" else "-"
        return "yes" if self.met else "NO"

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "ratio": None if self.ratio is None else round(self.ratio, 4),
                "target": self.target, "rule": self.rule, "tolerance": self.tolerance, "target_text": self.target_text,
                "gpu_target": self.gpu_target, "device": self.device, "status": self.status, "met": self.met,
                "verdict": self.verdict, "detail": self.detail}


def seconds(fn: Callable[[], Any]) -> float:
    """Wall seconds of one call, including the GPU work it queued (CUDA runs asynchronously)."""
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def alternate(fns: dict[str, Callable[[], Any]], rounds: int, warmup: bool = True) -> dict[str, list[float]]:
    """Seconds per call of each function, `rounds` times, calling them in turn within each round.

    With `warmup`, each is called once first (untimed): first calls pay for allocation and kernel choice.
    """
    if warmup:
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(seconds(fn))
    return times


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def spread(numerators: list[float], denominators: list[float]) -> list[float]:
    """Per-round ratios (min, max) of paired measurements: how much one round's ratio can move."""
    ratios = [a / b for a, b in zip(numerators, denominators, strict=True)]
    return [round(min(ratios), 4), round(max(ratios), 4)]


def matmul(device: str = "cpu") -> tuple[Callable[[], Any], float]:
    """A dense matrix multiply to time and its FLOPs: the device's practical peak, in the engine's precision.

    CPU: one 2048×2048 fp32 product (2·2048³ FLOPs). CUDA: twenty 8192×8192 bf16 products (the engine
    runs under bf16 autocast there; one product alone takes a few milliseconds).
    """
    if torch.device(device).type == "cuda":
        n, repeat, dtype = 8192, 20, torch.bfloat16
    else:
        n, repeat, dtype = 2048, 1, torch.float32
    a, b = torch.rand(n, n, dtype=dtype, device=device), torch.rand(n, n, dtype=dtype, device=device)

    def run() -> None:
        for _ in range(repeat):
            a @ b

    return run, 2.0 * n ** 3 * repeat


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "python": platform.python_version(), "gpu": gpu}
