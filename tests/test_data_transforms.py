"""C3D preprocessing on uint8 frames: resize, crops, the split the frame cache relies on."""

from __future__ import annotations

import pytest
import torch

from motionprobe.data.transforms import ClipTransform, center_crop, random_crop, resize


def _ramp(t: int = 3, h: int = 240, w: int = 320) -> torch.Tensor:
    """Frames whose R channel is the column, G the row, B the frame number."""
    x = torch.zeros(t, h, w, 3, dtype=torch.uint8)
    x[..., 0] = (torch.arange(w) * 255 // (w - 1)).to(torch.uint8)
    x[..., 1] = (torch.arange(h) * 255 // (h - 1)).to(torch.uint8)[:, None]
    x[..., 2] = (torch.arange(t) * 50).to(torch.uint8)[:, None, None]
    return x


def test_c3d_eval_transform_shape_and_center():
    frames = _ramp()
    clip = ClipTransform(resize=(128, 171), crop=112)(frames)
    assert clip.dtype == torch.uint8 and clip.shape == (3, 3, 112, 112)
    # the centre crop of a left-to-right ramp keeps the middle: mean column value ≈ 127
    assert abs(clip[0].float().mean().item() - 127.5) < 2
    assert abs(clip[1].float().mean().item() - 127.5) < 2
    assert clip[2, :, 0, 0].tolist() == [0, 50, 100]  # frames keep their order


def test_resize_is_per_frame():
    frames = _ramp(t=40)
    whole = resize(frames, (64, 80))
    assert whole.shape == (40, 64, 80, 3)
    for t in (0, 17, 39):
        assert torch.equal(whole[t], resize(frames[t:t + 1], (64, 80))[0])
    assert resize(whole, (64, 80)) is whole  # already the right size: untouched


def test_random_crop_is_one_window_for_the_whole_clip():
    frames = _ramp(t=4, h=30, w=40)
    g = torch.Generator().manual_seed(1)
    crops = {tuple(random_crop(frames, 24, g)[0, 0, 0, :2].tolist()) for _ in range(50)}
    assert len(crops) > 5  # windows vary between calls
    crop = random_crop(frames, 24, g)
    assert torch.equal(crop[0, ..., :2], crop[3, ..., :2])


def test_training_crops_at_random_evaluation_at_the_centre():
    frames = _ramp(t=2, h=30, w=40)
    train = ClipTransform(resize=(30, 40), crop=24, training=True)
    evaluation = ClipTransform(resize=(30, 40), crop=24)
    g = torch.Generator().manual_seed(0)
    outs = {train(frames, g)[0, 0, 0, 0].item() for _ in range(30)}
    assert len(outs) > 3
    assert torch.equal(evaluation(frames), center_crop(frames, 24).permute(3, 0, 1, 2))


def test_hflip_only_when_asked():
    frames = _ramp(t=1, h=24, w=24)
    g = torch.Generator().manual_seed(0)
    no_flip = ClipTransform(resize=(24, 24), crop=24, training=True)
    assert all(torch.equal(no_flip(frames, g), frames.permute(3, 0, 1, 2)) for _ in range(10))
    flip = ClipTransform(resize=(24, 24), crop=24, training=True, hflip=True)
    flipped = [not torch.equal(flip(frames, g), frames.permute(3, 0, 1, 2)) for _ in range(40)]
    assert 5 < sum(flipped) < 35


def test_short_side_mode_keeps_aspect():
    t = ClipTransform(resize=(128, 171), crop=112, resize_mode="short_side")
    assert t.target_size(240, 320) == (128, 171)
    assert t.target_size(360, 640) == (128, 228)
    assert t.target_size(640, 360) == (228, 128)
    assert t(_ramp(t=1, h=360, w=640)).shape == (3, 1, 112, 112)


def test_bad_transform_settings():
    with pytest.raises(ValueError, match="larger"):
        ClipTransform(resize=(100, 100), crop=112)
    with pytest.raises(ValueError, match="resize_mode"):
        ClipTransform(resize_mode="stretch")
