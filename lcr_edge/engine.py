"""The recognition engine without any GUI: recognizer + event rules, one call per frame.

Used by the app's worker thread and by `lcr-edge run` (lcr_edge.headless). The recognizer is
anything with the `lcr_edge.runtime.Recognizer` interface: `reset()`, `step(frame_bgr) ->
probs[K]`, `labels`, `frame_rate`, `metadata`, `timings` (ms per stage of the last step);
`lcr_edge.loader` opens one from an exported model folder.

>>> import numpy as np
>>> class Still:  # a recognizer that always says "No gesture"
...     labels, frame_rate, metadata, timings = ["Thumb Up", "No gesture"], 12.0, {}, {}
...     def reset(self): pass
...     def step(self, frame): return np.array([0.0, 1.0], np.float32)
>>> from lcr_edge.events import EventConfig
>>> eng = Engine(Still(), EventConfig())
>>> r = eng.step(np.zeros((48, 64, 3), np.uint8))
>>> r.top[0], r.events
(('No gesture', 1.0), [])
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from lcr_edge.edges import edge_map
from lcr_edge.events import Event, EventConfig, EventEngine
from lcr_edge.labels import JESTER_FPS


@dataclass
class StepResult:
    """What one model step produced; arrays are copies, safe to send to another thread."""

    frame_index: int
    t: float
    probs: np.ndarray  # [K] raw probabilities
    smoothed: np.ndarray  # [K] after the event engine's smoothing window
    top: list[tuple[str, float]]  # 5 best smoothed (label, score)
    events: list[Event]
    why: str  # why the current candidate did (not) fire
    timings: dict[str, float]  # ms: the recognizer's stages + "events" + "total"
    edges: np.ndarray | None = None  # HxW 0/1 uint8 edge map of the frame, when asked for
    extra: dict = field(default_factory=dict)


class Engine:
    def __init__(self, recognizer, events: EventConfig):
        self.recognizer = recognizer
        self.labels = list(recognizer.labels)
        self.frame_rate = float(getattr(recognizer, "frame_rate", JESTER_FPS) or JESTER_FPS)
        self.events = EventEngine(self.labels, events, self.frame_rate)
        self.steps = 0

    def set_events(self, events: EventConfig) -> None:
        """New rules (profile or threshold change): keeps the model state, restarts the rules."""
        self.events = EventEngine(self.labels, events, self.frame_rate)

    def reset(self) -> None:
        self.recognizer.reset()
        self.events.reset()

    def step(self, image: np.ndarray, t: float | None = None, frame_index: int = -1,
             want_edges: bool = False) -> StepResult:
        """One BGR frame (HxWx3 uint8) -> StepResult. A "reset" event resets the recognizer."""
        t0 = time.perf_counter()
        probs = np.array(self.recognizer.step(image), dtype=np.float32).reshape(-1)  # copy
        t1 = time.perf_counter()
        events = self.events.update(probs, t)
        if any(e.kind == "reset" for e in events):
            self.recognizer.reset()
        t2 = time.perf_counter()
        stages = getattr(self.recognizer, "timings", None) or {}
        timings = {k: float(v) for k, v in stages.items()}
        timings.setdefault("inference", (t1 - t0) * 1e3)
        timings["events"] = (t2 - t1) * 1e3
        timings["total"] = (t2 - t0) * 1e3
        self.steps += 1
        return StepResult(
            frame_index=frame_index if frame_index >= 0 else self.steps - 1,
            t=self.events._frame / self.frame_rate if t is None else float(t),
            probs=probs, smoothed=self.events.smoothed.copy(), top=self.events.top(5),
            events=events, why=self.events.why, timings=timings,
            edges=edge_map(image) if want_edges else None)

