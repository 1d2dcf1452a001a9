"""The two training loops (video model: supervised; generator: label-free) and their shared helpers."""
