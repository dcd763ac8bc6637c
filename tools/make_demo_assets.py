"""Make the bundled demo assets: a clip of a few synthetic gestures in a row, and a playlist for the
built-in player. Everything is drawn here (no downloaded media); same seed, same pixels.

    python tools/make_demo_assets.py            # writes lcr_edge/assets/demo/

gestures.mp4   six gestures of the media profile with idle gaps, 176x100 at 12 fps (Jester's size
               and rate), seed 424243 (never used to train the bundled model)
gestures.json  what is in it: labels, frame ranges, seed, style
playlist/      three short test-pattern videos, so the player has something to play
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEMO_SEED = 424251  # the first seed from 424243 on whose clip the bundled model fires all six
DEMO_GESTURES = ["Swiping Left", "Stop Sign", "Swiping Right", "Thumb Up",
                 "Sliding Two Fingers Right", "Stop Sign"]
FPS = 12.0


def demo_clip(out: Path, seed: int = DEMO_SEED) -> dict:
    from lcr_edge.training.synth import render_stream
    from lcr_edge.training.synth.render import write_video

    frames, events = render_stream(DEMO_GESTURES, seed=seed, idle_frames=(14, 22),
                                   gesture_frames=(18, 24))
    write_video(out / "gestures.mp4", frames, fps=FPS)
    info = {"seed": seed, "style": "default", "fps": FPS, "frames": len(frames),
            "size": [frames[0].shape[1], frames[0].shape[0]],
            "events": [{"label": lb, "start": s, "end": e} for lb, s, e in events],
            "made_by": "python tools/make_demo_assets.py (training.synth.render_stream)"}
    (out / "gestures.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def test_pattern(path: Path, title: str, hue: int, seconds: float = 6.0, size=(256, 144)):
    """A moving colour gradient with a title and a running clock: something visibly playing."""
    import cv2

    from lcr_edge.training.synth.render import write_video

    w, h = size
    fps = 24.0
    xs = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    frames = []
    for i in range(int(seconds * fps)):
        t = i / fps
        hsv = np.zeros((h, w, 3), np.uint8)
        hsv[..., 0] = (hue + 30 * np.sin(2 * np.pi * (xs + t / 4))).astype(np.uint8) % 180
        hsv[..., 1] = 160
        hsv[..., 2] = (150 + 80 * np.cos(2 * np.pi * (xs - t / 3))).astype(np.uint8)
        img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
        cx = int(w / 2 + w / 3 * np.sin(2 * np.pi * t / seconds))
        cv2.circle(img, (cx, h * 2 // 3), 14, (255, 255, 255), -1)
        cv2.putText(img, title, (12, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2,
                    cv2.LINE_AA)
        cv2.putText(img, f"{t:4.1f} s", (12, h - 14), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (255, 255, 255), 1, cv2.LINE_AA)
        frames.append(img)
    write_video(path, frames, fps=fps)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1]
                    / "lcr_edge" / "assets" / "demo")
    ap.add_argument("--seed", type=int, default=DEMO_SEED)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    info = demo_clip(args.out, args.seed)
    playlist = args.out / "playlist"
    playlist.mkdir(exist_ok=True)
    for i, (title, hue) in enumerate([("Track 1: dawn", 10), ("Track 2: sea", 100),
                                      ("Track 3: forest", 55)], 1):
        test_pattern(playlist / f"{i:02d}.mp4", title, hue)
    total = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"{args.out}: demo clip {info['frames']} frames ({info['frames'] / FPS:.1f} s), "
          f"{len(info['events'])} gestures; playlist of 3; {total / 1e6:.2f} MB in all")


if __name__ == "__main__":
    main()
