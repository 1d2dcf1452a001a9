"""--weights: the C3D Sports-1M port's c3d.pickle, torchvision-format ResNet state dicts, our own checkpoints,
safe unpickling, head replacement for fine-tuning, and errors that name the keys."""

from __future__ import annotations

import pathlib
import pickle
import warnings

import pytest
import torch
import torch.nn.functional as F
from resnet3d_layout import expected_state_layout, random_state, reference_forward

from motionprobe.config import preset
from motionprobe.errors import UserError
from motionprobe.folders import ModelFolder
from motionprobe.models import build_model, wrap
from motionprobe.models.c3d import C3D
from motionprobe.weights.formats.pytorch import read_torch_weights
from motionprobe.weights.load import apply_pretrained, strip_shared_prefix


def model_of(cfg, num_classes, **kw):
    """The model a config describes: `build_model` takes its model and data sections."""
    return build_model(cfg.model, cfg.data, num_classes, **kw)

SPORTS1M_MEAN_BGR = torch.tensor([90.25, 97.66, 101.41]).view(1, 3, 1, 1, 1)
KINETICS_MEAN = torch.tensor([0.43216, 0.394666, 0.37645]).view(1, 3, 1, 1, 1)
KINETICS_STD = torch.tensor([0.22803, 0.22145, 0.216989]).view(1, 3, 1, 1, 1)

# The port's c3d.pickle, written from the C3D paper: 3×3×3 convs, fc6 on the 512×1×4×4 pool5, 487 classes.
C3D_CONVS = [("conv1", 3, 64), ("conv2", 64, 128), ("conv3a", 128, 256), ("conv3b", 256, 256), ("conv4a", 256, 512),
             ("conv4b", 512, 512), ("conv5a", 512, 512), ("conv5b", 512, 512)]


def c3d_pickle_layout(width: float = 1.0, fc: int = 4096, classes: int = 487) -> dict[str, tuple[int, ...]]:
    def w(c: int) -> int:
        return max(1, round(c * width))

    layout = {}
    for name, cin, cout in C3D_CONVS:
        layout[f"{name}.weight"] = (w(cout), 3 if name == "conv1" else w(cin), 3, 3, 3)
        layout[f"{name}.bias"] = (w(cout),)
    for name, cin, cout in (("fc6", w(512) * 16, fc), ("fc7", fc, fc), ("fc8", fc, classes)):
        layout[f"{name}.weight"] = (cout, cin)
        layout[f"{name}.bias"] = (cout,)
    return layout


def fake_c3d_state(width: float = 1.0, fc: int = 4096, classes: int = 487, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in c3d_pickle_layout(width, fc, classes).items():
        fan_in = torch.Size(shape[1:]).numel() if len(shape) > 1 else 1
        scale = (2.0 / fan_in) ** 0.5 if len(shape) > 1 else 0.01
        state[key] = torch.randn(shape, generator=g) * scale
    return state


def port_forward(state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The port's network, restated with functional ops: ReLU convs, max pools, fc6/fc7 ReLU, softmax."""

    def conv(h, name):
        return F.relu(F.conv3d(h, state[f"{name}.weight"], state[f"{name}.bias"], padding=1))

    h = F.max_pool3d(conv(x, "conv1"), (1, 2, 2), (1, 2, 2))
    h = F.max_pool3d(conv(h, "conv2"), 2, 2)
    h = F.max_pool3d(conv(conv(h, "conv3a"), "conv3b"), 2, 2)
    h = F.max_pool3d(conv(conv(h, "conv4a"), "conv4b"), 2, 2)
    h = F.max_pool3d(conv(conv(h, "conv5a"), "conv5b"), 2, 2, padding=(0, 1, 1))
    h = h.reshape(h.shape[0], -1)
    h = F.relu(F.linear(h, state["fc6.weight"], state["fc6.bias"]))
    h = F.relu(F.linear(h, state["fc7.weight"], state["fc7.bias"]))
    return F.softmax(F.linear(h, state["fc8.weight"], state["fc8.bias"]), dim=1)


def sports1m_by_hand(clip: torch.Tensor) -> torch.Tensor:
    """A 128×171 RGB [0, 1] clip → center 112×112 crop (rows 8..119, columns 29..140), 0–255, BGR, minus mean."""
    crop = clip[..., 8:120, 29:141] * 255.0
    return crop[:, [2, 1, 0]] - SPORTS1M_MEAN_BGR


def c3d_cfg(width: float = 0.125, fc: int = 32):
    cfg = preset("paper")
    cfg = cfg.evolve(model={"width": width, "fc_dim": fc})
    return cfg


# -- C3D Sports-1M ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_full_size_c3d_pickle_gives_native_logits(tmp_path):
    """The exact c3d.pickle keys and shapes (79,991,015 parameters) load, and the wrapped model's logits
    equal C3D run with the file's tensors as they are, on the hand-preprocessed clip."""
    state = fake_c3d_state()
    assert sum(v.numel() for v in state.values()) == 79_991_015 and len(state) == 22
    torch.save(state, tmp_path / "c3d.pickle")
    model = apply_pretrained(model_of(preset("paper"), 487), tmp_path / "c3d.pickle", "c3d", 487).eval()
    assert model.spec.extra["weights"]["head_replaced"] is False
    clip = torch.rand(1, 3, 16, 128, 171, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ours = model(clip)
        native = torch.func.functional_call(model.net, state, (sports1m_by_hand(clip),))
    assert torch.allclose(ours, native, atol=1e-5, rtol=1e-5)


def test_c3d_logits_are_the_ports_pre_softmax_values(tmp_path):
    """The port's forward ends in softmax; ours returns logits: softmax(ours) is the port's output."""
    state = fake_c3d_state(0.125, 32, seed=1)
    torch.save(state, tmp_path / "c3d.pickle")
    model = apply_pretrained(model_of(c3d_cfg(), 487), tmp_path / "c3d.pickle", "c3d", 487).eval()
    native = C3D(487, width=0.125, fc_dim=32).eval()
    native.load_state_dict(state)
    clip = torch.rand(2, 3, 16, 128, 171, generator=torch.Generator().manual_seed(3))
    x = sports1m_by_hand(clip)
    with torch.no_grad():
        ours = model(clip)
        assert torch.allclose(ours, native(x), atol=1e-5, rtol=1e-5)
        assert torch.allclose(ours.softmax(1), port_forward(state, x), atol=1e-6, rtol=1e-4)


def test_sports1m_preprocessing_matches_hand_computation(tmp_path):
    torch.save(fake_c3d_state(0.125, 32), tmp_path / "c3d.pickle")
    model = apply_pretrained(model_of(c3d_cfg(), 487), tmp_path / "c3d.pickle", "c3d", 487)
    p = model.preprocessing
    assert (p.channel_order, p.value_scale, p.crop, p.resize) == ("bgr", 255.0, (112, 112), (128, 171))

    clip = torch.rand(2, 3, 16, 128, 171)  # already 128×171: only the crop, scale, order and mean act
    assert torch.allclose(model.preprocess(clip), sports1m_by_hand(clip), atol=1e-4)

    # a constant-colour clip of another size: resized and cropped, every pixel is (B, G, R)·255 − mean
    rgb = torch.tensor([0.2, 0.5, 0.9])
    flat = rgb.view(1, 3, 1, 1, 1).expand(1, 3, 16, 64, 80)
    out = model.preprocess(flat)
    assert out.shape == (1, 3, 16, 112, 112)
    expected = rgb.flip(0) * 255 - SPORTS1M_MEAN_BGR.view(3)  # B: 0.9·255 − 90.25 = 139.25, …
    assert torch.allclose(out.amax(dim=(2, 3, 4))[0], expected, atol=1e-3)
    assert torch.allclose(out.amin(dim=(2, 3, 4))[0], expected, atol=1e-3)


def test_head_replaced_for_another_class_count(tmp_path):
    state = fake_c3d_state(0.125, 32)
    torch.save(state, tmp_path / "c3d.pickle")
    model = model_of(c3d_cfg(), 101)
    fresh_head = model.net.fc8.weight.detach().clone()
    apply_pretrained(model, tmp_path / "c3d.pickle", "c3d", 101)
    report = model.spec.extra["weights"]
    assert report["head_replaced"] and report["file_classes"] == 487 and report["num_classes"] == 101
    assert report["tensors_loaded"] == 20
    assert model.net.fc8.weight.shape == (101, 32)
    assert torch.equal(model.net.fc8.weight, fresh_head)  # the registry's fresh head, for fine-tuning
    assert torch.equal(model.net.conv3b.weight, state["conv3b.weight"])
    assert torch.equal(model.net.fc7.bias, state["fc7.bias"])


def test_head_kept_when_class_counts_agree(tmp_path):
    state = fake_c3d_state(0.125, 32, classes=7)
    torch.save(state, tmp_path / "c3d.pickle")
    model = apply_pretrained(model_of(c3d_cfg(), 7), tmp_path / "c3d.pickle", "c3d", 7)
    assert torch.equal(model.net.fc8.weight, state["fc8.weight"])
    assert model.spec.extra["weights"]["head_replaced"] is False


def test_wrong_shapes_and_keys_are_named(tmp_path):
    torch.save(fake_c3d_state(0.25, 32), tmp_path / "wide.pickle")
    with pytest.raises(UserError) as e:
        apply_pretrained(model_of(c3d_cfg(0.125), 487), tmp_path / "wide.pickle", "c3d", 487)
    msg = str(e.value)
    assert "\n" not in msg and "wide.pickle" in msg
    assert "conv1.weight (16, 3, 3, 3, 3) != (8, 3, 3, 3, 3)" in msg and "the paper preset" in msg

    state = fake_c3d_state(0.125, 32)
    del state["conv3a.bias"]
    state["conv6.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "odd.pickle")
    with pytest.raises(UserError, match=r"missing conv3a\.bias.*unexpected conv6\.weight"):
        apply_pretrained(model_of(c3d_cfg(), 487), tmp_path / "odd.pickle", "c3d", 487)


def test_checkpoint_containers_and_dataparallel_prefix(tmp_path):
    state = fake_c3d_state(0.125, 32)
    wrapped = {"epoch": 3, "best_acc": 0.5, "state_dict": {f"module.{k}": v for k, v in state.items()}}
    torch.save(wrapped, tmp_path / "ckpt.pt")
    model = apply_pretrained(model_of(c3d_cfg(), 487), tmp_path / "ckpt.pt", "c3d", 487)
    assert all(torch.equal(model.net.state_dict()[k], v) for k, v in state.items())

    assert sorted(strip_shared_prefix({"net.a.w": 1, "net.b": 2}, {"a.w", "b"})) == ["a.w", "b"]
    assert sorted(strip_shared_prefix({"x.a": 1, "y.b": 2}, {"a", "b"})) == ["x.a", "y.b"]  # nothing shared


# -- refusing code ---------------------------------------------------------------------------------------------


class _Payload:
    """Unpickling this would create a file (a stand-in for any code the file asks to run)."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


@pytest.mark.parametrize("protocol", [None, 2])
def test_malicious_pickle_refused_without_running_it(tmp_path, protocol):
    """torch.save's zip format (protocol None) and a bare legacy pickle (protocol 2), both asking to call a function."""
    marker = tmp_path / "payload-ran"
    bad = tmp_path / "c3d.pickle"
    obj = {"conv1.weight": _Payload(marker)}
    if protocol is None:
        torch.save(obj, bad)
    else:
        with bad.open("wb") as f:
            pickle.dump(obj, f, protocol=protocol)
    model = model_of(c3d_cfg(), 487)
    before = {k: v.clone() for k, v in model.net.state_dict().items()}
    with pytest.raises(UserError) as e:
        apply_pretrained(model, bad, "c3d", 487)
    assert not marker.exists()
    msg = str(e.value)
    assert "\n" not in msg and str(bad) in msg and "refused" in msg and "never runs code" in msg
    assert all(torch.equal(before[k], v) for k, v in model.net.state_dict().items())


def test_pickle_protocols_torch_cannot_read_safely_are_refused_too(tmp_path):
    marker = tmp_path / "payload-ran"
    with (tmp_path / "p5.pkl").open("wb") as f:
        pickle.dump({"w": _Payload(marker)}, f, protocol=5)
    with warnings.catch_warnings(), pytest.raises(UserError, match=r"p5\.pkl is not a readable PyTorch weights file"):
        warnings.simplefilter("ignore")  # torch notes the protocol it does not expect
        read_torch_weights(tmp_path / "p5.pkl")
    assert not marker.exists()


def test_unreadable_and_missing_files(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a weights file at all")
    with pytest.raises(UserError, match=r"junk\.pth is not a readable PyTorch weights file \(not a pickle"):
        read_torch_weights(junk)
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(UserError, match="does not hold a state dict"):
        read_torch_weights(tmp_path / "list.pt")
    torch.save({"a": torch.zeros(1), "b": "text"}, tmp_path / "mixed.pt")
    with pytest.raises(UserError, match="not named tensors: b"):
        read_torch_weights(tmp_path / "mixed.pt")
    with pytest.raises(UserError, match="nowhere.pth not found"):
        apply_pretrained(model_of(c3d_cfg(), 5), tmp_path / "nowhere.pth", "c3d", 5)


# -- torchvision-format ResNets --------------------------------------------------------------------------------


def test_torchvision_r3d_18_state_dict_gives_the_published_outputs(tmp_path):
    """A state dict in torchvision's exact layout (written from the architecture) loads unchanged; the
    model normalizes with Kinetics statistics and computes what the published network computes."""
    state = random_state(expected_state_layout("r3d_18"), seed=4)
    torch.save(state, tmp_path / "r3d_18.pth")
    cfg = preset("paper")
    cfg = cfg.evolve(model={"arch": "r3d_18"})
    model = apply_pretrained(build_model(cfg.model, cfg.data, 400), tmp_path / "r3d_18.pth", "r3d_18", 400).eval()
    p = model.preprocessing
    assert (p.crop, p.resize, p.channel_order, p.value_scale) == ((112, 112), (128, 171), "rgb", 1.0)
    assert model.spec.extra["weights"]["format"] == "torchvision"

    clip = torch.rand(1, 3, 4, 112, 112, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ours = model(clip)
        ref = reference_forward(state, "r3d_18", (clip - KINETICS_MEAN) / KINETICS_STD)
    assert torch.allclose(ours, ref, atol=1e-4, rtol=1e-4), (ours - ref).abs().max()


@pytest.mark.parametrize("arch", ["mc3_18", "r2plus1d_18"])
def test_torchvision_resnets_fine_tune_head_and_old_batchnorm_files(tmp_path, arch):
    """Kinetics 400-way head replaced for 10 classes; a file saved before BatchNorm counted batches loads."""
    state = {k: v for k, v in random_state(expected_state_layout(arch), seed=6).items()
             if not k.endswith("num_batches_tracked")}
    torch.save({"model": state}, tmp_path / f"{arch}.pth")
    cfg = preset("paper")
    cfg = cfg.evolve(model={"arch": arch})
    model = apply_pretrained(build_model(cfg.model, cfg.data, 10), tmp_path / f"{arch}.pth", arch, 10)
    assert model.net.fc.weight.shape == (10, 512)
    assert model.spec.extra["weights"]["head_replaced"] and model.spec.extra["weights"]["file_classes"] == 400
    assert torch.equal(model.net.layer3.state_dict()["1.conv2.1.running_var"], state["layer3.1.conv2.1.running_var"])


# -- our own checkpoints and user models -----------------------------------------------------------------------


def test_motionprobe_folder_and_safetensors_round_trip(tmp_path):
    cfg = preset("tiny")
    trained = build_model(cfg.model, cfg.data, 10).eval()
    for prm in trained.parameters():
        prm.data.normal_(0, 0.05)
    trained.set_preprocessing(trained.preprocessing.__class__(mean=(0.1, 0.2, 0.3), std=(0.5, 0.5, 0.5)))
    ModelFolder(tmp_path / "run").save(trained, cfg, [f"c{i}" for i in range(10)])
    clip = torch.rand(2, 3, 16, 32, 32)
    with torch.no_grad():
        expected = trained(clip)
    for source in (tmp_path / "run", tmp_path / "run" / "model.safetensors"):
        model = apply_pretrained(build_model(cfg.model, cfg.data, 10), source, "c3d", 10).eval()
        assert model.preprocessing.mean == (0.1, 0.2, 0.3)
        assert model.spec.extra["weights"]["format"] == "motionprobe"
        with torch.no_grad():
            assert torch.equal(model(clip), expected)
    # fine-tuning our own 10-class model on a 4-class dataset
    model = apply_pretrained(build_model(cfg.model, cfg.data, 4), tmp_path / "run", "c3d", 4)
    assert model.spec.extra["weights"]["head_replaced"] and model.net.fc8.out_features == 4
    cfg = cfg.evolve(model={"arch": "r3d_18"})
    with pytest.raises(UserError, match="holds a 'c3d' model, but the architecture is 'r3d_18'"):
        apply_pretrained(build_model(cfg.model, cfg.data, 10), tmp_path / "run", "r3d_18", 10)


def test_imported_weights_survive_save_and_load(tmp_path):
    torch.save(fake_c3d_state(0.125, 32), tmp_path / "c3d.pickle")
    cfg = c3d_cfg()
    model = apply_pretrained(build_model(cfg.model, cfg.data, 5), tmp_path / "c3d.pickle", "c3d", 5).eval()
    ModelFolder(tmp_path / "ft").save(model, cfg, list("abcde"))
    again, meta = ModelFolder(tmp_path / "ft").load()
    assert again.preprocessing == model.preprocessing
    assert meta["spec"]["extra"]["weights"]["source"].endswith("c3d.pickle")
    clip = torch.rand(1, 3, 16, 128, 171)
    with torch.no_grad():
        assert torch.equal(again(clip), model(clip))


def test_user_model_weights_by_its_own_names(tmp_path):
    def user_net(classes: int) -> torch.nn.Module:
        return torch.nn.Sequential(torch.nn.Conv3d(3, 4, 3), torch.nn.AdaptiveAvgPool3d(1), torch.nn.Flatten(),
                                   torch.nn.Linear(4, classes))

    source = user_net(6)
    torch.save({f"module.{k}": v for k, v in source.state_dict().items()}, tmp_path / "mine.pt")
    model = apply_pretrained(wrap(user_net(6), input_size=(16, 16)), tmp_path / "mine.pt", "c3d", 6)
    assert model.spec.extra["weights"]["format"] == "state-dict"  # arch says c3d, but the network is not
    assert torch.equal(model.net[0].weight, source[0].weight)
    model = apply_pretrained(wrap(user_net(2), input_size=(16, 16)), tmp_path / "mine.pt", "c3d", 2)
    assert model.spec.extra["weights"]["head"] == "3" and model.spec.extra["weights"]["head_replaced"]
