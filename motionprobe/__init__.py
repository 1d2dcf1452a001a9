"""motionprobe: how much does a trained video classifier use the motion in the video?"""

__version__ = "0.1.0"


def __getattr__(name: str):
    # `motionprobe.wrap` without importing torch on `import motionprobe` (the CLI starts faster).
    if name == "wrap":
        from .models.wrapper import wrap

        return wrap
    raise AttributeError(f"module 'motionprobe' has no attribute {name!r}")
