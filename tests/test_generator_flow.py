"""The flow generator: it can only move the given frames' pixels (plus a small bounded residual)."""

import pytest
import torch

from motionprobe.config import preset
from motionprobe.generator import build_generator, build_loss, replicate_nearest
from motionprobe.generator.flow import CHANNELS_PER_SLOT, FlowGenerator


def constant_output(generator: FlowGenerator, values: torch.Tensor) -> None:
    """Make the network output `values` (one per channel of a slot) everywhere, whatever its input."""
    last = generator.net.model[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(values.repeat(generator.num_frames))


def test_shapes_and_the_given_frames_pass_through():
    g = FlowGenerator(k=3, num_frames=8, ngf=8, n_blocks=1)
    frames, indices = torch.rand(2, 3, 3, 16, 16), torch.tensor([[0, 4, 7], [1, 2, 6]])
    clip = g(frames, indices)
    assert clip.shape == (2, 3, 8, 16, 16) and 0 <= clip.min() and clip.max() <= 1
    for b in range(2):
        for j, t in enumerate(indices[b].tolist()):
            assert torch.equal(clip[b, :, t], frames[b, :, j])


def test_untrained_it_is_close_to_nearest_frame_replication():
    g = FlowGenerator(k=2, num_frames=8, ngf=8, n_blocks=1)
    frames, indices = torch.rand(4, 3, 2, 16, 16), torch.tensor([[1, 6]] * 4)
    difference = (g(frames, indices) - replicate_nearest(frames, indices, 8)).abs()
    assert difference.max() < 0.02  # the blend's prior puts 0.98 on the nearer frame


def test_a_flow_moves_the_frame_and_the_residual_is_bounded():
    g = FlowGenerator(k=1, num_frames=4, ngf=4, n_blocks=1, use_indices=False, residual_scale=0.1)
    frame = torch.zeros(1, 3, 1, 16, 16)
    frame[..., 4:8, 4:8] = 1.0  # a white square
    step = 2 * 4 / 15  # four pixels in grid_sample's units (±1 spans 15 pixel steps)
    constant_output(g, torch.tensor([-step, 0.0, -step, 0.0, 0.0, 0.0, 0.0, 0.0]))  # sample 4 px to the left
    clip = g(frame, torch.tensor([[0]]))
    moved = clip[0, :, 0]
    assert moved[:, 4:8, 8:12].min() > 0.99 and moved[:, 4:8, 4:8].max() < 0.01  # the square is 4 px to the right
    constant_output(g, torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 50.0, 50.0, 50.0]))  # a residual pushed to its bound
    brighter = g(frame, torch.tensor([[0]]))
    assert torch.allclose(brighter[0, :, 0, 0, 0], torch.full((3,), 0.1), atol=1e-4)  # black + 0.1, no more


def test_erasing_shows_the_frames_own_background_colour_and_is_off_untrained():
    g = FlowGenerator(k=1, num_frames=4, ngf=4, n_blocks=1, use_indices=False, residual_scale=0.0, erase=True)
    frame = torch.full((1, 3, 1, 16, 16), 0.3)
    frame[..., 2:10, 2:10] = torch.tensor([1.0, 1.0, 0.1]).view(3, 1, 1, 1)  # a yellow square on a grey ground
    assert (g(frame, torch.tensor([[0]]))[0, :, 1] - frame[0, :, 0]).abs().max() < 0.01  # untrained: kept
    constant_output(g, torch.tensor([0.0] * CHANNELS_PER_SLOT + [-50.0]))  # erase every pixel
    erased = g(frame, torch.tensor([[0]]))[0]
    assert torch.allclose(erased, torch.full_like(erased, 0.3), atol=1e-4)  # the square is gone, no colour added


def test_built_from_the_config_and_trained_it_lowers_a_perceptual_loss():
    torch.manual_seed(0)
    cfg = preset("tiny")
    cfg = cfg.evolve(generator={"kind": "flow", "ngf": 8, "n_blocks": 1})
    g = build_generator(1, cfg.generator, cfg.data.num_frames)
    assert isinstance(g, FlowGenerator) and g.erase  # the tiny preset's eraser: one more channel per slot
    assert g.net.model[-1].out_channels == (CHANNELS_PER_SLOT + 1) * 16
    from motionprobe.models import build_model

    model = build_model(cfg.model, cfg.data, 4)
    loss = build_loss("perceptual", model, cfg.generator)
    clips = torch.rand(2, 3, 16, 32, 32)
    optimizer = torch.optim.Adam(g.parameters(), lr=1e-3)
    indices = torch.tensor([[5], [9]])
    given = torch.stack([clips[0, :, 5], clips[1, :, 9]])[:, :, None]  # (2, 3, 1, 32, 32)
    with torch.no_grad():
        before = loss(g(given, indices), clips)
    for _ in range(5):
        value = loss(g(given, indices), clips)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    assert value.item() < before.item()


def test_bad_frames_are_refused():
    g = FlowGenerator(k=1, num_frames=4, ngf=4, n_blocks=1)
    with pytest.raises(ValueError, match="multiples of 4"):
        g(torch.rand(1, 3, 1, 10, 10), torch.tensor([[0]]))
