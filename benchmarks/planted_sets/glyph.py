"""Set "glyph": printed characters on cluttered, noisy backgrounds, 40 × 56 (portrait), 10–40 frames.

Glyphs are drawn with the fonts matplotlib ships (DejaVu and STIX, eight faces), in a random bright colour
with a dark rim. Every video: a two-colour gradient with faint strokes and punctuation, a shaking camera
(a random jitter of up to 3 pixels a frame), Gaussian and salt-and-pepper noise. Three in ten videos are
shorter than a 16-frame clip (10–15 frames), so the short-video policy matters. Positions wrap around.

- appearance (at_sign, ampersand, seven, kay: @ & 7 K): which character it is decides, in any face,
  colour, size and slant, drifting at random.
- motion (rise, sink, grow, shrink): a random lower-case letter (the same choice in every class) moves up or
  down, or grows or shrinks by 6–9 % a frame (its size wraps from largest to smallest); its place and size
  in any one frame are uniform, so one frame is at chance inside the group.
- keyframe (burst_star, burst_hash, burst_border): a random digit drifts; 2-frame events, 6–12 frames apart
  (so every 16-frame clip holds at least one, at a variable place), show a large ★ or # somewhere, or a
  thick border around the picture.
- implied (echo_left, echo_right): a random lower-case letter slides sideways with three fading copies
  trailing behind it (onion skin): every frame shows the direction.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .canvas import paste, shifted, to_array, to_uint8, with_alpha

APPEARANCE = {"at_sign": "@", "ampersand": "&", "seven": "7", "kay": "K"}
MOTION = ("rise", "sink", "grow", "shrink")
KEYFRAME = ("burst_star", "burst_hash", "burst_border")
IMPLIED = ("echo_left", "echo_right")
CLASSES = (*APPEARANCE, *MOTION, *KEYFRAME, *IMPLIED)
KIND = {**{c: "appearance" for c in APPEARANCE}, **{c: "motion" for c in MOTION},
        **{c: "keyframe" for c in KEYFRAME}, **{c: "implied" for c in IMPLIED}}
TRUTH = {
    "appearance": "which printed character (@, &, 7, K) is shown decides, whatever its face, colour, size or drift; "
                  "any single frame shows the class",
    "motion": "every class shows a random lower-case letter at a uniformly random place and size; only how it "
              "changes decides (moves up, moves down, grows, shrinks); a single frame is at chance inside the group",
    "keyframe": "2-frame events 6 to 12 frames apart (a large star, a large hash, a thick border) decide; every "
                "16-frame clip holds at least one; the other frames are at chance inside the group",
    "implied": "a letter sliding left or right trails three fading copies of itself: every frame shows the direction",
}
SIZE = (56, 40)  # height, width
SHORT_SHARE, SHORT, LONG = 0.3, (10, 15), (16, 40)  # frames per video, both ends included
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
         "DejaVuSansMono.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf")
LETTERS = "abdeghnpqrsuvwyz"  # the motion and implied groups' characters: none is an appearance class's
DIGITS = "012345689"  # the key-frame group's drifting character (no 7: that is a class)
CLUTTER = ",.;:-~^'\"_"
GLYPH_PX = 22  # font size the glyphs are drawn at before scaling
SCALES = (0.6, 1.6)  # the motion group's size range; grow and shrink wrap around it
EVENT_GAP = (6, 12)  # frames between two 2-frame events: a start every 8–14 frames
SHAKE = 3  # camera jitter bound, pixels
RISE = {"rise": -1.0, "sink": 1.0}
GROWTH = {"grow": 1.0, "shrink": -1.0}
ECHO = {"echo_left": -1.0, "echo_right": 1.0}
EVENT_COLORS = {"burst_star": (1.0, 0.85, 0.1), "burst_hash": (0.1, 0.9, 1.0), "burst_border": (1.0, 0.2, 0.9)}


def render(label: int, rng: np.random.Generator, length: int | None = None) -> tuple[np.ndarray, dict]:
    """One video of class `CLASSES[label]`: uint8 (T, 56, 40, 3) and what was planted in it; `length` fixes T."""
    name = CLASSES[label]
    kind = KIND[name]
    span = SHORT if rng.random() < SHORT_SHARE else LONG
    frames_count = length or int(rng.integers(span[0], span[1] + 1))
    background = _background(rng, frames_count)
    h, w = SIZE
    x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
    drift = rng.uniform(0.0, 1.0) * _unit(rng.uniform(0, 2 * np.pi))
    scale0, slant, growth, echo = rng.uniform(0.8, 1.2), rng.uniform(-0.2, 0.2), 0.0, 0.0
    info: dict = {}
    if kind == "appearance":
        char = APPEARANCE[name]
    elif kind == "keyframe":
        char = DIGITS[int(rng.integers(len(DIGITS)))]
    else:
        char = LETTERS[int(rng.integers(len(LETTERS)))]
    if name in RISE:
        drift = np.array([0.0, RISE[name] * rng.uniform(1.0, 2.0)])
    if kind == "motion":
        scale0 = float(np.exp(rng.uniform(*np.log(SCALES))))
    if name in GROWTH:
        drift = rng.uniform(0.0, 0.4) * _unit(rng.uniform(0, 2 * np.pi))
        growth = GROWTH[name] * rng.uniform(0.06, 0.09)
        info["growth_per_frame"] = round(growth, 4)
    if name in ECHO:
        drift, echo = np.array([ECHO[name] * rng.uniform(1.2, 2.0), 0.0]), 4.0
    glyph = _glyph(char, FONTS[int(rng.integers(len(FONTS)))], _bright(rng))
    key_frames, events = _events(name, rng, frames_count)
    noise = rng.uniform(0.03, 0.06)

    frames = np.empty((frames_count, *SIZE, 3), dtype=np.float32)
    for t in range(frames_count):
        frame = background(t)
        cx, cy = x0 + drift[0] * t, y0 + drift[1] * t
        scale = _wrapped_scale(scale0, growth * t) if growth else scale0
        for k, opacity in ((3, 0.22), (2, 0.4), (1, 0.6)) if echo else ():
            paste(frame, glyph, cx - np.sign(drift[0]) * echo * k, cy, slant, scale, opacity)
        paste(frame, glyph, cx, cy, slant, scale)
        if t in events:
            _event(frame, events[t])
        frames[t] = frame
    frames += rng.normal(0.0, noise, frames.shape).astype(np.float32)
    salt = rng.random(frames.shape[:3]) < 0.005
    frames[salt] = rng.integers(0, 2, (int(salt.sum()), 1)).astype(np.float32)
    return to_uint8(frames), {"kind": kind, "num_frames": frames_count, "key_frames": key_frames, "character": char,
                              "start": [round(float(x0), 4), round(float(y0), 4)],
                              "velocity": [round(float(v), 4) for v in drift], **info}


def _unit(angle: float) -> np.ndarray:
    return np.array([np.cos(angle), np.sin(angle)])


def _bright(rng: np.random.Generator) -> np.ndarray:
    """A saturated, bright colour of random hue."""
    hue = rng.uniform(0, 1)
    rgb = np.clip(np.abs((hue * 6 + np.array([0.0, 4.0, 2.0])) % 6 - 3) - 1, 0, 1)
    return (0.35 + 0.65 * rgb) * rng.uniform(0.85, 1.0)


def _wrapped_scale(scale0: float, log_change: float) -> float:
    """scale0 · e^log_change, wrapped around SCALES in log space (largest → smallest), so sizes stay uniform."""
    lo, hi = np.log(SCALES)
    return float(np.exp(lo + (np.log(scale0) + log_change - lo) % (hi - lo)))


@cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    import matplotlib

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)


def _glyph(char: str, font_name: str, color: np.ndarray, size: int = GLYPH_PX) -> np.ndarray:
    """The character as a sprite: `color` where it is inked, a one-pixel dark rim around it."""
    font = _font(font_name, size)
    left, top, right, bottom = font.getbbox(char)
    pad = 2
    ink = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(ink).text((pad - left, pad - top), char, font=font, fill=255)
    alpha = np.asarray(ink, dtype=np.float32)[..., None] / 255.0
    rim = np.asarray(ink.filter(ImageFilter.MaxFilter(3)), dtype=np.float32) / 255.0
    return with_alpha(alpha * color + (1 - alpha) * 0.05, rim)


def _background(rng: np.random.Generator, frames_count: int):
    """A gradient with faint strokes and punctuation, seen through a shaking camera: frame t → (H, W, 3)."""
    h, w = SIZE
    big = (h + 2 * SHAKE + 1, w + 2 * SHAKE + 1)
    along = np.dot(np.stack(np.mgrid[0:big[0], 0:big[1]], -1)[..., ::-1], _unit(rng.uniform(0, 2 * np.pi)))
    along = (along - along.min()) / (np.ptp(along) + 1e-6)
    c0, c1 = rng.uniform(0.2, 0.65, 3), rng.uniform(0.2, 0.65, 3)
    base = Image.fromarray(np.round(255 * (c0 + along[..., None] * (c1 - c0))).astype(np.uint8))
    draw = ImageDraw.Draw(base)

    def faint() -> tuple[int, ...]:
        return tuple(int(v) for v in np.clip(255 * (rng.uniform(0.2, 0.65) + rng.uniform(-0.08, 0.08, 3)), 0, 255))

    for _ in range(int(rng.integers(8, 13))):
        ends = rng.uniform(0, 1, (2, 2)) * big[::-1]
        draw.line([tuple(ends[0]), tuple(ends[1])], fill=faint(), width=1)
    for _ in range(int(rng.integers(4, 7))):
        font = _font(FONTS[int(rng.integers(len(FONTS)))], int(rng.integers(10, 15)))
        draw.text((rng.uniform(0, big[1]), rng.uniform(0, big[0])), CLUTTER[int(rng.integers(len(CLUTTER)))],
                  font=font, fill=faint())
    picture = to_array(base)
    jitter = np.clip(rng.normal(0.0, 0.8, (frames_count, 2)), -SHAKE, SHAKE) + SHAKE
    return lambda t: shifted(picture, jitter[t, 0], jitter[t, 1], SIZE)


def _events(name: str, rng: np.random.Generator, frames_count: int) -> tuple[list[int], dict[int, tuple]]:
    """Key frames and, per key frame, where its event is drawn: 2-frame events starting at 0–7 and then every
    8–14 frames, so any 16 consecutive frames hold a whole event."""
    if KIND[name] != "keyframe":
        return [], {}
    events, start = {}, int(rng.integers(0, 8))
    h, w = SIZE
    symbol = {"burst_star": "★", "burst_hash": "#"}.get(name)  # burst_border draws no symbol
    while start < frames_count:
        color = np.array(EVENT_COLORS[name], dtype=np.float32) * rng.uniform(0.85, 1.0)
        sprite = _glyph(symbol, "DejaVuSans-Bold.ttf", color, size=int(rng.integers(30, 37))) if symbol else None
        where = (rng.uniform(0.25 * w, 0.75 * w), rng.uniform(0.2 * h, 0.8 * h), color, sprite)
        for t in (start, start + 1):
            if t < frames_count:
                events[t] = where
        start += 2 + int(rng.integers(EVENT_GAP[0], EVENT_GAP[1] + 1))
    return sorted(events), events


def _event(frame: np.ndarray, where: tuple) -> None:
    x, y, color, sprite = where
    if sprite is None:  # a thick border
        frame[:4], frame[-4:], frame[:, :4], frame[:, -4:] = color, color, color, color
    else:
        paste(frame, sprite, x, y)
