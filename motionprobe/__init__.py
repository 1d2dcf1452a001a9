"""motionprobe: how much does a trained video classifier use the motion in the video?"""

__version__ = "0.1.0"
