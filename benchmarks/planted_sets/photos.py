"""Real photographs shipped inside pip packages, so the photo set needs no network.

scikit-learn's two sample images (china.jpg: a pagoda above a lake; flower.jpg: a dahlia, 640 × 427) and
matplotlib's grace_hopper.jpg (512 × 600). Regions are boxes (x0, y0, x1, y1) in source pixels: the
*subjects* are what the appearance classes paste; the *textures* (sky, lake, trees, leaves, the flag,
the uniform) hold no subject, and serve as backgrounds and as the class-independent content of every
other object, so no background or distractor ever shows an appearance class's subject.
"""

from __future__ import annotations

from functools import cache

from PIL import Image

SUBJECTS = {"pagoda": ("china", (80, 20, 340, 300)), "dahlia": ("flower", (190, 80, 430, 330)),
            "portrait": ("hopper", (190, 10, 380, 330))}
TEXTURES = (("china", (370, 0, 640, 427)), ("flower", (0, 0, 160, 427)), ("flower", (470, 0, 640, 427)),
            ("hopper", (0, 0, 150, 420)), ("hopper", (0, 440, 512, 600)))


@cache
def photographs() -> dict[str, Image.Image]:
    try:
        from sklearn.datasets import load_sample_images
    except ImportError:
        raise SystemExit("the photo set needs scikit-learn's sample images: pip install -e '.[bench]'") from None
    from matplotlib import cbook

    china, flower = (Image.fromarray(a) for a in load_sample_images().images)
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = Image.open(f).convert("RGB")
        hopper.load()
    return {"china": china, "flower": flower, "hopper": hopper}
