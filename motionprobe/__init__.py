"""motionprobe: how much does a trained video classifier use the motion in the video?"""

from .version import __version__ as __version__


def __getattr__(name: str):
    # `motionprobe.wrap` without importing torch on `import motionprobe` (the CLI starts faster).
    if name == "wrap":
        from .models.wrapper import wrap

        return wrap
    raise AttributeError(f"module 'motionprobe' has no attribute {name!r}")
