"""Set "photo": objects cut from real photographs over photographed backgrounds, 64 × 48, 24–48 frames.

Every video: a background cut from a photograph's subject-free texture (photos.py), panned by a
class-independent camera; three small distractors cut from the same textures, drifting at random; one
object that carries the class; pixel noise and a per-video exposure. Positions wrap around the edges.

- appearance (dahlia, pagoda, portrait): the photographed subject, cut out (disk, rounded square,
  ellipse), drifting in a random direction at a random speed. Any single frame shows the class.
- motion (roll_ne, roll_sw, spin_cw, spin_ccw): every class draws the same kind of object, a wheel (a disk
  of photo texture, white rim, one dark spoke) at a uniformly random place and angle. roll_* translate
  diagonally (up-right, down-left) without turning; spin_* turn 26–40° a frame (clockwise or not) while
  drifting slowly at random. One frame is at chance inside the group; two consecutive frames decide.
- keyframe (flash_negative, flash_overexposed): a framed photo card drifts at random; every 16 frames, for
  2 consecutive frames, the whole picture turns to its photographic negative or is washed out to white.
  Any 16-frame clip of the video holds exactly 2 flash frames; all its other frames are at chance.
- implied (comet_up, comet_down): a small bright head (dark-rimmed) moves vertically, 2–3 pixels a frame, with
  a motion-blur streak fading behind it, bright over a wider dark one so that it shows on the sky as on the
  leaves: the model may learn the motion, but every frame shows the direction.
"""

from __future__ import annotations

import numpy as np

from .canvas import crop_resized, disk_alpha, paste, shifted, to_uint8, torus_offsets, with_alpha
from .photos import SUBJECTS, TEXTURES, photographs

APPEARANCE = ("dahlia", "pagoda", "portrait")
MOTION = ("roll_ne", "roll_sw", "spin_cw", "spin_ccw")
KEYFRAME = ("flash_negative", "flash_overexposed")
IMPLIED = ("comet_up", "comet_down")
CLASSES = APPEARANCE + MOTION + KEYFRAME + IMPLIED
KIND = {**{c: "appearance" for c in APPEARANCE}, **{c: "motion" for c in MOTION},
        **{c: "keyframe" for c in KEYFRAME}, **{c: "implied" for c in IMPLIED}}
TRUTH = {
    "appearance": "which photographed subject (dahlia, pagoda, portrait) is cut out and pasted decides; it drifts "
                  "at random; any single frame shows the class",
    "motion": "every class shows the same wheel of photo texture at a uniformly random place and angle; only how it "
              "moves decides (diagonal roll up-right or down-left, clockwise or anticlockwise spin); a single frame is "
              "at chance inside the group",
    "keyframe": "every 16 frames, 2 consecutive frames turn negative or wash out to white: any 16-frame clip holds "
                "exactly 2 such frames, which decide; the others are at chance inside the group",
    "implied": "a head moving up or down draws a motion-blur streak behind it: motion the model may use, but every "
               "frame shows the direction",
}
SIZE = (48, 64)  # height, width
LENGTHS = (24, 48)  # frames per video, both included
FLASH_PERIOD = 16
DIAGONALS = {"roll_ne": (1.0, -1.0), "roll_sw": (-1.0, 1.0)}  # screen coordinates: y grows downwards
SPIN = {"spin_cw": 1.0, "spin_ccw": -1.0}  # positive angles turn clockwise on screen (canvas.paste)
COMETS = {"comet_up": -1.0, "comet_down": 1.0}


def render(label: int, rng: np.random.Generator, length: int | None = None) -> tuple[np.ndarray, dict]:
    """One video of class `CLASSES[label]`: uint8 (T, 48, 64, 3) and what was planted in it; `length` fixes T."""
    name = CLASSES[label]
    kind = KIND[name]
    frames_count = length or int(rng.integers(LENGTHS[0], LENGTHS[1] + 1))
    background, camera = _background(rng, frames_count)
    distractors = [_distractor(rng) for _ in range(3)]
    sprite, pose, info = _object(name, rng)
    key_frames = []
    if kind == "keyframe":
        phase = int(rng.integers(0, FLASH_PERIOD))
        key_frames = [t for t in range(frames_count) if (t - phase) % FLASH_PERIOD in (0, 1)]
    exposure = rng.uniform(0.85, 1.15) * (1 + rng.uniform(-0.04, 0.04, 3)).astype(np.float32)
    noise = rng.uniform(0.015, 0.035)

    frames = np.empty((frames_count, *SIZE, 3), dtype=np.float32)
    for t in range(frames_count):
        frame = background(t)
        for d_sprite, (x0, y0, vx, vy) in distractors:
            paste(frame, d_sprite, x0 + vx * t, y0 + vy * t)
        if kind == "implied":
            # a dark, wider streak under the bright one: seen on the sky as on the leaves
            _streak(frame, *pose(t)[:2], info["velocity"], np.full(3, 0.05, np.float32), info["tail"],
                    2.2 * sprite.shape[0], 0.85)
            _streak(frame, *pose(t)[:2], info["velocity"], info["color"], info["tail"], sprite.shape[0], 0.95)
        cx, cy, angle = pose(t)
        paste(frame, sprite, cx, cy, angle)
        frame *= exposure
        if t in key_frames:
            frame[:] = 1.0 - frame if name == "flash_negative" else 0.3 * frame + 0.7
        frames[t] = frame
    frames *= 1 + rng.normal(0, 0.015, (frames_count, 1, 1, 1)).astype(np.float32)  # flicker
    frames += rng.normal(0.0, noise, frames.shape).astype(np.float32)
    info.pop("color", None)
    info.pop("tail", None)
    return to_uint8(frames), {"kind": kind, "num_frames": frames_count, "key_frames": key_frames,
                              "camera": [round(float(c), 4) for c in camera], **info}


def _texture_crop(rng: np.random.Generator, size: tuple[int, int], zoom: tuple[float, float]) -> np.ndarray:
    """A `size` (h, w) picture cut from a random texture region, `zoom` source pixels per output pixel."""
    photo, (x0, y0, x1, y1) = TEXTURES[int(rng.integers(len(TEXTURES)))]
    h, w = size
    s = min(rng.uniform(*zoom), (x1 - x0) / w, (y1 - y0) / h)
    left, top = rng.uniform(x0, max(x0, x1 - w * s)), rng.uniform(y0, max(y0, y1 - h * s))  # max: rounding
    return crop_resized(photographs()[photo], (left, top, left + w * s, top + h * s), size)


def _background(rng: np.random.Generator, frames_count: int):
    """A photographed texture panned by a random camera: frame t → (H, W, 3), and the pan (pixels a frame)."""
    h, w = SIZE
    angle, speed = rng.uniform(0, 2 * np.pi), rng.uniform(0.0, 0.8)
    vx, vy = speed * np.cos(angle), speed * np.sin(angle)
    strip_size = (h + int(np.ceil(abs(vy) * (frames_count - 1))) + 2, w + int(np.ceil(abs(vx) * (frames_count - 1))) + 2)
    strip = _texture_crop(rng, strip_size, (1.2, 2.5))
    start_y = (strip_size[0] - h - 1) / 2 - vy * (frames_count - 1) / 2  # the path centred in the strip
    start_x = (strip_size[1] - w - 1) / 2 - vx * (frames_count - 1) / 2
    return (lambda t: shifted(strip, start_y + vy * t, start_x + vx * t, SIZE)), (vx, vy)


def _distractor(rng: np.random.Generator) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    size = int(rng.integers(4, 8))
    sprite = with_alpha(_texture_crop(rng, (size, size), (2.0, 6.0)), disk_alpha(size))
    angle, speed = rng.uniform(0, 2 * np.pi), rng.uniform(0.0, 1.5)
    h, w = SIZE
    return sprite, (rng.uniform(0, w), rng.uniform(0, h), speed * np.cos(angle), speed * np.sin(angle))


def _object(name: str, rng: np.random.Generator):
    """The class's object: its sprite, its pose over time t → (cx, cy, angle), and what to record."""
    h, w = SIZE
    x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
    drift_angle = rng.uniform(0, 2 * np.pi)
    kind = KIND[name]
    info: dict = {}
    if kind == "appearance":
        sprite = _subject(name, rng)
        speed, angle0, spin = rng.uniform(0.0, 1.5), 0.0, 0.0
        velocity = speed * np.array([np.cos(drift_angle), np.sin(drift_angle)])
    elif kind == "motion":
        sprite = _wheel(rng)
        angle0 = rng.uniform(0, 2 * np.pi)
        if name in DIAGONALS:
            velocity, spin = rng.uniform(1.5, 2.5) * np.array(DIAGONALS[name]) / np.sqrt(2), 0.0
        else:
            velocity = rng.uniform(0.0, 0.6) * np.array([np.cos(drift_angle), np.sin(drift_angle)])
            spin = SPIN[name] * rng.uniform(np.radians(26), np.radians(40))
        info["spin_degrees_per_frame"] = round(float(np.degrees(spin)), 3)
    elif kind == "keyframe":
        sprite = _card(rng)
        angle0, spin = rng.uniform(-0.3, 0.3), 0.0
        velocity = rng.uniform(0.0, 1.2) * np.array([np.cos(drift_angle), np.sin(drift_angle)])
    else:
        size = int(rng.integers(6, 9))
        color = np.array([1.0, rng.uniform(0.85, 1.0), rng.uniform(0.55, 0.9)], dtype=np.float32)
        core = np.pad(disk_alpha(size), 1)[..., None]
        sprite = with_alpha(core * color + (1 - core) * 0.05, disk_alpha(size + 2))  # a bright head, a dark rim
        angle0, spin = 0.0, 0.0
        velocity = np.array([0.0, COMETS[name] * rng.uniform(2.0, 3.0)])
        info.update(color=color, tail=rng.uniform(14.0, 20.0))
    info["start"], info["velocity"] = [round(float(x0), 4), round(float(y0), 4)], [round(float(v), 4) for v in velocity]

    def pose(t: int) -> tuple[float, float, float]:
        return x0 + velocity[0] * t, y0 + velocity[1] * t, angle0 + spin * t

    return sprite, pose, info


def _subject(name: str, rng: np.random.Generator) -> np.ndarray:
    """The subject's photograph, cut with some jitter, at 18–24 pixels, in its class's outline."""
    photo, (x0, y0, x1, y1) = SUBJECTS[name]
    size = int(rng.integers(18, 25))
    bw, bh = (x1 - x0) * rng.uniform(0.85, 1.0), (y1 - y0) * rng.uniform(0.85, 1.0)
    left, top = rng.uniform(x0, x1 - bw), rng.uniform(y0, y1 - bh)
    rgb = crop_resized(photographs()[photo], (left, top, left + bw, top + bh), (size, size))
    if rng.random() < 0.5:
        rgb = rgb[:, ::-1]
    c = (size - 1) / 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    if name == "dahlia":
        alpha = disk_alpha(size)
    elif name == "portrait":  # an upright ellipse
        alpha = np.clip((1 - np.hypot((xs - c) / (0.4 * size), (ys - c) / (0.5 * size))) * size / 4, 0, 1)
    else:  # a rounded square
        alpha = np.clip((size / 2 - np.maximum(np.abs(xs - c), np.abs(ys - c))) * 1.5, 0, 1)
    return with_alpha(rgb, alpha)


def _wheel(rng: np.random.Generator) -> np.ndarray:
    """A disk of photo texture with a white rim and one dark spoke along its +x axis, 17–21 pixels across."""
    size = int(rng.integers(17, 22))
    rgb = _texture_crop(rng, (size, size), (2.0, 5.0)).copy()
    c = (size - 1) / 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    r = np.hypot(xs - c, ys - c)
    rgb[r >= size / 2 - 2.6] = 0.05  # a dark outer ring and a white inner one: seen on any background
    rgb[(r >= size / 2 - 1.8) & (r < size / 2 - 0.8)] = 1.0
    spoke = (xs >= c) & (r < size / 2 - 2.6)
    rgb[spoke & (np.abs(ys - c) <= 2.2)] = 0.05  # a white spoke edged in black: its angle shows on any texture
    rgb[spoke & (np.abs(ys - c) <= 1.0)] = 1.0
    return with_alpha(rgb, disk_alpha(size))


def _card(rng: np.random.Generator) -> np.ndarray:
    """A square of photo texture in a dark frame, 15–19 pixels."""
    size = int(rng.integers(15, 20))
    rgb = _texture_crop(rng, (size, size), (2.0, 5.0)).copy()
    rgb[:2], rgb[-2:], rgb[:, :2], rgb[:, -2:] = 0.08, 0.08, 0.08, 0.08
    return with_alpha(rgb, np.ones((size, size), dtype=np.float32))


def _streak(frame: np.ndarray, cx: float, cy: float, velocity: list[float], color: np.ndarray, tail: float,
            width: float, strength: float) -> None:
    """Blend a motion-blur streak behind a head at (cx, cy) moving with `velocity`: as long as `tail` pixels,
    about `width` wide, fading with distance from `strength` and narrowing, soft across (in place)."""
    dx, dy = torus_offsets(frame.shape[:2], cx, cy)
    ux, uy = np.array(velocity) / np.linalg.norm(velocity)
    behind = -(dx * ux + dy * uy)
    across = np.abs(dx * uy - dy * ux)
    fade = np.clip(1 - behind / tail, 0, 1) ** 0.7 * (behind > 0)
    alpha = (strength * fade * np.exp(-((across / (0.45 * width * (0.4 + 0.6 * fade) + 1e-6)) ** 2)))[..., None]
    frame *= 1 - alpha
    frame += alpha * color
