"""Measurements of motionprobe: each module runs as `python -m benchmarks.NAME` and prints how to reproduce."""
