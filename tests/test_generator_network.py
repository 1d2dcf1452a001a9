"""The temporal generator's architecture: CycleGAN layout, shapes, range, how indices are fed."""

import pytest
import torch
from torch import nn

from motionprobe.config import preset
from motionprobe.generator import ResnetGenerator, TemporalGenerator, build_generator, replicate_nearest


def resnet_generator_params(cin: int, cout: int, ngf: int, n_blocks: int) -> int:
    """Parameter count from the layer shapes: c7s1-ngf, d2ngf, d4ngf, n×R4ngf, u2ngf, ungf, c7s1-out."""
    conv = lambda i, o, k: i * o * k * k + o  # noqa: E731  weights + bias
    return (conv(cin, ngf, 7) + conv(ngf, 2 * ngf, 3) + conv(2 * ngf, 4 * ngf, 3)
            + n_blocks * 2 * conv(4 * ngf, 4 * ngf, 3)
            + conv(4 * ngf, 2 * ngf, 3) + conv(2 * ngf, ngf, 3) + conv(ngf, cout, 7))


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_size_resnet_generator_has_cyclegans_parameter_count():
    g = ResnetGenerator(3, 3, ngf=64, n_blocks=9)
    assert count(g) == 11_378_179 == resnet_generator_params(3, 3, 64, 9)


def test_layout_reads_in_the_papers_order():
    layers = list(ResnetGenerator(3, 3, ngf=8, n_blocks=2).model)
    kinds = [type(m).__name__ for m in layers]
    assert kinds == ["ReflectionPad2d", "Conv2d", "InstanceNorm2d", "ReLU",
                     "Conv2d", "InstanceNorm2d", "ReLU", "Conv2d", "InstanceNorm2d", "ReLU",
                     "ResnetBlock", "ResnetBlock",
                     "ConvTranspose2d", "InstanceNorm2d", "ReLU", "ConvTranspose2d", "InstanceNorm2d", "ReLU",
                     "ReflectionPad2d", "Conv2d"]
    assert layers[1].kernel_size == (7, 7) and layers[4].stride == (2, 2) and layers[12].output_padding == (1, 1)
    norms = [m for m in layers if isinstance(m, nn.InstanceNorm2d)]
    assert all(not n.affine and not n.track_running_stats for n in norms)


def test_weights_are_drawn_from_normal_0_002():
    g = ResnetGenerator(3, 3, ngf=64, n_blocks=9)
    w = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
    assert abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.02) < 1e-3


# (use_indices, index_encoding) → input channels for k = 4, T = 16
LAYOUTS = {(True, "slots"): 3 * 16,  # 3T channels: the frames at their slots
           (True, "stacked"): 3 * 4,  # the k frames stacked in order; positions only place base and copies
           (False, "slots"): 3 * 4}  # the k frames stacked, no positions anywhere


@pytest.mark.parametrize("use_indices, encoding", list(LAYOUTS))
def test_video_generator_parameter_count_follows_the_input_layout(use_indices, encoding):
    cfg = preset("tiny")
    cfg = cfg.evolve(generator={"kind": "pixels"})  # the painting generator: its first layer reads the layout directly
    cfg = cfg.evolve(generator={"use_indices": use_indices, "index_encoding": encoding})
    g = build_generator(4, cfg.generator, cfg.data.num_frames)
    cin = LAYOUTS[use_indices, encoding]
    assert count(g) == resnet_generator_params(cin, 3 * 16, cfg.generator.ngf, cfg.generator.n_blocks)


@pytest.mark.parametrize("k", [1, 2, 4, 8])
@pytest.mark.parametrize("use_indices, encoding", list(LAYOUTS))
def test_shape_and_range_for_every_k(k, use_indices, encoding):
    torch.manual_seed(k)
    g = TemporalGenerator(k, num_frames=16, ngf=4, n_blocks=1, use_indices=use_indices, index_encoding=encoding)
    frames = torch.rand(2, 3, k, 16, 24)
    indices = torch.stack([torch.randperm(16)[:k].sort().values for _ in range(2)])
    with torch.no_grad():
        for p in g.parameters():  # large weights push the tanh to its ends: the range must still hold
            p.mul_(50)
        clip = g(frames, indices)
    assert clip.shape == (2, 3, 16, 16, 24)
    assert clip.min() >= 0 and clip.max() <= 1 and torch.isfinite(clip).all()


@pytest.mark.parametrize("k", [1, 2, 4, 8])
@pytest.mark.parametrize("encoding", ["slots", "stacked"])
def test_given_frames_pass_through_at_their_positions(k, encoding):
    g = TemporalGenerator(k, ngf=4, n_blocks=1, index_encoding=encoding)
    frames = torch.rand(3, 3, k, 8, 8)
    indices = torch.stack([torch.randperm(16)[:k].sort().values for _ in range(3)])
    clip = g(frames, indices)
    for i in range(3):
        assert torch.equal(clip[i][:, indices[i]], frames[i])


def test_untrained_residual_generator_starts_from_nearest_frame_replication():
    g = TemporalGenerator(2, num_frames=8, ngf=4, n_blocks=1)
    last = g.net.model[-1]
    nn.init.zeros_(last.weight), nn.init.zeros_(last.bias)  # raw output 0: nothing but the base
    frames = 0.05 + 0.9 * torch.rand(1, 3, 2, 8, 8)
    clip = g(frames, torch.tensor([[2, 5]]))
    # Slot 3 is 1 from index 2 and 2 from index 5; slot 4 the other way round.
    expected = frames[:, :, [0, 0, 0, 0, 1, 1, 1, 1]]
    assert torch.allclose(clip, expected, atol=1e-5)


def test_k1_replication_is_the_replicate_baseline():
    g = TemporalGenerator(1, ngf=4, n_blocks=1)
    frames = torch.rand(2, 3, 1, 8, 8)
    base = g.replicate(frames, torch.tensor([[8], [0]]))
    assert torch.equal(base, frames.expand(-1, -1, 16, -1, -1))


def test_replicate_nearest_breaks_ties_toward_the_earlier_frame():
    frames = torch.arange(3.0).view(1, 1, 3, 1, 1).expand(1, 3, 3, 8, 8)  # frame j is filled with the value j
    clip = replicate_nearest(frames, torch.tensor([[1, 4, 10]]), num_frames=12)
    assert clip[0, 0, :, 0, 0].tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2]  # slot 7: 3 from 4 and 10 → 4


def test_without_indices_the_output_ignores_positions():
    torch.manual_seed(0)
    g = TemporalGenerator(2, ngf=4, n_blocks=1, use_indices=False)
    frames = torch.rand(1, 3, 2, 8, 8)
    a, b = g(frames, torch.tensor([[0, 1]])), g(frames, torch.tensor([[7, 15]]))
    assert torch.equal(a, b)
    assert g.net.model[1].in_channels == 6


def test_with_slots_the_network_itself_depends_on_positions():
    torch.manual_seed(0)
    g = TemporalGenerator(2, ngf=4, n_blocks=1, copy_given=False, residual=False)
    frames = torch.rand(1, 3, 2, 8, 8)
    a, b = g(frames, torch.tensor([[0, 1]])), g(frames, torch.tensor([[7, 15]]))
    assert not torch.allclose(a, b)  # not only the base and the copies: the network's input moved
    assert g.net.model[1].in_channels == 48


def test_stacked_encoding_hides_positions_from_the_network_only():
    torch.manual_seed(0)
    frames = torch.rand(1, 3, 2, 8, 8)
    blind = TemporalGenerator(2, ngf=4, n_blocks=1, index_encoding="stacked", copy_given=False, residual=False)
    assert torch.equal(blind(frames, torch.tensor([[0, 1]])), blind(frames, torch.tensor([[7, 15]])))
    placed = TemporalGenerator(2, ngf=4, n_blocks=1, index_encoding="stacked")
    clip = placed(frames, torch.tensor([[7, 15]]))
    assert torch.equal(clip[0][:, [7, 15]], frames[0])


def test_constant_input_planes_are_erased_by_the_first_instance_norm():
    """Why positions are fed by layout, not as constant mask or index planes."""
    g = ResnetGenerator(4, 3, ngf=4, n_blocks=1)
    x = torch.rand(1, 4, 8, 8)
    shifted = x.clone()
    shifted[:, 3] = 0.7  # a constant plane, whatever its value
    x[:, 3] = 0.2
    assert torch.allclose(g(x), g(shifted), atol=1e-5)


def test_mask_and_slot_layout():
    g = TemporalGenerator(2, num_frames=4, ngf=4, n_blocks=1)
    frames = torch.rand(1, 3, 2, 8, 8)
    slots, mask = g.place(frames, torch.tensor([[1, 3]]))
    assert mask.tolist() == [[0.0, 1.0, 0.0, 1.0]]
    assert torch.equal(slots[0, :, 1], frames[0, :, 0]) and torch.equal(slots[0, :, 3], frames[0, :, 1])
    assert slots[0, :, [0, 2]].abs().sum() == 0


@pytest.mark.parametrize("indices, size, message", [
    ([[3, 2]], 8, "sorted"), ([[2, 2]], 8, "distinct"), ([[0, 16]], 8, "0..15"), ([[0, 1]], 10, "multiples of 4"),
])
def test_bad_inputs_are_refused(indices, size, message):
    g = TemporalGenerator(2, ngf=4, n_blocks=1)
    with pytest.raises(ValueError, match=message):
        g(torch.rand(1, 3, 2, size, size), torch.tensor(indices))


def test_build_generator_uses_the_preset_sizes():
    tiny, paper = (build_generator(1, preset(name).generator, 16) for name in ("tiny", "paper"))
    assert tiny.net.model[1].out_channels == 16 and paper.net.model[1].out_channels == 64
    blocks = lambda g: sum(type(m).__name__ == "ResnetBlock" for m in g.net.model)  # noqa: E731
    assert blocks(tiny) == 2 and blocks(paper) == 9
