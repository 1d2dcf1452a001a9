"""The published torchvision video-ResNet layout, written from the architecture (not from our module).

`expected_state_layout(arch)` lists every state-dict entry with its shape; `reference_forward(state, arch, x)`
runs the network with torch.nn.functional straight from such a state dict (eval-mode BatchNorm). Tests use
both to check motionprobe.models.resnet3d against the published network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

STAGES = (64, 128, 256, 512)


def _bn(prefix: str, c: int) -> dict[str, tuple[int, ...]]:
    return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
            f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}


def _mid(cin: int, cout: int) -> int:
    # (2+1)D: as many parameters as the 3×3×3 conv it replaces (Tran et al. 2018, section 3.5)
    return (27 * cin * cout) // (9 * cin + 3 * cout)


def _kernel(arch: str, stage: int) -> tuple[int, int, int]:
    return (1, 3, 3) if arch == "mc3_18" and stage > 0 else (3, 3, 3)


def expected_state_layout(arch: str, num_classes: int = 400) -> dict[str, tuple[int, ...]]:
    layout: dict[str, tuple[int, ...]] = {}
    if arch == "r2plus1d_18":
        layout["stem.0.weight"] = (45, 3, 1, 7, 7)
        layout |= _bn("stem.1", 45)
        layout["stem.3.weight"] = (64, 45, 3, 1, 1)
        layout |= _bn("stem.4", 64)
    else:
        layout["stem.0.weight"] = (64, 3, 3, 7, 7)
        layout |= _bn("stem.1", 64)
    cin = 64
    for s, planes in enumerate(STAGES):
        for b in range(2):
            block_in = cin if b == 0 else planes
            p = f"layer{s + 1}.{b}"
            mid = _mid(block_in, planes)  # both convs of a block use the first conv's mid width
            for conv, conv_in in (("conv1", block_in), ("conv2", planes)):
                if arch == "r2plus1d_18":
                    layout[f"{p}.{conv}.0.0.weight"] = (mid, conv_in, 1, 3, 3)
                    layout |= _bn(f"{p}.{conv}.0.1", mid)
                    layout[f"{p}.{conv}.0.3.weight"] = (planes, mid, 3, 1, 1)
                else:
                    layout[f"{p}.{conv}.0.weight"] = (planes, conv_in, *_kernel(arch, s))
                layout |= _bn(f"{p}.{conv}.1", planes)
            if b == 0 and s > 0:
                layout[f"{p}.downsample.0.weight"] = (planes, cin, 1, 1, 1)
                layout |= _bn(f"{p}.downsample.1", planes)
        cin = planes
    layout["fc.weight"] = (num_classes, 512)
    layout["fc.bias"] = (num_classes,)
    return layout


def random_state(layout: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, torch.Tensor]:
    """Random values for a layout (names → shapes) that keep activations in a sane range."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in layout.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(7)
        elif key.endswith("running_var"):
            state[key] = 0.5 + torch.rand(shape, generator=g)
        elif key.endswith(("running_mean", "bias")):
            state[key] = 0.1 * torch.randn(shape, generator=g)
        elif len(shape) == 1:  # BN weight
            state[key] = 0.5 + 0.5 * torch.rand(shape, generator=g)
        else:
            fan_in = 1
            for d in shape[1:]:
                fan_in *= d
            state[key] = torch.randn(shape, generator=g) * (2.0 / fan_in) ** 0.5
    return state


def reference_forward(state: dict[str, torch.Tensor], arch: str, x: torch.Tensor) -> torch.Tensor:
    """The published forward pass, eval mode, from the state dict alone."""

    def bn(h, p):
        return F.batch_norm(h, state[f"{p}.running_mean"], state[f"{p}.running_var"], state[f"{p}.weight"],
                            state[f"{p}.bias"], training=False, eps=1e-5)

    def conv(h, key, stride):
        k = state[key].shape[2:]
        return F.conv3d(h, state[key], stride=stride, padding=tuple(d // 2 for d in k))

    if arch == "r2plus1d_18":
        h = F.relu(bn(conv(x, "stem.0.weight", (1, 2, 2)), "stem.1"))
        h = F.relu(bn(conv(h, "stem.3.weight", 1), "stem.4"))
    else:
        h = F.relu(bn(conv(x, "stem.0.weight", (1, 2, 2)), "stem.1"))

    def conv_unit(h, p, stride, stage):
        if arch == "r2plus1d_18":
            h = F.relu(bn(conv(h, f"{p}.0.0.weight", (1, stride, stride)), f"{p}.0.1"))
            return conv(h, f"{p}.0.3.weight", (stride, 1, 1))
        t = 1 if arch == "mc3_18" and stage > 0 else stride
        return conv(h, f"{p}.0.weight", (t, stride, stride))

    for s in range(4):
        for b in range(2):
            p = f"layer{s + 1}.{b}"
            stride = 2 if (s > 0 and b == 0) else 1
            out = F.relu(bn(conv_unit(h, f"{p}.conv1", stride, s), f"{p}.conv1.1"))
            out = bn(conv_unit(out, f"{p}.conv2", 1, s), f"{p}.conv2.1")
            if f"{p}.downsample.0.weight" in state:
                t = 1 if arch == "mc3_18" else stride
                shortcut = bn(F.conv3d(h, state[f"{p}.downsample.0.weight"], stride=(t, stride, stride)),
                              f"{p}.downsample.1")
            else:
                shortcut = h
            h = F.relu(out + shortcut)
    return F.linear(h.mean(dim=(2, 3, 4)), state["fc.weight"], state["fc.bias"])
