"""The app's pipeline without a window (`lcr-edge run`): frames from a source through the engine,
its events through the profile's actions, optionally into an annotated video.

A file is processed frame by frame at the model rate (nothing dropped, same result every time); a
camera runs live, latest frame only. Everything the run has to say is a `Line`, handed to `emit`
as it happens: a record (what --json prints: a status, an event, an action, the summary at the
end) and the same as a text for a person.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lcr_edge import loader
from lcr_edge.actions import ACTION_KINDS, ActionRunner, profile_for, xdotool_keys
from lcr_edge.annotate import annotate
from lcr_edge.engine import Engine
from lcr_edge.errors import LCRError
from lcr_edge.io import VideoOut
from lcr_edge.sources import Frame, LatestFrameReader, default_source, iter_frames, open_source


@dataclass
class HeadlessConfig:
    source: str | None = None  # camera index, video file, folder of frames or "demo"; None: the
    # first camera, else the bundled demo clip
    model: Path | None = None  # exported model folder; None: $LCR_EDGE_MODEL, else the bundled one
    profile: str = "media"  # profile name or .toml path
    backend: str = "openvino"
    threads: int | None = None  # inference threads (None: the backend's)
    horizon: int | None = None  # restart the model's state every N frames (None: model.json's)
    out: Path | None = None  # write an annotated video (.mp4 or .avi)
    dry_run: bool = False  # report the actions without running them
    seconds: float | None = None  # stop after this many seconds of video


@dataclass(frozen=True)
class Line:
    record: dict  # record["type"]: "status", "event", "action" or "summary"
    text: str


def status_line(message: str, error: bool = False, text: str | None = None) -> Line:
    return Line({"type": "status", "message": message, "error": error},
                message if text is None else text)


def headless_handlers(dry_run: bool) -> dict:
    """Action handlers without a window: keys through xdotool, MPRIS over D-Bus, no player."""
    if dry_run:
        return {kind: (lambda arg: "dry run: not executed") for kind in ACTION_KINDS}

    told = []

    def player(cmd: str) -> str:
        if told:  # the whole story once; a demo clip fires half a dozen player actions
            raise LCRError("app window only (see above)")
        told.append(True)
        raise LCRError("the built-in player exists only in the app window (lcr-edge app); "
                       "use the mpris profile to drive another player")

    def mpris(arg: str) -> str:
        from lcr_edge.mpris import mpris_call

        return mpris_call(arg)

    return {"player": player, "key": xdotool_keys, "mpris": mpris}


def live_frames(reader: LatestFrameReader) -> Iterator[Frame]:
    """The newest due frame of a running capture thread, each once, until the source ends."""
    while not reader.finished:
        frame = reader.take(timeout=0.5)
        if frame is not None:
            yield frame


def run_headless(cfg: HeadlessConfig, emit: Callable[[Line], None]) -> dict:
    """Run to the end of the source (or cfg.seconds); -> the summary, also emitted last. A camera's
    statuses are emitted from its capture thread. Raises LCRError after the summary when the
    camera failed for good or the file ended before its header said."""
    source = cfg.source
    if source is None:
        source, notice = default_source()
        if notice:
            emit(status_line(notice))
    src = open_source(source)
    recognizer = loader.load_recognizer(cfg.model, cfg.backend, cfg.threads, cfg.horizon)
    profile = profile_for(recognizer, cfg.profile)
    if profile.warning():
        emit(status_line(profile.warning(), text=f"warning: {profile.warning()}"))
    engine = Engine(recognizer, profile.events)
    runner = ActionRunner(profile, headless_handlers(cfg.dry_run))
    video = VideoOut(cfg.out, engine.frame_rate) if cfg.out else None
    reader = None
    if src.live:
        reader = LatestFrameReader(src, engine.frame_rate,
                                   on_status=lambda text, error: emit(status_line(text, error)))
        frames = live_frames(reader.start())
    else:
        frames = iter_frames(src, engine.frame_rate)

    n_frames = n_events = n_actions = 0
    step_ms = 0.0
    banner, banner_until = None, -1.0
    started = time.perf_counter()
    ok = False
    try:
        for frame in frames:
            if cfg.seconds is not None and frame.t > cfg.seconds:
                break
            result = engine.step(frame.image, frame.t, frame.index)
            n_frames += 1
            step_ms += result.timings.get("total", 0.0)
            for ev in result.events:
                n_events += 1
                emit(Line(ev.to_dict(), f"{ev.t:8.2f} s  frame {ev.frame:5d}  {ev.kind:6s} "
                                        f"{ev.gesture or '(reset model state)'}  {ev.score:.2f}"))
                if ev.kind in ("single", "hold"):
                    banner, banner_until = f"{ev.gesture}", frame.t + 1.0
                for res in runner.handle(ev):
                    n_actions += 1
                    emit(Line(res.to_dict(), f"{'':10s}-> {res.action}  "
                                             f"{'ok' if res.ok else 'not run'}: {res.message}"))
            if video is not None:
                video.write(annotate(frame.image, result.top,
                                     banner if frame.t <= banner_until else None, frame.t))
        ok = True
    finally:
        if reader is not None:
            reader.stop()
        if video is not None:
            video.close(ok)
    wall = time.perf_counter() - started
    summary = {"type": "summary", "source": src.name, "frames": n_frames,
               "events": n_events, "actions": n_actions,
               "dropped": reader.dropped if reader else 0,
               "mean_step_ms": round(step_ms / max(n_frames, 1), 2),
               "model_fps": round(n_frames / wall, 1) if wall > 0 else 0.0,
               "frame_rate": engine.frame_rate, "out": str(cfg.out) if cfg.out else None}
    # frames the model ran, at its own rate (a 12 fps file gives a 3 fps model every 4th)
    emit(Line(summary, f"{n_frames} frames at the model's {engine.frame_rate:g} fps, "
                       f"{n_events} events, {n_actions} actions; "
                       f"{summary['mean_step_ms']} ms per step"
                       + (f"; wrote {cfg.out}" if cfg.out else "")))
    if reader is not None and reader.error:  # the source failed for good (a camera gone)
        raise LCRError(reader.error)
    short = getattr(src, "shortfall", lambda: None)()
    if short and not cfg.seconds:  # a file that ends early is said, not taken as its whole
        raise LCRError(short)
    return summary
