"""Synthetic gestures: a procedural renderer of the 27 Jester classes (and a few extras), written
in the 20BN Jester layout by `lcr-edge synth`, so one loader serves real and synthetic data.

Public API:
- `render_clip(label, seed, frames=36, size=(176, 100), style=None, return_track=False)`
- `render_stream(labels, seed, idle_frames=(8, 20), ...) -> (frames, [(label, start, end)])`
- `write_video(path, frames, fps=12)`; `write_dataset(out, clips_per_class, ...)` (Jester layout)
- `Style`, `STYLES` ("default", "new-user"), `GESTURES` (27, Jester order), `EXTRA_GESTURES`
- `Pose`, `draw_hand`, `fingertips`, `hand_box` (the hand model), `ClipInfo` (a clip's pose track)

>>> frames = render_clip("Thumb Up", seed=3, frames=4, size=(64, 48))
>>> len(frames), frames[0].shape
(4, (48, 64, 3))
"""

from lcr_edge.training.synth.gestures import EXTRA_GESTURES, GESTURES, Ctx, Motion
from lcr_edge.training.synth.hand import Pose, draw_hand, fingertips, hand_box
from lcr_edge.training.synth.render import ClipInfo, render_clip, render_stream, write_video
from lcr_edge.training.synth.scene import STYLES, Scene, Style, get_style

__all__ = ["EXTRA_GESTURES", "GESTURES", "STYLES", "ClipInfo", "Ctx", "Motion", "Pose", "Scene",
           "Style", "draw_hand", "fingertips", "get_style", "hand_box", "render_clip", "render_stream",
           "write_video"]
