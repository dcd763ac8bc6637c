"""Event-level evaluation on long synthetic streams: the number users feel.

A stream is one rendered recording (`training.synth.render_stream`, 12 fps) of gestures with idle
gaps between them, some of them "Doing other things" or "No gesture" (which must fire nothing). The
model runs frame by frame with its state carried, at the frame rate it was trained at; the event
rules of a profile (`lcr_edge.events`) turn its probabilities into events, exactly as in the app.

* event accuracy = 1 - (edit distance between the fired gesture sequence and the true one)
  / (number of true gestures), floored at 0: a missed gesture, a wrong one and an extra one each
  cost one.
* false fires per idle minute: fired events outside every gesture's window (its frames plus a
  `tolerance_s` grace after it) divided by the minutes of stream outside those windows.
* latency: from the end of a gesture's motion to its (correctly labelled) event.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lcr_edge.errors import LCRError
from lcr_edge.events import EventConfig, fire_events
from lcr_edge.labels import IDLE_LABELS, JESTER_FPS

SOURCE_FPS = JESTER_FPS  # render_stream draws at Jester's rate


def edit_distance(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


class StreamModel:
    """Per-frame probabilities from a checkpoint (torch) or an exported folder (Recognizer)."""

    def __init__(self, path: str | Path, backend: str = "openvino", horizon: int | None = None):
        from lcr_edge.loader import load_recognizer

        path = Path(path)
        if not path.is_dir():
            backend = "torch"  # a checkpoint: FP32 in PyTorch, with the same horizon lanes
        self._rec = load_recognizer(path, backend, horizon=horizon)
        self.horizon = self._rec.horizon
        self.metadata = self._rec.metadata
        self.labels, self.frame_rate = list(self._rec.labels), float(self._rec.frame_rate)
        self._step, self.reset = self._rec.step, self._rec.reset

    def run(self, frames: list[np.ndarray], source_fps: float = SOURCE_FPS):
        """-> (probabilities [T', K], source frame index of each model frame)."""
        every = source_fps / self.frame_rate
        idx = np.unique(np.round(np.arange(0, len(frames), every)).astype(int))
        idx = idx[idx < len(frames)]
        self.reset()
        return np.stack([self._step(frames[i]) for i in idx]), idx


@dataclass
class StreamResult:
    truth: list[str]
    fired: list[str]
    false_fires: int
    idle_minutes: float
    latencies_s: list[float]
    longest_idle_s: float = 0.0  # the longest stretch outside every gesture's window


def score_stream(truth_events, fired, frame_index, n_frames: int, tolerance_s: float = 1.5,
                 source_fps: float = SOURCE_FPS) -> StreamResult:
    """truth_events: (label, start, end) in source frames; fired: events from `fire_events`."""
    gestures = [(lb, s, e) for lb, s, e in truth_events if lb not in IDLE_LABELS]
    tol = int(round(tolerance_s * source_fps))
    in_window = np.zeros(n_frames, bool)
    for _, s, e in gestures:
        in_window[s:min(n_frames, e + tol)] = True
    singles = [ev for ev in fired if ev.kind == "single"]
    false_fires = sum(not in_window[frame_index[ev.frame]] for ev in singles)
    latencies = []
    for ev in singles:
        f = frame_index[ev.frame]
        for lb, s, e in gestures:
            if lb == ev.gesture and s <= f < e + tol:
                latencies.append((f - e) / source_fps)
                break
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, (~in_window).astype(np.int8), 0]) != 0))[::2]
    return StreamResult([lb for lb, _, _ in gestures], [ev.gesture for ev in singles], false_fires,
                        float((~in_window).sum()) / source_fps / 60.0, latencies,
                        float(runs.max()) / source_fps if len(runs) else 0.0)


@dataclass
class RunStream:
    """One rendered stream and what the model answered on it: enough to score any event rules."""

    truth: list[tuple[str, int, int]]
    probs: np.ndarray  # [model frames, classes]
    index: np.ndarray  # source frame of each model frame
    frames: int


def run_streams(model: StreamModel, streams: int = 4, gestures: int = 10, seed: int = 1000,
                style: str | None = None, idle_frames=(10, 24), other_fraction: float = 0.2,
                progress=None, long_idle: float = 0.0,
                long_idle_frames: tuple[int, int] = (360, 480)) -> list[RunStream]:
    """Render `streams` streams of `gestures` gestures each and run the model over each from a
    fresh state. long_idle: the chance that a gap is a long idle stretch of long_idle_frames (30-40
    s at 12 fps) instead of idle_frames, where nothing may fire."""
    from lcr_edge.training.synth import render_stream
    from lcr_edge.training.synth.dataset import draw_gaps

    pool = [lb for lb in model.labels if lb not in IDLE_LABELS]
    if not pool:
        raise LCRError("the model has no gesture classes besides idle ones")
    rng = np.random.default_rng(seed)
    out = []
    for k in range(streams):
        labels = []
        for _ in range(gestures):
            if "Doing other things" in model.labels and rng.random() < other_fraction:
                labels.append("Doing other things")  # a distractor that must fire nothing
            labels.append(str(rng.choice(pool)))
        gaps = None
        if long_idle > 0:  # drawn apart from `rng`: long_idle = 0 renders the streams it always did
            gaps = draw_gaps(np.random.default_rng([seed, k, 1]), len(labels) + 1, idle_frames,
                             long_idle, long_idle_frames)
        frames, truth = render_stream(labels, seed=seed + k, idle_frames=idle_frames, style=style,
                                      gaps=gaps)
        probs, idx = model.run(frames)
        out.append(RunStream(truth, probs, idx, len(frames)))
        if progress is not None:
            progress.update(1)
    return out


def score_runs(model: StreamModel, runs: list[RunStream], events: EventConfig) -> list[StreamResult]:
    """The streams scored under one set of event rules."""
    return [score_stream(r.truth, fire_events(model.labels, r.probs, events, model.frame_rate),
                         r.index, r.frames) for r in runs]


def evaluate_streams(model_path, profile: str = "media", streams: int = 4, gestures: int = 10,
                     seed: int = 1000, style: str | None = None, backend: str = "openvino",
                     idle_frames=(10, 24), other_fraction: float = 0.2, progress=None,
                     horizon: int | None = None, long_idle: float = 0.0,
                     long_idle_frames: tuple[int, int] = (360, 480)) -> dict:
    """Event accuracy, false fires per idle minute and latency over `streams` rendered streams of
    `gestures` gestures each (see `run_streams`), under the rules `lcr-edge run --profile
    PROFILE` uses for this model (`actions.profile_for`)."""
    from lcr_edge.actions import profile_for

    model = StreamModel(model_path, backend, horizon)
    events = profile_for(model, profile).events
    runs = run_streams(model, streams, gestures, seed, style, idle_frames, other_fraction,
                       progress, long_idle, long_idle_frames)
    results = score_runs(model, runs, events)
    return {"streams": streams, **summarize(results), "model_frame_rate": model.frame_rate,
            "horizon": model.horizon, "seed": seed, "style": style or "default",
            "per_stream": [{"truth": r.truth, "fired": r.fired, "false_fires": r.false_fires}
                           for r in results]}


def summarize(results: list[StreamResult]) -> dict:
    """The figures of a set of scored streams: event accuracy, false fires, latency."""
    n_truth = sum(len(r.truth) for r in results)
    dist = sum(edit_distance(r.fired, r.truth) for r in results)
    idle_min = sum(r.idle_minutes for r in results)
    false = sum(r.false_fires for r in results)
    lat = [x for r in results for x in r.latencies_s]
    return {
        "true_gestures": n_truth, "fired": sum(len(r.fired) for r in results),
        "edit_distance": dist, "event_accuracy": max(0.0, 1.0 - dist / max(1, n_truth)),
        "false_fires": false, "idle_minutes": round(idle_min, 3),
        "false_fires_per_idle_minute": false / max(idle_min, 1e-9),
        "median_latency_s": float(np.median(lat)) if lat else None,
        "p90_latency_s": float(np.percentile(lat, 90)) if lat else None,
        "longest_idle_s": max((r.longest_idle_s for r in results), default=0.0),
    }
