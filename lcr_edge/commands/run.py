"""`lcr-edge run`: the app's pipeline without a window. Events and actions as lines (JSON lines
with --json), optionally an annotated video. A file is processed frame by frame at the model
rate (nothing dropped, same result every time); a camera runs live, latest frame only."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import typer


def headless_handlers(dry_run: bool) -> dict:
    """Action handlers without a window: keys through xdotool, MPRIS over D-Bus, no player."""
    from lcr_edge.actions import ACTION_KINDS, xdotool_keys
    from lcr_edge.errors import LCRError

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


class _VideoOut:
    """Annotated frames -> a video file, written beside the target and renamed at the end."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps, self.writer = Path(path), fps, None
        self.tmp = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self.size: tuple[int, int] | None = None
        self.frames = 0

    def write(self, image) -> None:
        import cv2

        from lcr_edge.errors import LCRError

        if self.writer is None:
            fourcc = "mp4v" if self.path.suffix.lower() in (".mp4", ".m4v", ".mov") else "MJPG"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            h, w = image.shape[:2]
            self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*fourcc),
                                          self.fps, (w, h))
            if not self.writer.isOpened():
                raise LCRError(f"{self.path}: cannot write a video here (use .mp4 or .avi)")
            self.size = (w, h)
        if image.shape[1::-1] != self.size:  # a writer silently drops frames of another size
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self.writer.write(image)
        self.frames += 1

    def close(self, ok: bool) -> None:
        """Publish the video if it holds every frame written; say so when it does not."""
        import cv2

        from lcr_edge.errors import LCRError

        problem = None
        if self.writer is not None:
            self.writer.release()
            if ok:
                cap = cv2.VideoCapture(str(self.tmp))
                got = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
                cap.release()
                if got < self.frames:  # a full disk or a file-size limit cut it short
                    problem = (f"{self.path}: the video holds {got} of {self.frames} frames (disk "
                               f"full or a file-size limit?); not written")
                else:
                    os.replace(self.tmp, self.path)
        if self.tmp.exists():
            self.tmp.unlink()
        if problem:
            raise LCRError(problem)


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        source: str = typer.Option(None, "--source", "-s",
                                   help="Camera index (0), video file, folder of frames or demo "
                                        "[default: the first camera, else the bundled demo clip]."),
        list_cameras: bool = typer.Option(False, "--list-cameras",
                                          help="List the cameras present and exit."),
        model: Path = typer.Option(None, "--model", "-m",
                                   help="Exported model folder [default: $LCR_EDGE_MODEL, else "
                                        "the bundled LCR-S INT8]."),
        profile: str = typer.Option("media", "--profile", "-p",
                                    help="Profile name (media, mpris) or path to a .toml file."),
        backend: str = typer.Option("openvino", help="openvino, onnxruntime or torch."),
        threads: int = typer.Option(None, help="Inference threads (default: the backend's).", min=1),
        horizon: int = typer.Option(None, help="Restart the model's state every N frames in two "
                                    "staggered lanes; 0 = never [default: the model's training "
                                    "clip length, from model.json].", min=0),
        as_json: bool = typer.Option(False, "--json", help="Print JSON lines."),
        out: Path = typer.Option(None, "--out", help="Write an annotated video (.mp4 or .avi)."),
        dry_run: bool = typer.Option(False, "--dry-run",
                                     help="Report the actions without running them."),
        seconds: float = typer.Option(None, help="Stop after this many seconds of video."),
    ):
        """Recognise gestures from a source without a window; print events and actions."""
        from lcr_edge import engine as engine_mod
        from lcr_edge.actions import ActionRunner, load_profile
        from lcr_edge.annotate import annotate
        from lcr_edge.errors import LCRError
        from lcr_edge.sources import LatestFrameReader, iter_frames, open_source
        from lcr_edge.sources import list_cameras as find_cameras

        if list_cameras:
            cams = find_cameras()
            if as_json:
                typer.echo(json.dumps([{"index": i, "name": n} for i, n in cams]))
            else:
                typer.echo("\n".join(f"{i}: {n}" for i, n in cams) or "no cameras found")
            return
        if source is None:
            source, notice = engine_mod.default_source()
            if notice:
                typer.echo(json.dumps({"type": "status", "message": notice, "error": False})
                           if as_json else notice, err=not as_json)
        src = open_source(source)
        recognizer = engine_mod.load_recognizer(model, backend, threads, horizon)
        prof = load_profile(profile, labels=recognizer.labels)
        if prof.warning():
            typer.echo(json.dumps({"type": "status", "message": prof.warning(), "error": False})
                       if as_json else f"warning: {prof.warning()}", err=not as_json)
        engine = engine_mod.Engine(recognizer, prof.events)
        runner = ActionRunner(prof, headless_handlers(dry_run))
        video = _VideoOut(out, engine.frame_rate) if out else None

        def emit(obj: dict, text: str) -> None:
            typer.echo(json.dumps(obj) if as_json else text)

        if src.live:
            def on_status(text: str, error: bool) -> None:
                obj = {"type": "status", "message": text, "error": error}
                typer.echo(json.dumps(obj) if as_json else text, err=not as_json)

            reader = LatestFrameReader(src, engine.frame_rate, on_status=on_status)
            reader.start()

            def frames():
                while not reader.finished:
                    f = reader.take(timeout=0.5)
                    if f is not None:
                        yield f
        else:
            reader = None
            frames = lambda: iter_frames(src, engine.frame_rate)  # noqa: E731

        n_frames = n_events = n_actions = 0
        step_ms = 0.0
        banner, banner_until = None, -1.0
        started = time.perf_counter()
        ok = False
        try:
            for frame in frames():
                if seconds is not None and frame.t > seconds:
                    break
                result = engine.step(frame.image, frame.t, frame.index)
                n_frames += 1
                step_ms += result.timings.get("total", 0.0)
                for ev in result.events:
                    n_events += 1
                    emit(ev.to_dict(), f"{ev.t:8.2f} s  frame {ev.frame:5d}  {ev.kind:6s} "
                                       f"{ev.gesture or '(reset model state)'}  {ev.score:.2f}")
                    if ev.kind in ("single", "hold"):
                        banner, banner_until = f"{ev.gesture}", frame.t + 1.0
                    for res in runner.handle(ev):
                        n_actions += 1
                        emit(res.to_dict(), f"{'':10s}-> {res.action}  "
                                            f"{'ok' if res.ok else 'not run'}: {res.message}")
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
                   "out": str(out) if out else None}
        if as_json:
            typer.echo(json.dumps(summary))
        else:
            typer.echo(f"{n_frames} frames, {n_events} events, {n_actions} actions; "
                       f"{summary['mean_step_ms']} ms per step"
                       + (f"; wrote {out}" if out else ""), err=True)
        if reader is not None and reader.error:  # the source failed for good (a camera gone)
            raise LCRError(reader.error)
        short = getattr(src, "shortfall", lambda: None)()
        if short and not seconds:  # a file that ends early is said, not taken as its whole
            raise LCRError(short)
